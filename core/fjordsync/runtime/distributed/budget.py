"""The shared rate budgets of the distributed runtime; they live in ``fjordsync.budget`` so
connector plugins can ask for them without importing the runtime."""

from fjordsync.budget import (
    BUDGET_REDIS_URL_ENV,
    KEY_PREFIX,
    RedisRateBudget,
    credential_hash,
    shared_budget,
)

__all__ = [
    "BUDGET_REDIS_URL_ENV",
    "KEY_PREFIX",
    "RedisRateBudget",
    "credential_hash",
    "shared_budget",
]
