"""Consent and source of views, and the daily salts of anonymous visitor keys.

* ``video_views.consented``: true when the viewer agreed that the view carries their user id
  (``"consent": true`` and no ``Sec-GPC: 1``); a view recorded without consent carries none.
  Views recorded before this have it NULL: registered-viewer lists leave them out.
* ``video_views.source``: ``web`` (a page on an allowed origin) or ``app`` (a request naming no
  page: a server-side player, a native app), so reports can tell them apart; NULL before this.
* ``visitor_salts``: the salt of each UTC day's anonymous visitor keys (a keyed hash of IP and
  User-Agent). Only the current day's is kept: once it is gone no key of an earlier day can be
  recomputed from an address, and no key links a visitor across days.

Both columns are nullable without a default and unconstrained: adding them rewrites and scans no
row of a table of millions (the tracking statements write only those values).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("video_views", sa.Column("consented", sa.Boolean))
    op.add_column("video_views", sa.Column("source", sa.Text))
    op.create_table(
        "visitor_salts",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("salt", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("visitor_salts")
    op.drop_column("video_views", "source")
    op.drop_column("video_views", "consented")
