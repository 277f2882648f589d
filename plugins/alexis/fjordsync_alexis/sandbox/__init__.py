"""The AlexisHR API v1 as a local server, for tests, demos and rehearsals."""

from fjordsync_alexis.sandbox.generator import generate
from fjordsync_alexis.sandbox.server import DEFAULT_TOKEN, AlexisSandbox

__all__ = ["DEFAULT_TOKEN", "AlexisSandbox", "generate"]
