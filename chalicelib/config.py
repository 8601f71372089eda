"""Service configuration, read once per Lambda container from the environment.

Every setting the service understands is declared here and nowhere else, so the
README's table of variables and this module can be checked against each other.
Secrets that are not in the environment (``DATABASE_URL`` in a deployed stage)
are resolved lazily through :mod:`chalicelib.adapters.secrets` on first use.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

ADMIN_ROLES = frozenset({"SUPER_ADMIN", "INFLUENCE_ADMIN", "MAP_ADMIN"})
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Who makes the rendition ladder: ffmpeg in a Lambda function (the default), or AWS Elemental MediaConvert.
TRANSCODERS = ("ffmpeg", "mediaconvert")


class ConfigurationError(RuntimeError):
    """A required setting is missing or malformed; raised at first use, never per request."""


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if not raw:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw!r}")


def _env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = _env(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise ConfigurationError(f"{name} must be >= {minimum}, got {value}")
    return value


def _env_schema(name: str) -> str:
    raw = _env(name) or "public"
    if not _SCHEMA_NAME.match(raw):
        raise ConfigurationError(f"{name} must be a lower-case SQL identifier (a-z, 0-9, _), got {raw!r}")
    return raw


def _env_choice(name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first when unset)."""
    raw = _env(name).lower() or choices[0]
    if raw not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def _env_list(name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in _env(name).split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    """All settings of the service. Build it with :func:`get_settings`."""

    stage: str = "local"
    database_url: str = ""
    # Analytics reports read here when set (an Aurora reader endpoint): a full URL, or just a
    # host that replaces the writer URL's host (the deployed stack passes its reader endpoint).
    database_reader_url: str = ""
    database_reader_host: str = ""
    database_secret_name: str = ""
    # The PostgreSQL schema of the service's tables (its own one beside another application's tables);
    # ``users`` is read wherever the search path finds it, ``public`` included.
    database_schema: str = "public"
    # Seconds a database connect or read may take before the request is answered 503.
    database_timeout_seconds: int = 10
    # Seconds a request waits for a free pooled connection before it is answered 503.
    database_pool_wait_seconds: int = 5
    # Connections the tracking fast path may hold open at once (one per Lambda container in use).
    tracking_pool_size: int = 4
    jwt_access_secret: str = ""
    media_api_url: str = "http://127.0.0.1:4100"
    cors_allowed_origins: tuple[str, ...] = ()
    # Refuse tracking requests that name no page (neither Origin nor Referer): no server-side players or apps.
    tracking_require_origin: bool = False
    # Analytics and privacy
    analytics_retention_days: int = 90
    ip_hashing_enabled: bool = True
    ip_hash_secret: str = ""
    # "daily": anonymous visitor keys use a salt that changes every UTC day (no key links days); "never".
    visitor_salt_rotation: str = "daily"
    view_token_secret: str = ""
    # Scheduling
    schedule_default_timezone: str = "UTC"
    schedule_notification_enabled: bool = False
    schedule_notification_topic_arn: str = ""
    schedule_group_name: str = "media-api-video-schedules"
    schedule_target_arn: str = ""
    schedule_role_arn: str = ""
    schedule_dlq_arn: str = ""
    # Media
    media_bucket: str = "media-api-videos"
    upload_max_bytes: int = 5 * 1024**3
    preview_link_expiry_hours: int = 24
    ffprobe_path: str = "ffprobe"
    ffprobe_timeout_seconds: int = 30
    ffmpeg_path: str = "ffmpeg"
    thumbnail_timeout_seconds: int = 60
    # Playback: signed URLs of the media objects (CloudFront when a CDN is configured, else S3).
    stream_url_ttl_seconds: int = 6 * 3600
    stream_cdn_domain: str = ""
    stream_key_pair_id: str = ""
    stream_private_key_secret: str = ""
    # The rendition ladder: which transcoder makes it, and the ffmpeg one's limits.
    video_transcoder: str = "ffmpeg"
    ffmpeg_ladder_preset: str = "veryfast"
    ffmpeg_ladder_timeout_seconds: int = 840
    ffmpeg_max_duration_seconds: int = 1200
    mediaconvert_role_arn: str = ""
    mediaconvert_queue_arn: str = ""
    # Key of the signed playlist URLs (playbackUrl); falls back to the JWT secret.
    playback_secret: str = ""
    # Every event function's queue is <prefix>-<its name> (packaging-time: Chalice bakes the
    # queue into the function's event source; `make package` sets media-api-<stage>).
    queue_prefix: str = "media-api-dev"
    # AWS
    aws_region: str = "us-east-1"
    aws_endpoint_url: str = ""

    def require_jwt_secret(self) -> str:
        if not self.jwt_access_secret:
            raise ConfigurationError("JWT_ACCESS_SECRET is not set")
        return self.jwt_access_secret

    @property
    def ip_hash_key(self) -> str:
        """Key of the IP HMAC; falls back to the JWT secret so a bare dev setup still hashes with a key."""
        return self.ip_hash_secret or self.jwt_access_secret

    @property
    def view_token_key(self) -> str:
        return self.view_token_secret or self.jwt_access_secret

    @property
    def search_path(self) -> str | None:
        """The search path of every connection: the service's schema, then ``public`` (None: the server's)."""
        return None if self.database_schema == "public" else f"{self.database_schema}, public"

    @property
    def playback_key(self) -> str:
        return self.playback_secret or self.jwt_access_secret

    def queue_name(self, queue: str) -> str:
        """The SQS queue named ``queue`` in a function's declaration: ``media-api-dev-thumbnails``."""
        return f"{self.queue_prefix}-{queue}"


def load_settings() -> Settings:
    """Read every setting from the environment (no caching; see :func:`get_settings`)."""
    in_lambda = bool(_env("AWS_LAMBDA_FUNCTION_NAME"))
    return Settings(
        stage=_env("STAGE", "local"),
        database_url=_env("DATABASE_URL"),
        database_reader_url=_env("DATABASE_READER_URL"),
        database_reader_host=_env("DATABASE_READER_HOST"),
        database_secret_name=_env("DATABASE_SECRET_NAME"),
        database_schema=_env_schema("DATABASE_SCHEMA"),
        database_timeout_seconds=_env_int("DATABASE_TIMEOUT_SECONDS", 10, minimum=1),
        database_pool_wait_seconds=_env_int("DATABASE_POOL_WAIT_SECONDS", 5, minimum=1),
        tracking_pool_size=_env_int("DATABASE_TRACKING_POOL_SIZE", 4, minimum=1),
        jwt_access_secret=_env("JWT_ACCESS_SECRET"),
        media_api_url=(_env("MEDIA_API_URL") or _env("VITE_MEDIA_API_URL") or "http://127.0.0.1:4100").rstrip("/"),
        cors_allowed_origins=tuple(origin.rstrip("/").lower() for origin in _env_list("CORS_ALLOWED_ORIGINS")),
        tracking_require_origin=_env_bool("TRACKING_REQUIRE_ORIGIN", False),
        analytics_retention_days=_env_int("VIDEO_ANALYTICS_RETENTION_DAYS", 90, minimum=1),
        ip_hashing_enabled=_env_bool("VIDEO_ANALYTICS_IP_HASHING_ENABLED", True),
        ip_hash_secret=_env("VIDEO_ANALYTICS_IP_HASH_SECRET"),
        visitor_salt_rotation=_env_choice("VIDEO_ANALYTICS_VISITOR_SALT_ROTATION", ("daily", "never")),
        view_token_secret=_env("VIDEO_VIEW_TOKEN_SECRET"),
        schedule_default_timezone=_env("VIDEO_SCHEDULE_DEFAULT_TIMEZONE", "UTC"),
        schedule_notification_enabled=_env_bool("VIDEO_SCHEDULE_NOTIFICATION_ENABLED", False),
        schedule_notification_topic_arn=_env("VIDEO_SCHEDULE_NOTIFICATION_TOPIC_ARN"),
        schedule_group_name=_env("VIDEO_SCHEDULE_GROUP", "media-api-video-schedules"),
        schedule_target_arn=_env("VIDEO_SCHEDULE_TARGET_ARN"),
        schedule_role_arn=_env("VIDEO_SCHEDULE_ROLE_ARN"),
        schedule_dlq_arn=_env("VIDEO_SCHEDULE_DLQ_ARN"),
        media_bucket=_env("MEDIA_BUCKET", "media-api-videos"),
        upload_max_bytes=_env_int("VIDEO_UPLOAD_MAX_BYTES", 5 * 1024**3, minimum=1),
        preview_link_expiry_hours=_env_int("VIDEO_PREVIEW_LINK_EXPIRY_HOURS", 24, minimum=1),
        ffprobe_path=_env("FFPROBE_PATH", "/opt/bin/ffprobe" if in_lambda else "ffprobe"),
        ffprobe_timeout_seconds=_env_int("FFPROBE_TIMEOUT_SECONDS", 30, minimum=1),
        ffmpeg_path=_env("FFMPEG_PATH", "/opt/bin/ffmpeg" if in_lambda else "ffmpeg"),
        thumbnail_timeout_seconds=_env_int("THUMBNAIL_TIMEOUT_SECONDS", 60, minimum=1),
        stream_url_ttl_seconds=_env_int("VIDEO_STREAM_URL_TTL_SECONDS", 6 * 3600, minimum=60),
        stream_cdn_domain=_env("VIDEO_STREAM_CDN_DOMAIN").removeprefix("https://").rstrip("/"),
        stream_key_pair_id=_env("VIDEO_STREAM_KEY_PAIR_ID"),
        stream_private_key_secret=_env("VIDEO_STREAM_PRIVATE_KEY_SECRET"),
        video_transcoder=_env_choice("VIDEO_TRANSCODER", TRANSCODERS),
        ffmpeg_ladder_preset=_env("VIDEO_FFMPEG_PRESET", "veryfast"),
        ffmpeg_ladder_timeout_seconds=_env_int("VIDEO_FFMPEG_TIMEOUT_SECONDS", 840, minimum=1),
        ffmpeg_max_duration_seconds=_env_int("VIDEO_FFMPEG_MAX_DURATION_SECONDS", 1200, minimum=1),
        mediaconvert_role_arn=_env("VIDEO_MEDIACONVERT_ROLE_ARN"),
        mediaconvert_queue_arn=_env("VIDEO_MEDIACONVERT_QUEUE_ARN"),
        playback_secret=_env("VIDEO_PLAYBACK_SECRET"),
        queue_prefix=_env("MEDIA_QUEUE_PREFIX", "media-api-dev"),
        aws_region=_env("AWS_REGION") or _env("AWS_DEFAULT_REGION") or "us-east-1",
        aws_endpoint_url=_env("AWS_ENDPOINT_URL"),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings, read on first use and kept for its lifetime.

    Tests that change the environment call ``get_settings.cache_clear()``.
    """
    return load_settings()
