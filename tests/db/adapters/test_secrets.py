"""The database URL from Secrets Manager (Powertools Parameters) on moto, and the engine using it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from chalicelib.adapters import secrets
from chalicelib.adapters.aws import client
from chalicelib.config import ConfigurationError, get_settings
from chalicelib.db import engine


@pytest.fixture(autouse=True)
def fresh_secret_cache(aws: None) -> Iterator[None]:
    secrets.reset_cache()
    yield
    secrets.reset_cache()


def test_plain_url_secret_is_returned(database_url: str) -> None:
    client("secretsmanager").create_secret(Name="media-api/test/database-url", SecretString=database_url)
    assert secrets.database_url_from_secret("media-api/test/database-url") == database_url


def test_rds_json_secret_becomes_a_url() -> None:
    value = {
        "engine": "postgres",
        "host": "proxy.example",
        "port": 5433,
        "username": "app",
        "password": "p@ss/:w",
        "dbname": "media",
    }
    client("secretsmanager").create_secret(Name="rds-style", SecretString=json.dumps(value))
    assert secrets.database_url_from_secret("rds-style") == "postgresql://app:p%40ss%2F%3Aw@proxy.example:5433/media"


def test_secret_is_cached_between_calls(database_url: str) -> None:
    sm = client("secretsmanager")
    sm.create_secret(Name="cached", SecretString=database_url)
    first = secrets.database_url_from_secret("cached")
    sm.put_secret_value(SecretId="cached", SecretString="postgresql://rotated@elsewhere/db")
    assert secrets.database_url_from_secret("cached") == first  # served from the container cache
    secrets.reset_cache()
    assert secrets.database_url_from_secret("cached") == "postgresql://rotated@elsewhere/db"


@pytest.mark.parametrize("value", ["mysql://nope", '{"host": "h"}', "[1, 2]"])
def test_unusable_secret_values_are_configuration_errors(value: str) -> None:
    client("secretsmanager").create_secret(Name="bad", SecretString=value)
    with pytest.raises(ConfigurationError):
        secrets.database_url_from_secret("bad")


def test_missing_secret_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="does-not-exist"):
        secrets.database_url_from_secret("does-not-exist")


def test_engine_reads_the_secret_when_database_url_is_empty(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client("secretsmanager").create_secret(Name="media-api/dev/database-url", SecretString=database_url)
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("DATABASE_SECRET_NAME", "media-api/dev/database-url")
    get_settings.cache_clear()
    engine.dispose_engine()
    try:
        with engine.get_engine().connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM videos")).scalar() == 0
    finally:
        engine.dispose_engine()
        monkeypatch.setenv("DATABASE_URL", database_url)
        get_settings.cache_clear()
