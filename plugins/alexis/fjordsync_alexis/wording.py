"""How AlexisHR names itself: what the core's messages say about it
(``fjordsync.ports.Wording``), registered with the connector."""

from __future__ import annotations

from fjordsync.ports import Wording

WORDING = Wording(system="AlexisHR")
