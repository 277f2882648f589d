"""Run-time services: running flows (manually or on a schedule)."""
