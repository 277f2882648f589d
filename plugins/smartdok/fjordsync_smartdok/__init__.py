"""fjordsync connector package."""
