"""Importing a library from the Fastify/Prisma module: where each run got to, and which ids it gave.

* ``import_checkpoints``: per source and step, the last source id copied (raw views and
  events go in id order, a chunk per transaction together with its checkpoint, so a
  killed import resumes where it stopped and a second run copies nothing) and the
  step's details (id offsets, the oldest instant still to fold);
* ``import_ids``: the id each imported video and schedule row got (a video keeps its
  id when it is free), and the state of its media;
* ``video_views.ip_legacy``: the IP hash is the module's plain SHA-256, not this
  service's keyed hash (kept so unique viewers stay what they were).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TIMESTAMPTZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "import_checkpoints",
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("step", sa.Text, primary_key=True),
        sa.Column("position", sa.BigInteger, server_default="0", nullable=False),
        sa.Column("detail", sa.dialects.postgresql.JSONB, server_default="{}", nullable=False),
        sa.Column("updated_at", TIMESTAMPTZ, server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "import_ids",
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, primary_key=True),
        sa.Column("legacy_id", sa.Integer, primary_key=True),
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("state", sa.Text),
    )
    # A constant default: PostgreSQL records it in the catalogue, no partition is rewritten.
    op.add_column("video_views", sa.Column("ip_legacy", sa.Boolean, server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column("video_views", "ip_legacy")
    op.drop_table("import_ids")
    op.drop_table("import_checkpoints")
