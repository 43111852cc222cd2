"""The EMK: signed documents, their diagnoses and lab values, signal data, protocol drafts.

Signed documents are immutable: triggers refuse UPDATE and DELETE on ``emk_document``,
``document_diagnosis`` and ``lab_result`` on both backends, whatever code runs against them
(an amendment is a new row pointing at the old one).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


_IMMUTABLE = ("emk_document", "document_diagnosis", "lab_result")


def _create_immutability_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION arm_signed_is_immutable() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'signed EMK rows are immutable (%): amend instead', TG_TABLE_NAME
                    USING ERRCODE = 'integrity_constraint_violation';
            END
            $$ LANGUAGE plpgsql
            """
        )
        for table in _IMMUTABLE:
            op.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION arm_signed_is_immutable()"
            )
        return
    for table in _IMMUTABLE:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_immutable_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'signed EMK rows are immutable ({table}): amend "
                "instead'); END"
            )


def _drop_immutability_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _IMMUTABLE:
            op.execute(f"DROP TRIGGER {table}_immutable ON {table}")
        op.execute("DROP FUNCTION arm_signed_is_immutable()")
        return
    for table in _IMMUTABLE:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_immutable_{event}")


def upgrade() -> None:
    op.create_table(
        "allergy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("substance", sa.String(length=120), nullable=False),
        sa.Column("reaction", sa.String(length=200), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "mild", "moderate", "severe", name="allergyseverity", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("noted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("noted_by", sa.Integer(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.Integer(), nullable=True),
        sa.Column("end_reason", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["ended_by"], ["staff.id"], name=op.f("fk_allergy_ended_by_staff")),
        sa.ForeignKeyConstraint(["noted_by"], ["staff.id"], name=op.f("fk_allergy_noted_by_staff")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_allergy_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allergy")),
    )
    with op.batch_alter_table("allergy", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_allergy_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "blood_type",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("abo", sa.String(length=8), nullable=False),
        sa.Column("rh", sa.String(length=1), nullable=False),
        sa.Column("noted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("noted_by", sa.Integer(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["noted_by"], ["staff.id"], name=op.f("fk_blood_type_noted_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_blood_type_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_blood_type")),
    )
    op.create_table(
        "dispensary_condition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("specialty", sa.String(length=80), nullable=False),
        sa.Column("noted_by", sa.Integer(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("ended_by", sa.Integer(), nullable=True),
        sa.Column("end_reason", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["ended_by"], ["staff.id"], name=op.f("fk_dispensary_condition_ended_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["noted_by"], ["staff.id"], name=op.f("fk_dispensary_condition_noted_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_dispensary_condition_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispensary_condition")),
    )
    with op.batch_alter_table("dispensary_condition", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dispensary_condition_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "emk_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "protocol",
                "lab",
                "imaging",
                "instrumental",
                "discharge",
                "vaccination",
                "prescription",
                "sick_leave",
                "referral",
                name="dockind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("specialty", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("author_name", sa.String(length=160), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("encounter_id", sa.Integer(), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("amend_reason", sa.String(length=300), nullable=False),
        sa.Column("study_uid", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounter.id"], name=op.f("fk_emk_document_encounter_id_encounter")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_emk_document_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["signed_by"], ["staff.id"], name=op.f("fk_emk_document_signed_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["emk_document.id"],
            name=op.f("fk_emk_document_supersedes_id_emk_document"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emk_document")),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_emk_document_supersedes_id")),
    )
    with op.batch_alter_table("emk_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_emk_document_encounter_id"), ["encounter_id"], unique=False
        )
        batch_op.create_index(
            "ix_emk_document_patient_time", ["patient_id", "occurred_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_emk_document_study_uid"), ["study_uid"], unique=False)

    op.create_table(
        "document_diagnosis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "main",
                "complication",
                "concomitant",
                name="diagnosisrole",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column(
            "character",
            sa.Enum(
                "acute",
                "chronic_new",
                "chronic_known",
                name="diagnosischaracter",
                native_enum=False,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["emk_document.id"],
            name=op.f("fk_document_diagnosis_document_id_emk_document"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_diagnosis")),
    )
    with op.batch_alter_table("document_diagnosis", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_diagnosis_document_id"), ["document_id"], unique=False
        )

    op.create_table(
        "lab_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("test_code", sa.String(length=20), nullable=False),
        sa.Column("test_name", sa.String(length=120), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("value_text", sa.String(length=60), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("ref_low", sa.Float(), nullable=True),
        sa.Column("ref_high", sa.Float(), nullable=True),
        sa.Column("flag", sa.String(length=1), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["emk_document.id"],
            name=op.f("fk_lab_result_document_id_emk_document"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_lab_result_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_result")),
    )
    with op.batch_alter_table("lab_result", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lab_result_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(
            "ix_lab_result_trend", ["patient_id", "test_code", "taken_at"], unique=False
        )

    op.create_table(
        "protocol_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("encounter_id", sa.Integer(), nullable=True),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["emk_document.id"],
            name=op.f("fk_protocol_draft_amends_id_emk_document"),
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounter.id"],
            name=op.f("fk_protocol_draft_encounter_id_encounter"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_protocol_draft_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_protocol_draft_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protocol_draft")),
        sa.UniqueConstraint("staff_id", "patient_id", name=op.f("uq_protocol_draft_staff_id")),
    )
    with op.batch_alter_table("protocol_draft", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_protocol_draft_patient_id"), ["patient_id"], unique=False
        )

    _create_immutability_triggers()


def downgrade() -> None:
    _drop_immutability_triggers()
    with op.batch_alter_table("protocol_draft", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_protocol_draft_patient_id"))

    op.drop_table("protocol_draft")
    with op.batch_alter_table("lab_result", schema=None) as batch_op:
        batch_op.drop_index("ix_lab_result_trend")
        batch_op.drop_index(batch_op.f("ix_lab_result_document_id"))

    op.drop_table("lab_result")
    with op.batch_alter_table("document_diagnosis", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_diagnosis_document_id"))

    op.drop_table("document_diagnosis")
    with op.batch_alter_table("emk_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emk_document_study_uid"))
        batch_op.drop_index("ix_emk_document_patient_time")
        batch_op.drop_index(batch_op.f("ix_emk_document_encounter_id"))

    op.drop_table("emk_document")
    with op.batch_alter_table("dispensary_condition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispensary_condition_patient_id"))

    op.drop_table("dispensary_condition")
    op.drop_table("blood_type")
    with op.batch_alter_table("allergy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allergy_patient_id"))

    op.drop_table("allergy")
