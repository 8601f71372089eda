"""Business rules. Services know nothing of HTTP: they take plain values and raise
:mod:`chalicelib.domain.errors` exceptions."""
