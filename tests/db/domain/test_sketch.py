"""The sketch's SQL twin: PostgreSQL hashes a viewer into the same register and value as Python."""

from __future__ import annotations

from chalicelib.domain.sketch import register_of


def test_sql_and_python_hash_a_viewer_alike() -> None:
    """The fold computes registers in PostgreSQL; reports add tail viewers in Python: both must agree."""
    from sqlalchemy import text

    from chalicelib.db.engine import transaction
    from chalicelib.domain.sketch import HASH_SQL, REGISTER_SQL, VALUE_SQL

    sample = ["u:1", "u:42", "i:" + "a" * 64, "v:7", *[f"i:{n:08x}" for n in range(500)]]
    hashed = HASH_SQL.format(key="k")
    registers = f"{REGISTER_SQL.format(hash=hashed)}, {VALUE_SQL.format(hash=hashed)}"
    statement = text(f"SELECT k, {registers} FROM unnest(CAST(:keys AS text[])) AS k")
    with transaction() as connection:
        rows = connection.execute(statement, {"keys": sample}).all()
    assert {row[0]: (row[1], row[2]) for row in rows} == {key: register_of(key) for key in sample}


def test_sql_builds_the_sketch_python_builds() -> None:
    """A fold's sketches are built by PostgreSQL (sparse and dense alike) and merged by Python: byte for byte
    the sketch Python builds from the same viewers."""
    from sqlalchemy import text

    from chalicelib.db.engine import transaction
    from chalicelib.domain.sketch import HASH_SQL, REGISTER_SQL, VALUE_SQL, Sketch, sketches_sql

    groups = {"one": ["u:1"], "few": [f"u:{n}" for n in range(300)], "many": [f"i:{n:08x}" for n in range(20_000)]}
    hashed = HASH_SQL.format(key="k")
    registers = f"""
        SELECT g AS name, {REGISTER_SQL.format(hash=hashed)} AS register, max({VALUE_SQL.format(hash=hashed)}) AS rank
        FROM unnest(CAST(:groups AS text[]), CAST(:keys AS text[])) AS u(g, k) GROUP BY 1, 2
    """
    params = {
        "groups": [name for name, keys in groups.items() for _ in keys],
        "keys": [key for keys in groups.values() for key in keys],
    }
    with transaction() as connection:
        rows = connection.execute(text(sketches_sql(registers, "name")), params)
        built = {row.name: bytes(row.sketch) for row in rows}
    assert built == {name: Sketch.of_keys(keys).encode() for name, keys in groups.items()}
    assert built["many"][0] == 2 and built["few"][0] == 1
