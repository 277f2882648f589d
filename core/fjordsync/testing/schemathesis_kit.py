"""schemathesis against a sandbox, with its vendor's own OpenAPI document (as
``fjordsync.testing.openapi.vendor_document`` corrects it): what every plugin's test of its
sandbox shares.

``sandbox_schema(document, served, max_examples=...)`` is the document's operations the sandbox
serves, drawn valid and, negatively, as the document forbids them; ``keeps_the_document(schema)``
makes a test of each, and ``checks()`` is what every answer must pass (never a server error, a
status and a content type the document lists, its schema fitted, a forbidden request refused).
``known_record(case, param, known)`` names a record that exists in half the valid requests.

schemathesis is not a dependency of ``fjordsync[testing]``: a plugin's tests need it installed
(the project's dev group has it), and it is imported only where it is used.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings

__all__ = ["checks", "keeps_the_document", "known_record", "sandbox_schema"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def checks() -> list[Callable[..., Any]]:
    """What every answer must pass: never a server error, a status and a content type the
    document lists, its schema fitted, and a request the document forbids refused."""
    from schemathesis.checks import not_a_server_error  # a dev dependency (see the module)
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        negative_data_rejection,
    ]


def sandbox_schema(document: dict[str, Any], served: Sequence[str], *, max_examples: int) -> Any:
    """The operations ``served`` (``"GET /path"``) of ``document``, drawn in both modes, some
    ``max_examples`` requests an operation (bounded, so a module takes seconds, not hours)."""
    import schemathesis  # a dev dependency (see the module)
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_dict(document).include(name=list(served))
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=max_examples,
        # The session is the test's (a valid token on every request): a drawn or removed
        # Authorization header would be replaced by it, so schemathesis draws none.
        with_security_parameters=False,
    )
    # The coverage phase would send every boundary value of every parameter (thousands of
    # requests for AlexisHR's filters): bounded fuzzing in both modes finds the same classes in
    # seconds.
    schema.config.phases.coverage.enabled = False
    return schema


def keeps_the_document(schema: Any) -> Callable[[F], F]:
    """A test of every operation of ``schema`` (``schema.parametrize()``), with the settings
    every sandbox's test shares."""
    fuzzed = settings(
        # The bound of ``sandbox_schema``, stated again here: hypothesis' own profile (400
        # examples under HYPOTHESIS_PROFILE=ci) would otherwise win and take many minutes.
        max_examples=schema.config.generation.max_examples,
        derandomize=True,  # the same requests every run: a failure can be repeated
        deadline=None,  # shared cores: a slow answer is not a defect; the request timeout bounds it
        # One sandbox an operation (a function-scoped fixture), on purpose: its examples may
        # build on one another.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
        ],
    )

    def decorate(test: F) -> F:
        parametrized: F = schema.parametrize()(fuzzed(test))
        return parametrized

    return decorate


def known_record(case: Any, param: str, known: Callable[[], Sequence[T]]) -> T | None:
    """For half the valid requests with path parameters: one of ``known()`` (the records the
    sandbox holds), chosen by the drawn ``param`` (a random id never names a record), so that
    reads and updates of real records are checked too. None for the rest, and when none is
    known."""
    if not case.path_parameters or case.meta is None or case.meta.generation.mode.is_negative:
        return None
    candidates = known()
    drawn = str(case.path_parameters.get(param))
    if candidates and zlib.crc32(drawn.encode()) % 2 == 0:
        return candidates[zlib.crc32(drawn.encode()) % len(candidates)]
    return None
