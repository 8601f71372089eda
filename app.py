"""Media API entry point: wiring only. Routes live in ``chalicelib/routes``,
event-driven Lambda functions in ``chalicelib/functions``."""

from chalice import Chalice, ConvertToMiddleware

from chalicelib.functions import analytics as analytics_functions
from chalicelib.functions import ingest as ingest_functions
from chalicelib.functions import scheduling as scheduling_functions
from chalicelib.functions import thumbnails as thumbnail_functions
from chalicelib.observability import logger
from chalicelib.routes import actions, analytics, dashboard, docs, health, schedules, tracking, uploads, videos
from chalicelib.web import middleware

app = Chalice(app_name="media-api")
# Event functions get their log context from chalicelib.observability.event_function.
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(clear_state=True)), "http")
app.register_middleware(middleware.normalise_errors, "http")
app.register_middleware(middleware.apply_cors, "http")
app.register_middleware(middleware.flush_metrics, "http")

for blueprint in (
    health.bp,
    docs.bp,
    dashboard.bp,
    videos.bp,
    tracking.bp,
    uploads.bp,
    actions.bp,
    schedules.bp,
    analytics.bp,
):
    app.register_blueprint(blueprint, url_prefix="/api")

app.register_blueprint(ingest_functions.bp)
app.register_blueprint(scheduling_functions.bp)
app.register_blueprint(analytics_functions.bp)
app.register_blueprint(thumbnail_functions.bp)
