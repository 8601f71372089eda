"""Scheduled publish/unpublish on EventBridge Scheduler.

Each pending action is one one-shot Scheduler schedule (``at(...)`` in the
admin's IANA zone) named ``video-<id>-<action>`` in the group
``VIDEO_SCHEDULE_GROUP``, and one ``pending`` row in ``video_schedule_history``.
Its target is the ``publish_scheduled_video`` Lambda function, which receives the
schedule's ``Input`` JSON as its event and calls :func:`execute_scheduled_action`.

Consistency rules (database and Scheduler never disagree for long):

* The schedule is written inside the database transaction, before its commit:
  if Scheduler fails, the transaction rolls back (503, nothing changed); if the
  commit fails after the schedule exists, the schedule is deleted (or the one
  it replaced is restored) by :func:`undo_schedule_write`.
* Should that clean-up fail too, the handler's stale check makes the leftover
  schedule harmless (its history row is not pending, or the video's pending
  instant differs) and :func:`reconcile` deletes it on its next run.
* Delivery is at-least-once, so the handler locks the video and the history row
  and acts only while both still describe the event it received.

The emulators (moto, LocalStack) accept names, times and groups AWS rejects, so
everything is validated here before Scheduler is called.

The package, one module per concern (each depends only on those above it):

* ``times``: IANA zones, wall-clock parsing and daylight-saving rules, the
  allowed window, ``at()`` expressions, schedule names;
* ``actions``: the admin-facing schedule, cancel, upcoming and history;
* ``execution``: the handler's work for one delivered schedule;
* ``reconciliation``: the 15-minute drift repair;
* ``status``: the health check's Scheduler section and ``make schedules``.

Every EventBridge Scheduler call (``ScheduleSpec``, put, delete, get, list, undo;
failures mapped to 503) is in :mod:`chalicelib.adapters.scheduler`. Import the
module you need: this package imports nothing, so the adapter can use ``times``
without a cycle.
"""
