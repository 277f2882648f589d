"""The runnable examples run and do what they say."""

import subprocess
import sys

from .conftest import ROOT


def test_embedding_example_converges_and_reports_the_bad_record():
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "embed.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    invalid = "  invalid 1003: mail: is not a valid e-mail address"
    assert result.stdout.splitlines() == [
        invalid,
        "first pass: {'create': 2, 'invalid': 1}",
        invalid,
        "second pass: {'update': 1, 'unchanged': 1, 'invalid': 1}",
        invalid,
        "third pass: {'unchanged': 2, 'invalid': 1}",
        "writes: 3",
    ]
