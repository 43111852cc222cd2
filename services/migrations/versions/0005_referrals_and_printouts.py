"""Referrals (направления), appointments booked by referral, and the printout archive.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "consultation",
                "lab",
                "instrumental",
                "imaging",
                "procedure",
                "hospitalisation",
                name="referralkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("target_specialty", sa.String(length=120), nullable=False),
        sa.Column("service_code", sa.String(length=20), nullable=False),
        sa.Column("service_name", sa.String(length=300), nullable=False),
        sa.Column("target_organisation", sa.String(length=300), nullable=False),
        sa.Column("modality", sa.String(length=4), nullable=False),
        sa.Column("mkb_code", sa.String(length=8), nullable=False),
        sa.Column("cito", sa.Boolean(), nullable=False),
        sa.Column("justification", sa.String(length=800), nullable=False),
        sa.Column("care_form", sa.Integer(), nullable=False),
        sa.Column("care_kind", sa.Integer(), nullable=False),
        sa.Column("care_conditions", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("encounter_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.Integer(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=300), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cancelled_by"], ["staff.id"], name=op.f("fk_referral_cancelled_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["emk_document.id"], name=op.f("fk_referral_document_id_emk_document")
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounter.id"], name=op.f("fk_referral_encounter_id_encounter")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["staff.id"], name=op.f("fk_referral_issued_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_referral_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
        sa.UniqueConstraint("number", name=op.f("uq_referral_number")),
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_encounter_id"), ["encounter_id"], unique=False
        )
        batch_op.create_index("ix_referral_kind_issued", ["kind", "issued_on"], unique=False)
        batch_op.create_index(
            "ix_referral_patient_issued", ["patient_id", "issued_on"], unique=False
        )

    op.create_table(
        "printout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("emk_document_id", sa.Integer(), nullable=True),
        sa.Column("copy_no", sa.Integer(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("printed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("printed_by", sa.Integer(), nullable=True),
        sa.Column("workstation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["emk_document_id"],
            ["emk_document.id"],
            name=op.f("fk_printout_emk_document_id_emk_document"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_printout_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["printed_by"], ["staff.id"], name=op.f("fk_printout_printed_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["workstation_id"],
            ["workstation.id"],
            name=op.f("fk_printout_workstation_id_workstation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_printout")),
        sa.UniqueConstraint(
            "object_type", "object_id", "copy_no", name=op.f("uq_printout_object_type")
        ),
    )
    with op.batch_alter_table("printout", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_printout_emk_document_id"), ["emk_document_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_printout_patient_id"), ["patient_id"], unique=False)

    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referral_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            "uq_appointment_live_referral",
            ["referral_id"],
            unique=True,
            sqlite_where=sa.text(
                "referral_id IS NOT NULL AND status NOT IN ('cancelled', 'no_show')"
            ),
            postgresql_where=sa.text(
                "referral_id IS NOT NULL AND status NOT IN ('cancelled', 'no_show')"
            ),
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_appointment_referral_id_referral"), "referral", ["referral_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_appointment_referral_id_referral"), type_="foreignkey"
        )
        batch_op.drop_index(
            "uq_appointment_live_referral",
            sqlite_where=sa.text(
                "referral_id IS NOT NULL AND status NOT IN ('cancelled', 'no_show')"
            ),
            postgresql_where=sa.text(
                "referral_id IS NOT NULL AND status NOT IN ('cancelled', 'no_show')"
            ),
        )
        batch_op.drop_column("referral_id")

    with op.batch_alter_table("printout", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_printout_patient_id"))
        batch_op.drop_index(batch_op.f("ix_printout_emk_document_id"))

    op.drop_table("printout")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_patient_issued")
        batch_op.drop_index("ix_referral_kind_issued")
        batch_op.drop_index(batch_op.f("ix_referral_encounter_id"))

    op.drop_table("referral")
