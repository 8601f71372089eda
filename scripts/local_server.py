"""The local HTTP server of `make dev` and the HTTP tests: ``chalice local``, closer to API Gateway.

It is Chalice's own local server (the same route matching, event conversion,
threading and ``.chalice/config.json`` stage variables as ``chalice local``), with two
differences that make it behave like the deployed API:

* an unknown route is answered as the deployed gateway answers it (its
  ``MISSING_AUTHENTICATION_TOKEN`` response is mapped to a JSON 404 in
  ``infra/template.json``), not with Chalice's non-JSON 403 "Missing Authentication Token";
* ``requestContext.identity.sourceIp`` is the caller's real address, as API Gateway
  reports it, not a fixed 127.0.0.1 (so per-client rate limits behave as deployed).

Never autoreloads: its file watcher would restart the server on every write the
embedded database makes under ``.data/``.

    python -m scripts.local_server --port 4100 [--host 127.0.0.1] [--stage local]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from chalice import local

ROOT = Path(__file__).resolve().parent.parent
UNKNOWN_ROUTE_BODY = json.dumps({"error": "NotFound", "message": "No such route"}).encode()


class UnknownRoute(local.LocalGatewayException):
    CODE = 404

    def __init__(self) -> None:
        super().__init__({"Content-Type": "application/json"}, UNKNOWN_ROUTE_BODY)


class Gateway(local.LocalGateway):
    """Chalice's local API Gateway emulation for one TCP connection, with the caller's address."""

    def __init__(self, app_object: Any, config: Any, client_ip: str) -> None:
        super().__init__(app_object, config)
        self.client_ip = client_ip

    def _generate_lambda_event(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        try:
            event = super()._generate_lambda_event(method, path, headers, body)
        except ValueError:  # no route matches: Chalice would answer a non-JSON 403
            raise UnknownRoute() from None
        event["requestContext"]["identity"]["sourceIp"] = self.client_ip
        return event


class RequestHandler(local.ChaliceRequestHandler):
    """Chalice's handler, but with :class:`Gateway` (the request is served inside ``__init__``)."""

    def __init__(self, request: Any, client_address: Any, server: Any, app_object: Any, config: Any) -> None:
        self.local_gateway = Gateway(app_object, config, client_ip=str(client_address[0]))
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def __getattr__(self, name: str) -> Any:
        """Any other method (TRACE, PROPFIND, ...) goes to the app too, which answers a JSON 405,
        where the stdlib server would answer an HTML 501."""
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)


class ThreadedServer(local.ThreadedHTTPServer):
    """Chalice's threaded server with a listen backlog fit for bursts of clients: the stdlib's
    default of 5 pending connections resets the sixth of a burst while the others are accepted."""

    request_queue_size = 128


def keep_requests_per_thread(app: Any) -> None:
    """``app.current_request`` kept per thread, as ``chalice local`` does: its threads share one app."""
    local.CustomLocalChalice.__bases__ = (local.LocalChalice, app.__class__)
    app.__class__ = local.CustomLocalChalice


def create_server(host: str, port: int, stage: str = "local") -> local.LocalDevServer:
    """A ready-to-serve server for the project's app, as ``chalice local --stage <stage>`` makes it."""
    from chalice.cli.factory import CLIFactory

    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name=stage)
    app = config.chalice_app
    keep_requests_per_thread(app)
    return local.LocalDevServer(app, config, host, port, handler_cls=RequestHandler, server_cls=ThreadedServer)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4100)
    parser.add_argument("--stage", default="local")
    args = parser.parse_args(argv)
    server = create_server(args.host, args.port, args.stage)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
