"""Referrer privacy: keep only scheme, host and path of stored referrers.

Referrers used to be stored verbatim, so a query string (a session id, a preview
token) or user:password@ could end up in ``topReferrers``. New views store only
scheme://host/path (``chalicelib.services.privacy.stored_referrer``); this
cleans what is already stored: raw views in place, and the daily referrer roll-ups
merged under their cleaned key. Referrers that are not http(s) URLs are dropped.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# SQL twin of stored_referrer for stored rows: drop ?query and #fragment, drop
# userinfo, refuse anything that is not http(s).
_CLEANED = """CASE WHEN {col} ~* '^https?://[^/?#]+' THEN
    regexp_replace(regexp_replace({col}, '[?#].*$', ''), '^([A-Za-z]+://)[^/@]*@', '\\1')
  END"""


def upgrade() -> None:
    cleaned_view = _CLEANED.format(col="referer")
    op.execute(
        f"UPDATE video_views SET referer = {cleaned_view} "
        "WHERE referer IS NOT NULL AND referer IS DISTINCT FROM " + cleaned_view
    )
    op.execute(
        f"""
        CREATE TEMPORARY TABLE cleaned_referrers ON COMMIT DROP AS
        SELECT video_id, day, {_CLEANED.format(col="referer")} AS referer, sum(views) AS views
        FROM video_daily_referrers GROUP BY 1, 2, 3
        """
    )
    op.execute("DELETE FROM video_daily_referrers")
    op.execute(
        "INSERT INTO video_daily_referrers (video_id, day, referer, views) "
        "SELECT video_id, day, referer, views FROM cleaned_referrers WHERE referer IS NOT NULL"
    )


def downgrade() -> None:
    """Nothing to undo: the removed query strings are gone for good, which is the point."""
