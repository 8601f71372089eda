"""The README's route reference, generated from the OpenAPI document (so it lists every route).

    python -m scripts.route_table            # print the table
    python -m scripts.route_table --write    # replace it in README.md between its markers

``tests/test_openapi.py`` fails when the README's table differs from what this prints.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- routes:start -->", "<!-- routes:end -->"


# Objects with more fields than this are named, and their fields listed once under the table.
INLINE_FIELDS = 6


def table() -> str:
    from app import app
    from chalicelib.web.openapi import document

    spec = document(app)
    components = spec["components"]["schemas"]
    named: dict[str, str] = {}
    rows = ["| method | path | auth | body | answer |", "|---|---|---|---|---|"]
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            rows.append(
                f"| {method.upper()} | `{path}` | {_auth(operation)} | {_body(operation, components, named)} "
                f"| {_answer(operation, components, named)} |"
            )
    legend = [f"- `{name}`: {fields}" for name, fields in sorted(named.items())]
    return "\n".join([*rows, "", *legend])


def _auth(operation: dict[str, Any]) -> str:
    security = operation.get("security")
    if security == [{"bearerAuth": []}]:
        return "admin or self" if operation.get("x-auth") == "user" else "admin"
    return "optional" if security else "public"


def _body(operation: dict[str, Any], components: dict[str, Any], named: dict[str, str]) -> str:
    body = operation.get("requestBody")
    if body is None:
        return "\u2013"
    content = body["content"]
    shape = _shape(content["application/json"]["schema"], components, named)
    return shape + (" (also `text/plain`)" if "text/plain" in content else "")


def _answer(operation: dict[str, Any], components: dict[str, Any], named: dict[str, str]) -> str:
    for status, answer in operation["responses"].items():
        if not status.startswith("2"):
            continue
        content = answer.get("content")
        if not content:
            return f"{status}, no body"
        if "application/json" not in content:
            return f"{status} " + ", ".join(f"`{kind.split(';')[0]}`" for kind in content)
        return f"{status} {_shape(content['application/json']['schema'], components, named)}"
    return "\u2013"


def _shape(schema: dict[str, Any], components: dict[str, Any], named: dict[str, str]) -> str:
    """``{a, b?, c?}`` for a small object (``?``: optional), its name for a large one;
    alternatives joined by ``or``."""
    name = schema["$ref"].rsplit("/", 1)[-1] if "$ref" in schema else None
    schema = _resolve(schema, components)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            shapes = [_shape(option, components, named) for option in schema[key]]
            if len(set(shapes)) < len(shapes):  # alike on the surface (pages of different items): named
                shapes = [_named(option, components, named) for option in schema[key]]
            return " or ".join(shapes)
    properties = schema.get("properties")
    if properties is None:
        return f"`{schema.get('type', 'any')}`"
    required = set(schema.get("required", []))
    fields = ", ".join(field if field in required else f"{field}?" for field in properties)
    if name and len(properties) > INLINE_FIELDS:
        named[name] = f"`{{{fields}}}`"
        return f"`{name}`"
    return f"`{{{fields}}}`"


def _named(schema: dict[str, Any], components: dict[str, Any], named: dict[str, str]) -> str:
    """A component by its name, its fields listed under the table."""
    name = schema["$ref"].rsplit("/", 1)[-1]
    properties = _resolve(schema, components)
    required = set(properties.get("required", []))
    fields = ", ".join(field if field in required else f"{field}?" for field in properties.get("properties", {}))
    named[name] = f"`{{{fields}}}`"
    return f"`{name}`"


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return components[ref.rsplit("/", 1)[-1]] if ref else schema


def write() -> None:
    text = README.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{table()}\n{END}{tail}")


def readme_table() -> str:
    return README.read_text().split(START, 1)[1].split(END, 1)[0].strip()


def main(argv: list[str]) -> int:
    if "--write" in argv:
        write()
    else:
        print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
