"""Kept for imports of the old name: the flows are listed once, in ``fjordsync.flows.registry``."""

from __future__ import annotations

from fjordsync.flows.registry import FLOWS, Flow, flows_served

FlowDefinition = Flow

__all__ = ["FLOWS", "Flow", "FlowDefinition", "flows_served"]
