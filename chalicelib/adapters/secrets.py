"""Secrets read at cold start through Powertools Parameters (cached per container).

Deployed stages keep the database URL out of the Lambda environment: the
``DATABASE_SECRET_NAME`` secret holds either a plain ``postgresql://`` URL or
the JSON RDS/RDS Proxy secrets use (``host``, ``port``, ``username``,
``password``, ``dbname``), and :func:`database_url_from_secret` turns either
into a URL for :mod:`chalicelib.db.engine`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from chalicelib.config import ConfigurationError

# Long enough that warm invocations never call Secrets Manager, short enough
# that a rotated password reaches a new engine within minutes.
SECRET_MAX_AGE_SECONDS = 300


@lru_cache(maxsize=1)
def _provider() -> Any:
    """One Powertools provider per container, on the project's own client (honours AWS_ENDPOINT_URL)."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from chalicelib.adapters.aws import client

    return SecretsProvider(boto3_client=client("secretsmanager"))


def reset_cache() -> None:
    """Forget the provider and its cached values (tests switch between emulators)."""
    _provider.cache_clear()


def database_url_from_secret(name: str) -> str:
    """The database URL held in secret ``name`` (a URL, or RDS-style JSON)."""
    try:
        raw = _provider().get(name, max_age=SECRET_MAX_AGE_SECONDS)
    except Exception as exc:
        raise ConfigurationError(f"Cannot read the database secret '{name}': {type(exc).__name__}") from exc
    value = raw.decode() if isinstance(raw, bytes) else str(raw or "")
    return _database_url(value.strip(), name)


def _database_url(value: str, name: str) -> str:
    if value.startswith(("postgres://", "postgresql://", "postgresql+pg8000://")):
        return value
    try:
        fields = json.loads(value)
    except ValueError as exc:
        raise ConfigurationError(f"Secret '{name}' is neither a postgresql:// URL nor JSON") from exc
    if not isinstance(fields, dict):
        raise ConfigurationError(f"Secret '{name}' must be a JSON object")
    if isinstance(fields.get("url"), str):
        return _database_url(fields["url"].strip(), name)
    missing = [key for key in ("host", "username", "password") if not fields.get(key)]
    if missing:
        raise ConfigurationError(f"Secret '{name}' lacks {', '.join(missing)}")
    user = quote(str(fields["username"]), safe="")
    password = quote(str(fields["password"]), safe="")
    port = int(fields.get("port") or 5432)
    database = quote(str(fields.get("dbname") or fields.get("database") or "postgres"), safe="")
    return f"postgresql://{user}:{password}@{fields['host']}:{port}/{database}"


def stream_signing_key_pem(name: str) -> str:
    """The PEM private key of the CloudFront key group, held in secret ``name``."""
    try:
        raw = _provider().get(name, max_age=SECRET_MAX_AGE_SECONDS)
    except Exception as exc:
        raise ConfigurationError(f"Cannot read the stream signing key secret '{name}': {type(exc).__name__}") from exc
    value = (raw.decode() if isinstance(raw, bytes) else str(raw or "")).strip()
    if "PRIVATE KEY-----" not in value:
        raise ConfigurationError(f"Secret '{name}' does not hold a PEM private key")
    return value
