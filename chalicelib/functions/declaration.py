"""One declaration per event function, beside its handler: everything else follows from it.

An :class:`EventFunction` says what the function needs (memory, timeout, concurrency,
ephemeral storage, layers, IAM grants, extra environment) and, for a queue-fed one, its
:class:`Queue` (receives before the dead-letter queue, visibility timeout). From the
declarations:

* ``infra/render_template.py`` writes each function's settings, its own role (the common
  grants plus the statements of ``infra/iam_statements.json`` it names), and each queue with
  its dead-letter queue and an alarm on it, into the template ``chalice package`` merges;
* ``infra/api_functions.py`` counts reserved concurrency against the database's connections;
* ``scripts/local_aws.py`` creates the queues in the emulator and ``scripts/local_dispatcher.py``
  feeds them to the handlers, as Lambda's event source mappings would.

The Chalice decorator on the handler takes its name and queue from the declaration, so
adding an event function is this object and the handler.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.config import get_settings

# Lambda's maximum: 15 minutes.
MAX_TIMEOUT_SECONDS = 900
# AWS's advice for a queue feeding a function: a visibility timeout of at least 6 x its timeout.
VISIBILITY_TIMEOUT_FACTOR = 6
# SQS's largest visibility timeout (12 hours).
MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200


@dataclass(frozen=True)
class Queue:
    """The SQS queue a function consumes (``<MEDIA_QUEUE_PREFIX>-<name>``, one message per invocation)."""

    name: str
    # What a message left in the dead-letter queue means (its alarm's description).
    dead_letter_meaning: str
    max_receives: int = 5
    # make dev: how soon a failed message is received again (AWS: 6 x the function's timeout).
    local_visibility_timeout: int = 60

    @property
    def queue_name(self) -> str:
        return get_settings().queue_name(self.name)


@dataclass(frozen=True)
class EventFunction:
    """An event-driven Lambda function of the app."""

    name: str
    summary: str
    memory: int = 128  # MB, Lambda's (and Chalice's) default
    timeout: int = 60
    concurrency: int = 1
    # Statement ids of infra/iam_statements.json beyond the grants every function has.
    grants: tuple[str, ...] = ()
    # Layer resources of infra/template.json ("FfprobeLayer", "FfmpegLayer").
    layers: tuple[str, ...] = ()
    # Environment variables of this function alone (values may be CloudFormation expressions).
    environment: Mapping[str, Any] = field(default_factory=dict)
    queue: Queue | None = None
    ephemeral_storage_mb: int = 512

    def __post_init__(self) -> None:
        if not 1 <= self.timeout <= MAX_TIMEOUT_SECONDS:
            raise ValueError(f"{self.name}: timeout must be 1..{MAX_TIMEOUT_SECONDS} s")
        if self.name in DECLARED and DECLARED[self.name] != self:
            raise ValueError(f"{self.name} is declared twice")
        DECLARED[self.name] = self

    @property
    def queue_name(self) -> str:
        if self.queue is None:
            raise ValueError(f"{self.name} is not fed by a queue")
        return self.queue.queue_name

    @property
    def visibility_timeout(self) -> int:
        return min(MAX_VISIBILITY_TIMEOUT_SECONDS, VISIBILITY_TIMEOUT_FACTOR * self.timeout)

    @property
    def asynchronous(self) -> bool:
        """Invoked asynchronously (EventBridge, Scheduler): failures after Lambda's retries need a DLQ of their own."""
        return self.queue is None


DECLARED: dict[str, EventFunction] = {}


def declared() -> list[EventFunction]:
    """Every event function the imported modules declare (import ``app`` first)."""
    return list(DECLARED.values())
