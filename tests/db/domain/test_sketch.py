"""The sketch's SQL twin: PostgreSQL hashes a viewer into the same register and value as Python."""

from __future__ import annotations

import pytest

from chalicelib.domain.sketch import BREAKDOWNS, SCOPES, Precision, register_of

BOTH = pytest.mark.parametrize("layout", [SCOPES, BREAKDOWNS], ids=["14 bits", "16 bits"])


@BOTH
def test_sql_and_python_hash_a_viewer_alike(layout: Precision) -> None:
    """The fold computes registers in PostgreSQL; reports add tail viewers in Python: both must agree."""
    from sqlalchemy import text

    from chalicelib.db.engine import transaction
    from chalicelib.domain.sketch import HASH_SQL

    sample = ["u:1", "u:42", "i:" + "a" * 64, "v:7", *[f"i:{n:08x}" for n in range(500)]]
    hashed = HASH_SQL.format(key="k")
    registers = f"{layout.register_sql.format(hash=hashed)}, {layout.value_sql.format(hash=hashed)}"
    statement = text(f"SELECT k, {registers} FROM unnest(CAST(:keys AS text[])) AS k")
    with transaction() as connection:
        rows = connection.execute(statement, {"keys": sample}).all()
    assert {row[0]: (row[1], row[2]) for row in rows} == {key: register_of(key, layout.bits) for key in sample}


@BOTH
def test_sql_builds_the_sketch_python_builds(layout: Precision) -> None:
    """A fold's sketches are built by PostgreSQL (sparse and dense alike) and merged by Python: byte for byte
    the sketch Python builds from the same viewers."""
    from sqlalchemy import text

    from chalicelib.db.engine import transaction
    from chalicelib.domain.sketch import HASH_SQL, Sketch, sketches_sql

    groups = {"one": ["u:1"], "few": [f"u:{n}" for n in range(300)], "many": [f"i:{n:08x}" for n in range(20_000)]}
    hashed = HASH_SQL.format(key="k")
    registers = f"""
        SELECT g AS name, {layout.register_sql.format(hash=hashed)} AS register,
               max({layout.value_sql.format(hash=hashed)}) AS rank
        FROM unnest(CAST(:groups AS text[]), CAST(:keys AS text[])) AS u(g, k) GROUP BY 1, 2
    """
    params = {
        "groups": [name for name, keys in groups.items() for _ in keys],
        "keys": [key for keys in groups.values() for key in keys],
    }
    with transaction() as connection:
        rows = connection.execute(text(sketches_sql(registers, "name", layout)), params)
        built = {row.name: bytes(row.sketch) for row in rows}
    assert built == {name: Sketch.of_keys(keys, layout.bits).encode() for name, keys in groups.items()}
    assert built["many"][0] == layout.dense_tag and built["few"][0] == layout.sparse_tag
