"""Lambda entry points: the HTTP wiring every API function shares, and one lean app per function
that needs less than the whole (``tracking``: the public beacons, most of the traffic).

``app.py`` builds the whole API (``chalice local``, ``make dev`` and the tests serve every
route from it); the packaged template gives each endpoint group its own function
(``infra/api_functions.py``), and a group whose handler is a module here imports only
what its routes use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalice import Blueprint, Chalice

APP_NAME = "media-api"
URL_PREFIX = "/api"


def build_api(*blueprints: Blueprint) -> Chalice:
    """A Chalice app serving ``blueprints`` under ``/api`` with the API's middleware (logs, errors, CORS, metrics)."""
    from chalicelib.web import middleware
    from chalicelib.web.dispatch import MediaApi

    app = MediaApi(APP_NAME)
    # Event functions get their log context from chalicelib.observability.event_function.
    app.register_middleware(middleware.log_context, "http")
    app.register_middleware(middleware.normalise_errors, "http")
    app.register_middleware(middleware.apply_cors, "http")
    app.register_middleware(middleware.flush_metrics, "http")
    for blueprint in blueprints:
        app.register_blueprint(blueprint, url_prefix=URL_PREFIX)
    return app
