"""Use cases: one module per flow, plain functions over the ports (see docs/flows.md)."""
