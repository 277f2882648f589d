"""AlexisHR sandboxes for the connector's tests."""

from __future__ import annotations

import pytest
from alexis_fixtures import FAST_RETRIES, TODAY, small_company

from fjordsync_alexis.adapter import AlexisAdapter
from fjordsync_alexis.client import AlexisClient
from fjordsync_alexis.sandbox import DEFAULT_TOKEN, AlexisSandbox, generate


@pytest.fixture
def sandbox():
    with AlexisSandbox(small_company()) as server:
        yield server


@pytest.fixture
def adapter(sandbox):
    client = AlexisClient(f"{sandbox.url}/v1", DEFAULT_TOKEN, page_size=2, retry=FAST_RETRIES)
    return AlexisAdapter(client)


@pytest.fixture(scope="session")
def company_of_1000():
    return generate(employees=1000, seed=42, today=TODAY)
