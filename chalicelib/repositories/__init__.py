"""Data access: every SQL query of the service lives in this package."""
