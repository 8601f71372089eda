"""Media API entry point: wiring only. Routes live in ``chalicelib/routes``,
event-driven Lambda functions in ``chalicelib/functions``; the HTTP wiring they share
in ``chalicelib/entry`` (where the lean per-function entry points live too)."""

from chalicelib.entry import build_api
from chalicelib.functions import analytics as analytics_functions
from chalicelib.functions import ingest as ingest_functions
from chalicelib.functions import ladders as ladder_functions
from chalicelib.functions import scheduling as scheduling_functions
from chalicelib.functions import thumbnails as thumbnail_functions
from chalicelib.routes import (
    actions,
    analytics,
    dashboard,
    docs,
    health,
    personal_data,
    playback,
    player,
    schedules,
    tracking,
    uploads,
    videos,
)

app = build_api(
    health.bp,
    docs.bp,
    dashboard.bp,
    player.bp,
    videos.bp,
    tracking.bp,
    uploads.bp,
    actions.bp,
    schedules.bp,
    analytics.bp,
    personal_data.bp,
    playback.bp,
)
app.register_blueprint(ingest_functions.bp)
app.register_blueprint(scheduling_functions.bp)
app.register_blueprint(analytics_functions.bp)
app.register_blueprint(thumbnail_functions.bp)
app.register_blueprint(ladder_functions.bp)
