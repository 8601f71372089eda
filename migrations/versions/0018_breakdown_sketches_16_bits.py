"""Breakdown sketches at 16 bits: each value of a breakdown within 2% of its distinct viewers.

A breakdown puts a dimension's values side by side, each counted by its own sketch; at 14 bits
(standard error 0.81%) one of a country breakdown's seventeen values past 2% was a matter of
time. A value's day and all-time sketches now have 16 bits (0.41%); a video's and the library's
own sketches keep 14 bits (reports merge one per point).

Stored sketches say their precision, and merging a 14-bit sketch with a 16-bit one gives a
correct 14-bit sketch, so nothing here rewrites them. Instead the breakdown roll-ups are folded
again from the raw views kept, as migration 0014 did (``breakdowns_backfill``), which rebuilds
their day sketches at 16 bits. The all-time sketches are rebuilt too when every raw view is still
kept: they are emptied here, refilled by the backfill, and reports merge the values' day sketches
instead until it is done. Where retention has already deleted raw views, the all-time sketches
keep what they have (their older viewers exist nowhere else), at 14 bits.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_EVERY_RAW_VIEW_KEPT = "NOT EXISTS (SELECT 1 FROM analytics_state WHERE name IN ('raw_kept_from', 'fold_floor'))"
_REFOLD = (
    "INSERT INTO analytics_state (name, at) "
    "SELECT 'breakdowns_backfill', date_trunc('hour', min(created_at), 'UTC') FROM video_views "
    "HAVING min(created_at) IS NOT NULL AND EXISTS (SELECT 1 FROM analytics_state WHERE name = 'folded_until') "
    "ON CONFLICT (name) DO UPDATE SET at = EXCLUDED.at"
)


def upgrade() -> None:
    op.execute(f"DELETE FROM analytics_breakdown_totals WHERE {_EVERY_RAW_VIEW_KEPT}")
    op.execute(_REFOLD)


def downgrade() -> None:
    # The code before this revision reads 14-bit sketches only: the 16-bit ones are dropped and refolded.
    op.execute("DELETE FROM analytics_breakdown_totals WHERE get_byte(sketch, 0) > 2")
    op.execute("UPDATE analytics_breakdown_days SET sketch = NULL WHERE get_byte(sketch, 0) > 2")
    op.execute(_REFOLD)
