"""One Lambda function per endpoint group, from the one Chalice app (``make package``).

Chalice puts every route into one ``api_handler`` function (aws/chalice#229, #1308). So
that the public beacons do not share concurrency, memory, timeout or permissions with the
admin routes, this step rewrites the packaged ``sam.json``: one function per group below,
each with its own role (the common grants plus only the statements of
``infra/iam_statements.py`` its routes use), memory, timeout and reserved concurrency,
and each path's integration pointed at its group's function. ``chalice local`` and
``make dev`` keep serving every route from ``app.py``.

    python -m infra.api_functions build/package-prod/sam.json
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHALICE_API = "APIHandler"
CHALICE_PERMISSION = "APIHandlerInvokePermission"


@dataclass(frozen=True)
class ApiGroup:
    """An endpoint group: the route modules (``chalicelib/routes/*.py``) its function serves."""

    name: str
    routes: tuple[str, ...]
    handler: str
    memory: int
    timeout: int
    reserved_concurrency: int
    grants: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()

    @property
    def function(self) -> str:
        return f"Api{self.name}"


GROUPS = (
    # Most requests: the leanest import, no AWS permission beyond the common ones.
    ApiGroup("Tracking", ("tracking",), "chalicelib.entry.tracking.app", 256, 10, 40),
    # Registering a video probes it (ffprobe, a presigned GET), deletes a refused upload and queues a poster frame
    # and a ladder; deleting one removes its media and schedules; every video answer carries signed URLs.
    ApiGroup(
        "Videos",
        ("videos",),
        "app.app",
        512,
        30,
        10,
        (
            "ReadMedia",
            "ListMediaBucket",
            "DeleteVideos",
            "DeleteThumbnails",
            "DeleteRenditions",
            "QueueThumbnails",
            "QueueLadders",
            "DeleteVideoSchedules",
            "ReadStreamSigningKey",
        ),
        ("FfprobeLayer",),
    ),
    # Duplicate copies the object (and removes the copy if the row cannot be written) and queues the copy's ladder;
    # preview presents a video.
    ApiGroup(
        "Actions",
        ("actions",),
        "app.app",
        512,
        30,
        4,
        ("ReadMedia", "ListMediaBucket", "WriteVideos", "DeleteVideos", "QueueLadders", "ReadStreamSigningKey"),
    ),
    # Every player's playlists: signed media URLs (the CloudFront key; S3 presigning needs s3:GetObject).
    ApiGroup("Playback", ("playback",), "app.app", 256, 10, 10, ("ReadMedia", "ReadStreamSigningKey")),
    # A presigned PUT is only as good as its signer's s3:PutObject.
    ApiGroup("Uploads", ("uploads",), "app.app", 256, 10, 4, ("WriteVideos",)),
    ApiGroup(
        "Schedules",
        ("schedules",),
        "app.app",
        256,
        15,
        4,
        ("ManageVideoSchedules", "ReadScheduleGroup", "PassSchedulerRole"),
    ),
    # A person's data (export, erasure) is analytics data; erasing it refolds the roll-ups it was in.
    ApiGroup("Analytics", ("analytics", "personal_data"), "app.app", 512, 30, 8),
    # Embed pages present a published video (signed media URLs); the SDK is a file; oEmbed reads a row.
    ApiGroup("Player", ("player",), "app.app", 256, 10, 6, ("ReadMedia", "ReadStreamSigningKey")),
    # Health reports whether the schedule group answers; the docs and dashboard pages call nothing.
    ApiGroup("Pages", ("health", "docs", "dashboard"), "app.app", 256, 10, 4, ("ReadScheduleGroup",)),
)
# A Lambda container serves one request at a time and holds one database connection.
CONNECTIONS_PER_CONTAINER = 1
# Left for `make migrate`, an operator's psql and a deploy's overlapping containers.
CONNECTION_HEADROOM = 5


def event_concurrency() -> dict[str, int]:
    """Each event function's reserved concurrency, from its declaration (``chalicelib/functions/``)."""
    sys.path.insert(0, str(ROOT))
    import app  # noqa: F401 - importing the app declares every event function
    from chalicelib.functions.declaration import declared

    return {spec.name: spec.concurrency for spec in declared()}


def connections_needed() -> int:
    """The database connections the stack may hold at once: every reserved concurrency, plus headroom."""
    containers = sum(group.reserved_concurrency for group in GROUPS) + sum(event_concurrency().values())
    return containers * CONNECTIONS_PER_CONTAINER + CONNECTION_HEADROOM


def group_of_routes() -> dict[tuple[str, str], ApiGroup]:
    """``(path, METHOD)`` → its group, read from the app: each route's view lives in its group's module."""
    sys.path.insert(0, str(ROOT))
    from app import app

    by_module = {f"chalicelib.routes.{module}": group for group in GROUPS for module in group.routes}
    found = {}
    for path, methods in app.routes.items():
        groups = set()
        for method, entry in methods.items():
            if method.upper() == "OPTIONS":  # the preflight view is shared (chalicelib.web.routing)
                continue
            module = entry.view_function.__module__
            if module not in by_module:
                raise SystemExit(f"{method} {path}: {module} belongs to no group of infra/api_functions.py")
            groups.add(by_module[module])
            found[path, method.upper()] = by_module[module]
        if len(groups) != 1:
            raise SystemExit(f"{path} must belong to exactly one group, not {sorted(g.name for g in groups)}")
        if "OPTIONS" in {method.upper() for method in methods}:
            found[path, "OPTIONS"] = groups.pop()  # a path's preflight runs where its requests will
    return found


def split(template: dict[str, Any], routes: dict[tuple[str, str], ApiGroup] | None = None) -> dict[str, Any]:
    """Replace Chalice's single API function by one function per group; return the template."""
    routes = group_of_routes() if routes is None else routes
    resources = template["Resources"]
    api = resources.pop(CHALICE_API)
    permission = resources.pop(CHALICE_PERMISSION)
    for group in GROUPS:
        resources[group.function] = _function(api, group)
        resources[f"{group.function}Role"] = _role(group)
        resources[f"{group.function}InvokePermission"] = _permission(permission, group)
    _point_paths(template, routes)
    outputs = template.get("Outputs", {})
    for name in ("APIHandlerName", "APIHandlerArn"):
        outputs.pop(name, None)
    for group in GROUPS:
        outputs[f"{group.function}Name"] = {"Value": {"Ref": group.function}}
    return template


def _function(api: dict[str, Any], group: ApiGroup) -> dict[str, Any]:
    function = copy.deepcopy(api)
    properties = function["Properties"]
    properties.update(
        Handler=group.handler,
        MemorySize=group.memory,
        Timeout=group.timeout,
        ReservedConcurrentExecutions=group.reserved_concurrency,
        Role={"Fn::GetAtt": [f"{group.function}Role", "Arn"]},
        Description=f"Media API: the {', '.join(group.routes)} routes",
    )
    if group.layers:
        properties["Layers"] = [{"Ref": layer} for layer in group.layers]
    else:
        properties.pop("Layers", None)
        variables = properties.get("Environment", {}).get("Variables", {})
        for name in ("FFPROBE_PATH", "FFPROBE_TIMEOUT_SECONDS"):
            variables.pop(name, None)
    return function


def _role(group: ApiGroup) -> dict[str, Any]:
    """The group's own role: the common grants and the statements of infra/iam_statements.py it names."""
    from infra.iam_statements import role

    return role(f"{group.function}Role", group.grants)


def _permission(permission: dict[str, Any], group: ApiGroup) -> dict[str, Any]:
    new = copy.deepcopy(permission)
    new["Properties"]["FunctionName"] = {"Ref": group.function}
    return new


def _point_paths(template: dict[str, Any], routes: dict[tuple[str, str], ApiGroup]) -> None:
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            group = routes.get((path, method.upper()))
            if group is None:
                raise SystemExit(f"{method.upper()} {path} is in the template but not in the app")
            integration = operation["x-amazon-apigateway-integration"]
            uri = integration["uri"]["Fn::Sub"]
            integration["uri"]["Fn::Sub"] = uri.replace("${APIHandler.Arn}", "${" + group.function + ".Arn}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", type=Path, help="the sam.json chalice package wrote (rewritten in place)")
    args = parser.parse_args(argv)
    template = split(json.loads(args.template.read_text()))
    args.template.write_text(json.dumps(template, indent=2) + "\n")
    print(f"{args.template}: {len(GROUPS)} API functions, {connections_needed()} database connections at most")


if __name__ == "__main__":
    main()
