"""Kit for plugin authors and hosts: in-memory systems and hypothesis strategies."""
