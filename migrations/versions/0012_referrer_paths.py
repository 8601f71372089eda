"""Referrer paths: what was stored before the path rule loses its ``;parameters`` and secret-looking segments.

New views store a referrer's path without ``;parameters`` and without segments that hold an
e-mail address, a JWT, a UUID or long hex string, or a long run mixing letters and digits
(``chalicelib.services.privacy.stored_referrer``). This applies the same rule to what is already
stored: raw views in place, and the hourly and daily referrer roll-ups merged under their cleaned
key. The SQL below is the rule's twin (it decodes ``%40`` only, the escape e-mail addresses show
up with); ``tests/db/test_migrations.py`` checks it against the Python rule on the same cases.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TWIN = r"""
CREATE FUNCTION pg_temp.secret_segment(segment text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $fn$
  SELECT decoded ~ '[^@/[:space:]]+@[^@/[:space:]]+\.[A-Za-z]{2,}'
      OR decoded ~ 'eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*'
      OR (decoded ~ '^[0-9a-fA-F-]{16,}$' AND decoded ~ '[0-9]' AND decoded ~ '[a-fA-F]')
      OR EXISTS (
        SELECT 1 FROM regexp_split_to_table(decoded, '[-_.~:,!@$&''()*]+') AS word
        WHERE word ~ '^[A-Za-z0-9+/=]{16,}$' AND word ~ '[0-9]' AND word ~ '[A-Za-z]'
      )
  FROM (SELECT replace(segment, '%40', '@') AS decoded) AS d
$fn$;
CREATE FUNCTION pg_temp.cleaned_referrer(url text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
  SELECT CASE WHEN origin IS NULL THEN url ELSE origin || (
    SELECT CASE WHEN cleaned LIKE '/%' THEN cleaned ELSE '/' || COALESCE(cleaned, '') END FROM (
      SELECT string_agg(segment, '/' ORDER BY position) AS cleaned FROM (
        SELECT split_part(part, ';', 1) AS segment, position
        FROM regexp_split_to_table(COALESCE(path, '/'), '/') WITH ORDINALITY AS p(part, position)
      ) AS segments
      WHERE NOT pg_temp.secret_segment(segment)
    ) AS joined
  ) END
  FROM (SELECT substring(url FROM '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*') AS origin,
               substring(url FROM '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*(/[^?#]*)') AS path) AS parts
$fn$;
"""
# Cheap to test, and true of every referrer the rule could change: only those are rewritten.
_CANDIDATE = r"referer ~ '(;|@|%40|eyJ|[0-9A-Fa-f-]{16}|[A-Za-z0-9+/=]{16})'"


def upgrade() -> None:
    op.execute(_TWIN)
    op.execute(
        f"""UPDATE video_views SET referer = pg_temp.cleaned_referrer(referer)
            WHERE {_CANDIDATE} AND referer IS DISTINCT FROM pg_temp.cleaned_referrer(referer)"""
    )
    for table, period in (("analytics_referrers", "hour"), ("analytics_referrer_days", "day")):
        op.execute(
            f"""
            WITH changed AS (
              DELETE FROM {table}
              WHERE {_CANDIDATE} AND referer IS DISTINCT FROM pg_temp.cleaned_referrer(referer)
              RETURNING video_id, {period}, team, pg_temp.cleaned_referrer(referer) AS referer, views
            )
            INSERT INTO {table} AS t (video_id, {period}, team, referer, views)
            SELECT video_id, {period}, team, referer, sum(views) FROM changed GROUP BY 1, 2, 3, 4
            ON CONFLICT (video_id, {period}, team, referer) DO UPDATE SET views = t.views + EXCLUDED.views
            """
        )


def downgrade() -> None:
    """Nothing to undo: the removed segments are gone for good, which is the point."""
