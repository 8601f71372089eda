"""The service's log lines, as the tests read them: the records of its Powertools logger."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

SERVICE_LOGGER = "media-api"


@contextmanager
def service_log() -> Iterator[list[logging.LogRecord]]:
    """Every record the service logs at INFO or above while the block runs (``extra`` fields are attributes)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    target = logging.getLogger(SERVICE_LOGGER)
    handler, level = Keep(level=logging.INFO), target.level
    target.addHandler(handler)
    target.setLevel(logging.INFO)
    try:
        yield records
    finally:
        target.removeHandler(handler)
        target.setLevel(level)
