"""SmartDok sandboxes for the connector's tests."""

from __future__ import annotations

import pytest
from smartdok_fixtures import FAST_RETRIES, small_company

from fjordsync_smartdok.adapter import SmartDokAdapter
from fjordsync_smartdok.client import SmartDokClient
from fjordsync_smartdok.sandbox import DEFAULT_API_TOKEN, SmartDokSandbox


@pytest.fixture
def sandbox():
    with SmartDokSandbox(small_company()) as server:
        yield server


@pytest.fixture
def adapter(sandbox):
    return SmartDokAdapter(SmartDokClient(sandbox.url, DEFAULT_API_TOKEN, retry=FAST_RETRIES))
