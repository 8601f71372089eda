"""Rate-limit counters are kept without write-ahead log: every tracked request bumps one, and a window's
count is worth nothing a minute later.

An unlogged table is not written to the WAL, so a beacon's commit carries only its own row (its
heartbeat measured about 2 % faster). After a crash (or on a standby promoted by a failover)
PostgreSQL empties it: every client starts its current window from zero, once. Aurora keeps unlogged
tables across failovers. docs/privacy.md and the README's rate-limit section say so.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE rate_limit_counters SET UNLOGGED")


def downgrade() -> None:
    op.execute("ALTER TABLE rate_limit_counters SET LOGGED")
