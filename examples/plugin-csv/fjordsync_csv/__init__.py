"""An example third-party fjordsync connector: employees from a CSV file."""
