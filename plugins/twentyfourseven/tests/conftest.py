"""24SevenOffice sandboxes and clients for the connector's tests."""

from __future__ import annotations

import pytest
from tfso_fixtures import FAST_RETRIES, small_company, soap_settings

from fjordsync_twentyfourseven.adapter import PayrollAdapter, TwentyFourSevenAdapter
from fjordsync_twentyfourseven.client import _BUDGETS, PayrollClient, SoapClient
from fjordsync_twentyfourseven.sandbox import DEFAULT_ACCESS_TOKEN, TwentyFourSevenSandbox


@pytest.fixture(autouse=True)
def fresh_budgets():
    """Budgets are per process and per login: each test starts with a full hour."""
    _BUDGETS.clear()
    yield
    _BUDGETS.clear()


@pytest.fixture
def sandbox():
    with TwentyFourSevenSandbox(small_company(), default_identity=1) as server:
        yield server


@pytest.fixture
def soap(sandbox):
    return SoapClient(**soap_settings(sandbox.url))


@pytest.fixture
def erp(soap):
    return TwentyFourSevenAdapter(soap)


@pytest.fixture
def payroll(sandbox):
    return PayrollAdapter(
        PayrollClient(f"{sandbox.url}/payroll/api", DEFAULT_ACCESS_TOKEN, retry=FAST_RETRIES)
    )
