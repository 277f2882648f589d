"""Key matching between a source and a target collection.

Records are paired by a normalised key. The outcome is a value, never an exception: pairs that
match one-to-one, sources without a target, targets without a source, and ambiguous keys (a key
held by more than one record on either side), which must go to a person and never be guessed.
The result is sorted by key, so it does not depend on the order the systems returned records in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Ambiguous", "MatchResult", "match", "normalise_email_key", "normalise_key"]

S = TypeVar("S")
T = TypeVar("T")


def normalise_key(value: object) -> str:
    """Keys compare as trimmed text: SmartDok project numbers may carry trailing spaces."""
    return str(value).strip() if value is not None else ""


def normalise_email_key(value: object) -> str:
    """E-mail addresses compare trimmed and case-insensitive."""
    return normalise_key(value).casefold()


@dataclass(frozen=True, slots=True)
class Ambiguous(Generic[S, T]):
    """A key that more than one record holds on one side or the other."""

    key: str
    sources: tuple[S, ...]
    targets: tuple[T, ...]

    @property
    def reason(self) -> str:
        if len(self.sources) > 1:
            return f"{len(self.sources)} source records share key {self.key!r}"
        return f"key {self.key!r} matches {len(self.targets)} records in the target"


@dataclass(frozen=True, slots=True)
class MatchResult(Generic[S, T]):
    matched: tuple[tuple[str, S, T], ...]
    unmatched_source: tuple[tuple[str, S], ...]
    unmatched_target: tuple[tuple[str, T], ...]
    ambiguous: tuple[Ambiguous[S, T], ...]


def match(
    sources: Iterable[S],
    targets: Iterable[T],
    *,
    source_key: Callable[[S], object],
    target_key: Callable[[T], object],
    normalise: Callable[[object], str] = normalise_key,
) -> MatchResult[S, T]:
    """Pair ``sources`` with ``targets`` by normalised key. Records with an empty key are
    unmatched. Each key is paired at most once."""
    by_source: dict[str, list[S]] = defaultdict(list)
    by_target: dict[str, list[T]] = defaultdict(list)
    for source in sources:
        by_source[normalise(source_key(source))].append(source)
    for target in targets:
        by_target[normalise(target_key(target))].append(target)

    matched: list[tuple[str, S, T]] = []
    unmatched_source: list[tuple[str, S]] = []
    unmatched_target: list[tuple[str, T]] = []
    ambiguous: list[Ambiguous[S, T]] = []
    for key in sorted(by_source.keys() | by_target.keys()):
        found_sources, found_targets = by_source.get(key, []), by_target.get(key, [])
        if key == "":
            unmatched_source += [(key, s) for s in found_sources]
            unmatched_target += [(key, t) for t in found_targets]
        elif len(found_sources) > 1 or len(found_targets) > 1:
            ambiguous.append(Ambiguous(key, tuple(found_sources), tuple(found_targets)))
        elif found_sources and found_targets:
            matched.append((key, found_sources[0], found_targets[0]))
        elif found_sources:
            unmatched_source.append((key, found_sources[0]))
        else:
            unmatched_target.append((key, found_targets[0]))
    return MatchResult(
        tuple(matched), tuple(unmatched_source), tuple(unmatched_target), tuple(ambiguous)
    )
