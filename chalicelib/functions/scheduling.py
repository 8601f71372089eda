"""Lambda functions of scheduled publishing.

``publish_scheduled_video`` is the target of every one-shot EventBridge
Scheduler schedule: Scheduler invokes it (asynchronously) with the schedule's
``Input`` JSON as the event. Locally, ``scripts/local_dispatcher.py`` invokes the
very same handler with the very same payload, since the emulators never fire.

``reconcile_video_schedules`` repairs drift between history rows and Scheduler
every 15 minutes (see :func:`chalicelib.services.scheduling.reconciliation.reconcile`).
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.functions.declaration import EventFunction
from chalicelib.observability import event_function
from chalicelib.services.scheduling.execution import HANDLER_NAME, execute_scheduled_action
from chalicelib.services.scheduling.reconciliation import reconcile

bp = Blueprint(__name__)

RECONCILE_RATE = "rate(15 minutes)"
PUBLISH = EventFunction(
    HANDLER_NAME,
    "the target of every publish/unpublish schedule",
    concurrency=5,
    grants=("CleanUpOwnSchedule", "PublishScheduleNotifications"),
)
RECONCILE = EventFunction(
    "reconcile_video_schedules",
    "repair drift between schedule rows and EventBridge Scheduler",
    grants=(
        "ManageVideoSchedules",
        "ReadScheduleGroup",
        "ListVideoSchedules",
        "PassSchedulerRole",
        "PublishScheduleNotifications",
    ),
)


@bp.lambda_function(name=PUBLISH.name)
@event_function
def publish_scheduled_video(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Publish or unpublish one video; raises (so the delivery is retried) when it could not."""
    return execute_scheduled_action(event)


@bp.schedule(RECONCILE_RATE, name=RECONCILE.name, description="Repair scheduled publish drift")
@event_function
def reconcile_video_schedules(event: Any) -> dict[str, int]:
    return reconcile()
