"""Initial schema: organisation, staff, cards, patients, family relations, schedule, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("short_name", sa.String(length=100), nullable=False),
        sa.Column("ogrn", sa.String(length=13), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("ogrn", name=op.f("uq_organisation_ogrn")),
    )
    op.create_table(
        "department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "adult",
                "children",
                "diagnostic",
                name="departmentkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_department_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department")),
    )
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_department_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("surname", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("patronymic", sa.String(length=60), nullable=False),
        sa.Column(
            "sex", sa.Enum("M", "F", name="sex", native_enum=False, length=20), nullable=False
        ),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("snils", sa.String(length=11), nullable=True),
        sa.Column("policy_number", sa.String(length=16), nullable=True),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("attachment_department_id", sa.Integer(), nullable=True),
        sa.Column("attached_since", sa.Date(), nullable=True),
        sa.Column(
            "search_key",
            sa.String(length=200).with_variant(sa.String(length=200, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("sex IN ('M', 'F')", name=op.f("ck_patient_sex")),
        sa.ForeignKeyConstraint(
            ["attachment_department_id"],
            ["department.id"],
            name=op.f("fk_patient_attachment_department_id_department"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
        sa.UniqueConstraint("policy_number", name=op.f("uq_patient_policy_number")),
        sa.UniqueConstraint("snils", name=op.f("uq_patient_snils")),
    )
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patient_attachment_department_id"),
            ["attachment_department_id"],
            unique=False,
        )
        batch_op.create_index("ix_patient_search", ["search_key", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_patient_birth_date"), ["birth_date"], unique=False)

    op.create_table(
        "room",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_room_department_id_department")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room")),
        sa.UniqueConstraint("department_id", "number", name=op.f("uq_room_department_id")),
    )
    with op.batch_alter_table("room", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_room_department_id"), ["department_id"], unique=False)

    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("surname", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("patronymic", sa.String(length=60), nullable=False),
        sa.Column("position", sa.String(length=120), nullable=False),
        sa.Column("specialty", sa.String(length=120), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("snils", sa.String(length=11), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_staff_department_id_department")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("snils", name=op.f("uq_staff_snils")),
    )
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_department_id"), ["department_id"], unique=False)

    op.create_table(
        "card_binding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("card_serial", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_card_binding_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_binding")),
        sa.UniqueConstraint("card_serial", name=op.f("uq_card_binding_card_serial")),
    )
    with op.batch_alter_table("card_binding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_card_binding_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "family_relation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("relative_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "mother",
                "father",
                "guardian",
                "trustee",
                "grandparent",
                "spouse",
                "sibling",
                "other",
                name="relationkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("is_legal_representative", sa.Boolean(), nullable=False),
        sa.Column("basis_document", sa.String(length=300), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("patient_id <> relative_id", name=op.f("ck_family_relation_not_self")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_family_relation_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["relative_id"], ["patient.id"], name=op.f("fk_family_relation_relative_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_relation")),
    )
    with op.batch_alter_table("family_relation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_family_relation_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_family_relation_relative_id"), ["relative_id"], unique=False
        )

    op.create_table(
        "schedule_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bookable", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["room.id"], name=op.f("fk_schedule_slot_room_id_room")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_schedule_slot_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_slot")),
    )
    with op.batch_alter_table("schedule_slot", schema=None) as batch_op:
        batch_op.create_index(
            "ix_schedule_slot_staff_start", ["staff_id", "starts_at"], unique=False
        )

    op.create_table(
        "staff_role",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "doctor",
                "registrar",
                "radiologist",
                "admin",
                name="role",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_staff_role_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("staff_id", "role", name=op.f("pk_staff_role")),
    )
    op.create_table(
        "workstation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"], name=op.f("fk_workstation_room_id_room")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workstation")),
        sa.UniqueConstraint("code", name=op.f("uq_workstation_code")),
    )
    with op.batch_alter_table("workstation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workstation_room_id"), ["room_id"], unique=False)

    op.create_table(
        "appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column(
            "visit_type",
            sa.Enum(
                "first",
                "repeat",
                "referral",
                "walk_in",
                "home",
                name="visittype",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "source",
            sa.Enum(
                "registry",
                "portal",
                "infomat",
                "call_centre",
                "doctor",
                name="bookingsource",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "booked",
                "arrived",
                "in_progress",
                "paused",
                "finished",
                "no_show",
                "cancelled",
                name="appointmentstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("cancel_reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_appointment_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["schedule_slot.id"], name=op.f("fk_appointment_slot_id_schedule_slot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment")),
        sa.UniqueConstraint("slot_id", name=op.f("uq_appointment_slot_id")),
    )
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointment_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("workstation_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_audit_event_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_audit_event_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["workstation_id"],
            ["workstation.id"],
            name=op.f("fk_audit_event_workstation_id_workstation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_patient_at", ["patient_id", "at"], unique=False)

    op.create_table(
        "encounter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("workstation_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "booked",
                "arrived",
                "in_progress",
                "paused",
                "finished",
                "no_show",
                "cancelled",
                name="appointmentstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_encounter_appointment_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_encounter_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_encounter_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["workstation_id"],
            ["workstation.id"],
            name=op.f("fk_encounter_workstation_id_workstation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_encounter")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_encounter_appointment_id")),
    )
    with op.batch_alter_table("encounter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_encounter_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_encounter_staff_id"), ["staff_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("encounter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_encounter_staff_id"))
        batch_op.drop_index(batch_op.f("ix_encounter_patient_id"))

    op.drop_table("encounter")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_patient_at")

    op.drop_table("audit_event")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_patient_id"))

    op.drop_table("appointment")
    with op.batch_alter_table("workstation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workstation_room_id"))

    op.drop_table("workstation")
    op.drop_table("staff_role")
    with op.batch_alter_table("schedule_slot", schema=None) as batch_op:
        batch_op.drop_index("ix_schedule_slot_staff_start")

    op.drop_table("schedule_slot")
    with op.batch_alter_table("family_relation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_family_relation_relative_id"))
        batch_op.drop_index(batch_op.f("ix_family_relation_patient_id"))

    op.drop_table("family_relation")
    with op.batch_alter_table("card_binding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_binding_staff_id"))

    op.drop_table("card_binding")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_department_id"))

    op.drop_table("staff")
    with op.batch_alter_table("room", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_room_department_id"))

    op.drop_table("room")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_birth_date"))
        batch_op.drop_index("ix_patient_search")
        batch_op.drop_index(batch_op.f("ix_patient_attachment_department_id"))

    op.drop_table("patient")
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_department_organisation_id"))

    op.drop_table("department")
    op.drop_table("organisation")
