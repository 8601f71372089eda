"""The player events the service records: the one list the schemas, the tracking SQL, the
fold's columns and the reports all use, so adding one is a change in one place (and a migration)."""

from __future__ import annotations

from typing import Literal, get_args

EventType = Literal["play", "pause", "seek", "complete"]
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)
