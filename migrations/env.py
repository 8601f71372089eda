"""Alembic environment: migrates the database named by DATABASE_URL (pg8000 underneath)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from chalicelib.db.engine import database_url, to_sqlalchemy_url
from chalicelib.db.models import Base
from chalicelib.repositories.partitions import alembic_include

target_metadata = Base.metadata


def run_migrations() -> None:
    url = context.config.attributes.get("database_url") or database_url()
    engine = create_engine(to_sqlalchemy_url(url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, include_object=alembic_include)
        with context.begin_transaction():
            # Serialise concurrent `alembic upgrade` runs (two deploys, two test workers).
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(4100)")
            context.run_migrations()
    engine.dispose()


run_migrations()
