"""The SmartDok API as a local server, for tests, demos and rehearsals."""

from fjordsync_smartdok.sandbox.generator import generate
from fjordsync_smartdok.sandbox.server import DEFAULT_API_TOKEN, LIMITED_API_TOKEN, SmartDokSandbox

__all__ = ["DEFAULT_API_TOKEN", "LIMITED_API_TOKEN", "SmartDokSandbox", "generate"]
