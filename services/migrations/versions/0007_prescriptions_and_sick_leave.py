"""Prescriptions (107-1/у, 148-1/у-04(л), 148-1/у-88) with their items, sick-leave certificates
(ЭЛН) with their release periods, the ЭЛН numbers obtained, and named number sequences.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "number_sequence",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("last_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_number_sequence")),
    )
    op.create_table(
        "prescription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "form",
            sa.Enum(
                "107-1u",
                "148-1u-04l",
                "148-1u-88",
                name="prescriptionform",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("series", sa.String(length=10), nullable=True),
        sa.Column("number", sa.String(length=12), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=False),
        sa.Column("special_purpose", sa.Boolean(), nullable=False),
        sa.Column("dispense_every_days", sa.Integer(), nullable=True),
        sa.Column("mkb_code", sa.String(length=8), nullable=False),
        sa.Column("benefit_category", sa.String(length=3), nullable=False),
        sa.Column("funding_source", sa.Integer(), nullable=True),
        sa.Column("payment_percent", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("encounter_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.Integer(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=300), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cancelled_by"], ["staff.id"], name=op.f("fk_prescription_cancelled_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["emk_document.id"],
            name=op.f("fk_prescription_document_id_emk_document"),
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounter.id"], name=op.f("fk_prescription_encounter_id_encounter")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["staff.id"], name=op.f("fk_prescription_issued_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_prescription_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_prescription_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescription")),
        sa.UniqueConstraint(
            "organisation_id",
            "form",
            "series",
            "number",
            name=op.f("uq_prescription_organisation_id"),
        ),
    )
    with op.batch_alter_table("prescription", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prescription_encounter_id"), ["encounter_id"], unique=False
        )
        batch_op.create_index(
            "ix_prescription_patient_issued", ["patient_id", "issued_on"], unique=False
        )

    op.create_table(
        "sick_leave",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=12), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "primary",
                "continuation",
                "duplicate",
                name="sickleavekind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("previous_number", sa.String(length=12), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("employer", sa.String(length=255), nullable=False),
        sa.Column(
            "employment",
            sa.Enum("main", "secondary", name="employment", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("main_job_number", sa.String(length=12), nullable=False),
        sa.Column("unemployed_registered", sa.Boolean(), nullable=False),
        sa.Column("reason_code", sa.String(length=2), nullable=False),
        sa.Column("additional_code", sa.String(length=2), nullable=False),
        sa.Column("change_code", sa.String(length=2), nullable=False),
        sa.Column("mkb_code", sa.String(length=8), nullable=False),
        sa.Column("carer1_relation", sa.String(length=2), nullable=False),
        sa.Column("carer1_age_years", sa.Integer(), nullable=True),
        sa.Column("carer1_age_months", sa.Integer(), nullable=True),
        sa.Column("carer1_name", sa.String(length=180), nullable=False),
        sa.Column("carer2_relation", sa.String(length=2), nullable=False),
        sa.Column("carer2_age_years", sa.Integer(), nullable=True),
        sa.Column("carer2_age_months", sa.Integer(), nullable=True),
        sa.Column("carer2_name", sa.String(length=180), nullable=False),
        sa.Column("vk_chair_id", sa.Integer(), nullable=True),
        sa.Column("violation_code", sa.String(length=2), nullable=False),
        sa.Column("violation_date", sa.Date(), nullable=True),
        sa.Column("return_to_work_on", sa.Date(), nullable=True),
        sa.Column("outcome_code", sa.String(length=2), nullable=False),
        sa.Column("outcome_date", sa.Date(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("encounter_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.Integer(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=300), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cancelled_by"], ["staff.id"], name=op.f("fk_sick_leave_cancelled_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["staff.id"], name=op.f("fk_sick_leave_closed_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["emk_document.id"],
            name=op.f("fk_sick_leave_document_id_emk_document"),
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounter.id"], name=op.f("fk_sick_leave_encounter_id_encounter")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["staff.id"], name=op.f("fk_sick_leave_issued_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_sick_leave_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_sick_leave_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["vk_chair_id"], ["staff.id"], name=op.f("fk_sick_leave_vk_chair_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sick_leave")),
        sa.UniqueConstraint("number", name=op.f("uq_sick_leave_number")),
    )
    with op.batch_alter_table("sick_leave", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sick_leave_encounter_id"), ["encounter_id"], unique=False
        )
        batch_op.create_index(
            "ix_sick_leave_patient_issued", ["patient_id", "issued_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sick_leave_previous_number"), ["previous_number"], unique=False
        )

    op.create_table(
        "eln_number",
        sa.Column("number", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("obtained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sick_leave_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sick_leave_id"],
            ["sick_leave.id"],
            name=op.f("fk_eln_number_sick_leave_id_sick_leave"),
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_eln_number")),
    )
    op.create_table(
        "prescription_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prescription_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("drug_id", sa.String(length=60), nullable=False),
        sa.Column("mnn", sa.String(length=200), nullable=False),
        sa.Column("latin", sa.String(length=200), nullable=False),
        sa.Column("dosage_form", sa.String(length=20), nullable=False),
        sa.Column("strength", sa.String(length=60), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("dose", sa.Float(), nullable=False),
        sa.Column("times_per_day", sa.Integer(), nullable=False),
        sa.Column("every_days", sa.Integer(), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column("route", sa.String(length=60), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("signa", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["prescription_id"],
            ["prescription.id"],
            name=op.f("fk_prescription_item_prescription_id_prescription"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescription_item")),
        sa.UniqueConstraint(
            "prescription_id", "position", name=op.f("uq_prescription_item_prescription_id")
        ),
    )
    op.create_table(
        "sick_leave_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sick_leave_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column("doctor_role", sa.String(length=120), nullable=False),
        sa.Column("chair_id", sa.Integer(), nullable=True),
        sa.Column("chair_role", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["chair_id"], ["staff.id"], name=op.f("fk_sick_leave_period_chair_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["staff.id"], name=op.f("fk_sick_leave_period_created_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"], ["staff.id"], name=op.f("fk_sick_leave_period_doctor_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["sick_leave_id"],
            ["sick_leave.id"],
            name=op.f("fk_sick_leave_period_sick_leave_id_sick_leave"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sick_leave_period")),
        sa.UniqueConstraint(
            "sick_leave_id", "position", name=op.f("uq_sick_leave_period_sick_leave_id")
        ),
    )
    with op.batch_alter_table("sick_leave_period", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sick_leave_period_sick_leave_id"), ["sick_leave_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sick_leave_period", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sick_leave_period_sick_leave_id"))

    op.drop_table("sick_leave_period")
    op.drop_table("prescription_item")
    op.drop_table("eln_number")
    with op.batch_alter_table("sick_leave", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sick_leave_previous_number"))
        batch_op.drop_index("ix_sick_leave_patient_issued")
        batch_op.drop_index(batch_op.f("ix_sick_leave_encounter_id"))

    op.drop_table("sick_leave")
    with op.batch_alter_table("prescription", schema=None) as batch_op:
        batch_op.drop_index("ix_prescription_patient_issued")
        batch_op.drop_index(batch_op.f("ix_prescription_encounter_id"))

    op.drop_table("prescription")
    op.drop_table("number_sequence")
