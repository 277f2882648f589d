"""Who may use ``fjordsync web``: passwords checked against the secrets file's ``[web_users]``
argon2 hashes, the session in a signed cookie, a CSRF token per session, and a little rate
limiting of logins.

- A failed login says only "wrong user name or password": which of the two was wrong is not
  told, and an unknown user costs one argon2 verification like a known one (against a hash made
  at start), so the time taken does not tell either.
- The session cookie is Starlette's ``SessionMiddleware`` (signed with itsdangerous, HttpOnly,
  SameSite=Strict, Secure unless ``[web] secure_cookies = false``). It holds the user name, the
  CSRF token and when the login was, never a password or a hash.
- The signing key is ``[web] session_secret``, else a key file made once (32 random bytes,
  0600) beside the ledger's fingerprint key, else in the user's state directory.
- Every POST carries the session's CSRF token (a hidden form field or the ``X-CSRF-Token``
  header htmx sends) and is refused with 403 when it is missing or differs
  (``hmac.compare_digest``).
- Logins are limited per user name and per client address: after ``MAX_FAILURES`` failures
  within ``WINDOW_S`` seconds, further tries are refused with 429 until the window has passed.
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from fjordsync import logs
from fjordsync.errors import FjordsyncError

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "MAX_FAILURES",
    "SESSION_KEY_FILE",
    "WINDOW_S",
    "LoginLimiter",
    "csrf_ok",
    "hash_password",
    "new_csrf_token",
    "session_secret",
    "verify_login",
]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_KEY_FILE = "fjordsync-web-session.key"
MAX_FAILURES = 5
WINDOW_S = 300.0

_hasher = PasswordHasher()
# Verified against when the user is unknown, so an unknown name takes as long as a wrong
# password. Made at import from random bytes nobody knows.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` for the secrets file's ``[web_users]`` table."""
    return _hasher.hash(password)


def verify_login(users: Mapping[str, str], user: str, password: str) -> bool:
    """Whether ``password`` is ``user``'s. A hash in the secrets file that is not an argon2
    hash fails the login (and is logged by user name, never by value)."""
    stored = users.get(user)
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except VerifyMismatchError:
        return False
    except (InvalidHashError, VerificationError):
        import logging

        logging.getLogger(__name__).warning(
            "web user %r: its [web_users] entry is not an argon2 hash", user
        )
        return False


class LoginLimiter:
    """Failed logins per user name and per client address in a sliding window (in memory: one
    process serves the web view)."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        stamps = self._failures.setdefault(key, deque())
        horizon = self.clock() - self.window_s
        while stamps and stamps[0] < horizon:
            stamps.popleft()
        return stamps

    def retry_after(self, user: str, address: str) -> int:
        """Seconds until ``user`` from ``address`` may try again; 0 when now."""
        waits = [
            stamps[0] + self.window_s - self.clock()
            for stamps in (self._recent(f"user:{user}"), self._recent(f"addr:{address}"))
            if len(stamps) >= self.max_failures
        ]
        return max(1, int(max(waits)) + 1) if waits else 0

    def failed(self, user: str, address: str) -> None:
        now = self.clock()
        for key in (f"user:{user}", f"addr:{address}"):
            self._recent(key).append(now)

    def succeeded(self, user: str) -> None:
        # The address keeps its failures: one right password must not reopen guessing others.
        self._failures.pop(f"user:{user}", None)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(expected: object, given: object) -> bool:
    """Whether the token a POST carried is the session's, in constant time."""
    if not isinstance(expected, str) or not isinstance(given, str) or not expected:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def session_secret(configured: str | None, key_dir: Path | None) -> str:
    """``[web] session_secret``, else the key file in ``key_dir`` (beside the ledger key), else
    in the user's state directory: made once (0600), refused when others can read it."""
    if configured:
        return configured
    if key_dir is None:
        from platformdirs import user_state_path

        key_dir = user_state_path("fjordsync")
    path = key_dir / SESSION_KEY_FILE
    if not path.exists():
        key_dir.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32) + "\n")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise FjordsyncError(
            f"the web session key {path} can be read or written by others "
            f"(mode {mode:04o}): chmod 600 {path}"
        )
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise FjordsyncError(f"the web session key {path} is too short: delete it to make one")
    logs.register_secrets([key])
    return key
