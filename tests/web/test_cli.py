"""``fjordsync web`` and ``fjordsync web-user`` as a person types them: the line to paste, the
refusals, and the one line a missing extra or a missing config gets (exit 2, no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

from fjordsync.web import auth
from tests.web.conftest import fjordsync

ENV = {**os.environ, "COLUMNS": "200"}


def test_web_user_prints_the_line_to_paste_and_it_verifies():
    made = fjordsync("web-user", "kari.nordmann@acme.no", env=ENV, stdin="a phrase to log in\n" * 2)
    assert made.returncode == 0, made.stderr
    assert "Paste this line under [web_users] in the secrets file:" in made.stderr
    ((name, hashed),) = tomllib.loads(made.stdout).items()
    assert name == "kari.nordmann@acme.no"
    assert hashed.startswith("$argon2id$")
    assert auth.verify_login({name: hashed}, name, "a phrase to log in")
    assert "a phrase to log in" not in made.stdout


def test_web_user_refuses_a_short_password_and_a_name_that_is_no_key():
    short = fjordsync("web-user", "kari", env=ENV, stdin="short\nshort\n")
    assert (short.returncode, short.stdout) == (2, "")
    assert short.stderr.endswith("error: web-user: a password needs 12 characters or more\n")
    spaced = fjordsync("web-user", "kari nordmann", env=ENV)
    assert (spaced.returncode, spaced.stdout) == (2, "")
    assert spaced.stderr == (
        "error: web-user: 'kari nordmann' cannot be a user name "
        "(letters, digits and . _ @ - only, up to 64)\n"
    )


def test_web_without_its_extra_says_what_to_install():
    code = (
        "import sys; sys.modules['uvicorn'] = None\n"
        "sys.argv = ['fjordsync', 'web', '--config', 'fjordsync.toml']\n"
        "from fjordsync.cli import main; main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=60
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "error: fjordsync web needs its extra: pip install 'fjordsync[web]' (missing: uvicorn)\n"
    )


def test_web_with_a_config_that_is_not_there_is_one_line(tmp_path):
    missing = tmp_path / "nope.toml"
    done = fjordsync("web", "--config", str(missing), env=ENV)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"error: {missing}: the file does not exist\n"
