"""study readings

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 19:27:08.339136
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "study_reading",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_uid", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("study_date", sa.Date(), nullable=True),
        sa.Column("modality", sa.String(length=32), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("accession", sa.String(length=64), nullable=False),
        sa.Column("pacs", sa.String(length=64), nullable=False),
        sa.Column("images", sa.Integer(), nullable=True),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "unread", "draft", "signed", name="readingstatus", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("conclusion", sa.Text(), nullable=False),
        sa.Column("radiologist_id", sa.Integer(), nullable=True),
        sa.Column("draft_saved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["emk_document.id"],
            name=op.f("fk_study_reading_document_id_emk_document"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_study_reading_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["radiologist_id"], ["staff.id"], name=op.f("fk_study_reading_radiologist_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referral.id"], name=op.f("fk_study_reading_referral_id_referral")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_reading")),
        sa.UniqueConstraint("study_uid", name=op.f("uq_study_reading_study_uid")),
    )
    with op.batch_alter_table("study_reading", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_study_reading_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_study_reading_referral_id"), ["referral_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_study_reading_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_study_reading_study_date"), ["study_date"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("study_reading", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_study_reading_study_date"))
        batch_op.drop_index(batch_op.f("ix_study_reading_status"))
        batch_op.drop_index(batch_op.f("ix_study_reading_referral_id"))
        batch_op.drop_index(batch_op.f("ix_study_reading_patient_id"))

    op.drop_table("study_reading")
