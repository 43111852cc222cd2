"""Child EMK access grants («Доступ к ЭМК ребенка») and the SMS outbox.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("body", sa.String(length=480), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "delivered",
                "failed",
                "uncertain",
                "expired",
                "cancelled",
                name="smsstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.Column("gateway_reply", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_outbox")),
    )
    with op.batch_alter_table("sms_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_sms_outbox_due", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "child_access_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("relative_id", sa.Integer(), nullable=False),
        sa.Column("relation_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("application_signed", sa.Boolean(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.Integer(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("code_hash", sa.String(length=200), nullable=False),
        sa.Column("code_sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("code_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("sms_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=300), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["patient.id"], name=op.f("fk_child_access_grant_child_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["staff.id"], name=op.f("fk_child_access_grant_granted_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["relation_id"],
            ["family_relation.id"],
            name=op.f("fk_child_access_grant_relation_id_family_relation"),
        ),
        sa.ForeignKeyConstraint(
            ["relative_id"], ["patient.id"], name=op.f("fk_child_access_grant_relative_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["staff.id"], name=op.f("fk_child_access_grant_revoked_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["sms_id"], ["sms_outbox.id"], name=op.f("fk_child_access_grant_sms_id_sms_outbox")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child_access_grant")),
    )
    with op.batch_alter_table("child_access_grant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_child_access_grant_child_id"), ["child_id"], unique=False
        )
        batch_op.create_index("ix_child_access_phone", ["phone"], unique=False)
        batch_op.create_index(
            "uq_child_access_live",
            ["child_id", "relative_id"],
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("child_access_grant", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_child_access_live",
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )
        batch_op.drop_index("ix_child_access_phone")
        batch_op.drop_index(batch_op.f("ix_child_access_grant_child_id"))

    op.drop_table("child_access_grant")
    with op.batch_alter_table("sms_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_outbox_due")

    op.drop_table("sms_outbox")
