"""Matching pairs keys one-to-one, independent of the order records arrive in."""

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from fjordsync.domain.matching import match, normalise_email_key
from fjordsync.testing.strategies import record_sets


def run(sources, targets):
    return match(sources, targets, source_key=lambda r: r.key, target_key=lambda r: r.key)


def summary(result):
    """The result as order-free data: which keys went where, and with which records."""
    return (
        [(k, repr(s), repr(t)) for k, s, t in result.matched],
        sorted((k, repr(s)) for k, s in result.unmatched_source),
        sorted((k, repr(t)) for k, t in result.unmatched_target),
        [
            (a.key, sorted(map(repr, a.sources)), sorted(map(repr, a.targets)))
            for a in result.ambiguous
        ],
    )


@given(record_sets(), record_sets(), st.randoms(use_true_random=False))
def test_matching_does_not_depend_on_input_order(sources, targets, rnd):
    shuffled_sources, shuffled_targets = sources[:], targets[:]
    rnd.shuffle(shuffled_sources)
    rnd.shuffle(shuffled_targets)
    assert summary(run(sources, targets)) == summary(run(shuffled_sources, shuffled_targets))


@given(record_sets(), record_sets())
def test_no_key_is_paired_twice_and_every_record_is_accounted_for(sources, targets):
    result = run(sources, targets)
    matched_keys = [k for k, _, _ in result.matched]
    assert len(matched_keys) == len(set(matched_keys))
    ambiguous_keys = {a.key for a in result.ambiguous}
    assert not ambiguous_keys & set(matched_keys)
    placed_sources = (
        len(result.matched)
        + len(result.unmatched_source)
        + sum(len(a.sources) for a in result.ambiguous)
    )
    placed_targets = (
        len(result.matched)
        + len(result.unmatched_target)
        + sum(len(a.targets) for a in result.ambiguous)
    )
    assert (placed_sources, placed_targets) == (len(sources), len(targets))


@given(record_sets(), record_sets())
def test_a_key_held_twice_on_either_side_is_ambiguous(sources, targets):
    result = run(sources, targets)
    counts_s = Counter(r.key.strip() for r in sources)
    counts_t = Counter(r.key.strip() for r in targets)
    expected = {k for k in counts_s | counts_t if counts_s[k] > 1 or counts_t[k] > 1}
    assert {a.key for a in result.ambiguous} == expected


def test_keys_are_trimmed_and_emails_case_insensitive():
    result = match([" 1001 "], ["1001"], source_key=str, target_key=str)
    assert [(k, s, t) for k, s, t in result.matched] == [("1001", " 1001 ", "1001")]
    result = match(
        ["Kari@Firma.no"],
        ["kari@firma.no "],
        source_key=str,
        target_key=str,
        normalise=normalise_email_key,
    )
    assert len(result.matched) == 1 and not result.unmatched_source


def test_ambiguous_reason_names_the_key():
    result = match(["7"], ["7", "7 "], source_key=str, target_key=str)
    assert result.ambiguous[0].reason == "key '7' matches 2 records in the target"
