"""fjordsync."""
