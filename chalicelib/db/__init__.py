"""Database access: the engine, the session scope and the table models."""
