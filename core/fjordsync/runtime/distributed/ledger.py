"""What a distributed process runs with: the config, the plugins' connectors, the clock, and
the ledger with its dispatched runs, built once a process (a worker's pool process builds its
own after the fork, on its first task)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from fjordsync.config import Config
from fjordsync.container import LEDGER_URL_ENV, SystemClock, ledger_key_file
from fjordsync.errors import ConfigError
from fjordsync.ledger import Ledger
from fjordsync.runtime.distributed.app import CONFIG_ENV

__all__ = ["DistributedLedger", "Runtime", "load_runtime"]


# The ledger holds the dispatched runs itself now (``Ledger`` includes ``Dispatches``); the name
# stays for the code and tests that name it.
DistributedLedger = Ledger


@dataclass
class Runtime:
    config: Config
    connectors: Any
    ledger: DistributedLedger
    clock: SystemClock


def load_runtime(config_path: str | None = None) -> Runtime:
    """The runtime of ``config_path`` (else ``FJORDSYNC_CONFIG``); the ledger URL is
    ``FJORDSYNC_LEDGER_URL`` when set, else the config's."""
    from fjordsync.container import AppContainer

    path = config_path or os.environ.get(CONFIG_ENV)
    if not path:
        raise ConfigError(f"no config file given: set {CONFIG_ENV} or pass --config")
    built = AppContainer()
    built.settings.from_dict({"config_path": path, "ledger_url": None})
    config = built.config()  # registers the secrets for masking, as the CLI does
    if config is None:  # pragma: no cover - a path was given
        raise ConfigError("no config file given")
    url = os.environ.get(LEDGER_URL_ENV) or config.ledger_url
    ledger = DistributedLedger(url, key_file=ledger_key_file(config))
    return Runtime(config, built.connectors(), ledger, SystemClock())
