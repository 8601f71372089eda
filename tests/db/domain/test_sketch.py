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
