"""The settings every test runs under: secrets of its own, a test bucket, fake AWS credentials.

Servers a test starts (the local server, ``make dev``, Chalice local) get the same
variables, so a token minted in the test is valid there too.
"""

from __future__ import annotations

TEST_JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789"
BASE_ENV = {
    "JWT_ACCESS_SECRET": TEST_JWT_SECRET,
    "VIDEO_ANALYTICS_IP_HASH_SECRET": "test-ip-hash-secret",
    "VIDEO_VIEW_TOKEN_SECRET": "test-view-token-secret",
    "MEDIA_API_URL": "http://media.test",
    "MEDIA_BUCKET": "media-test-bucket",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
# The unit tier has no database: a test that reaches for one fails on this name instead of
# silently using a server.
NO_DATABASE_URL = "postgresql://unit-tests-have-no-database.invalid:1/none"
