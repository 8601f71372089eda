"""Alembic environment: migrates the database named by DATABASE_URL (pg8000 underneath).

With ``DATABASE_SCHEMA`` set, the schema is created if missing, every migration runs with
the service's search path (so its unqualified tables land in that schema) and Alembic's
version table lives there too: two services, or this one beside another application's
tables of the same names, migrate the same database independently.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from chalicelib.config import get_settings
from chalicelib.db.engine import database_url, startup_params, to_sqlalchemy_url
from chalicelib.db.models import Base
from chalicelib.repositories.partitions import alembic_include

target_metadata = Base.metadata


def run_migrations() -> None:
    url = context.config.attributes.get("database_url") or database_url()
    schema = get_settings().database_schema
    engine = create_engine(
        to_sqlalchemy_url(url), poolclass=pool.NullPool, connect_args={"startup_params": startup_params()}
    )
    with engine.connect() as connection:
        if schema != "public":
            connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=alembic_include,
            version_table_schema=None if schema == "public" else schema,
        )
        with context.begin_transaction():
            # Serialise concurrent `alembic upgrade` runs (two deploys, two test workers).
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(4100)")
            context.run_migrations()
    engine.dispose()


run_migrations()
