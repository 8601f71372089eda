"""Views record their viewer's context and the player's quality of experience, and when they ended.

* Context, derived when the view is recorded (never the request itself): ``device_type``
  (desktop, mobile, tablet, tv, bot), ``browser`` and ``os`` families from the User-Agent,
  ``country`` (ISO 3166-1 alpha-2) from the edge. The stored User-Agent goes: only its
  derived codes are kept. Views recorded before this have none of them (``Other``).
* Quality of experience, each the player's cumulative measurement (the first value, or
  the largest, so retried and reordered heartbeats never count twice): ``startup_time_ms``,
  ``rebuffer_count``, ``rebuffer_ms``, ``error_code`` (a fatal playback failure),
  ``bitrate_kbps``, ``height``; ``qoe_at`` when the player first reported any.
* ``ended_at``: the viewer left (``ended``, ``pagehide``, a ``complete`` event): no longer live.

Every new column is nullable without a default: adding them rewrites no row of a table of
millions, and none is indexed, so heartbeats that set them stay HOT updates.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TIMESTAMPTZ = sa.DateTime(timezone=True)
COLUMNS = (
    ("device_type", sa.Text),
    ("browser", sa.Text),
    ("os", sa.Text),
    ("country", sa.String(2)),
    ("startup_time_ms", sa.Integer),
    ("rebuffer_count", sa.Integer),
    ("rebuffer_ms", sa.BigInteger),
    ("error_code", sa.Text),
    ("bitrate_kbps", sa.Integer),
    ("height", sa.Integer),
    ("qoe_at", TIMESTAMPTZ),
    ("ended_at", TIMESTAMPTZ),
)


def upgrade() -> None:
    for name, kind in COLUMNS:
        op.add_column("video_views", sa.Column(name, kind))
    op.drop_column("video_views", "user_agent")


def downgrade() -> None:
    op.add_column("video_views", sa.Column("user_agent", sa.Text))
    for name, _ in reversed(COLUMNS):
        op.drop_column("video_views", name)
