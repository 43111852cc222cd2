"""The doctor's day: pauses (delayed intake), walk-in queue, day closure, visit invariants.

A cancelled booking no longer holds its slot (the unique index covers live bookings only),
and a doctor can have one encounter in progress at a time — both enforced by the database,
so two workstations racing cannot break them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_LIVE = sa.text("status != 'cancelled'")
_IN_PROGRESS = sa.text("status = 'in_progress'")


def upgrade() -> None:
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_constraint("uq_appointment_slot_id", type_="unique")
        batch_op.add_column(sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("created_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_appointment_created_by_staff"), "staff", ["created_by"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_appointment_slot_id"), ["slot_id"], unique=False)
    op.create_index(
        "uq_appointment_live_slot",
        "appointment",
        ["slot_id"],
        unique=True,
        sqlite_where=_LIVE,
        postgresql_where=_LIVE,
    )
    op.create_index(
        "uq_encounter_in_progress",
        "encounter",
        ["staff_id"],
        unique=True,
        sqlite_where=_IN_PROGRESS,
        postgresql_where=_IN_PROGRESS,
    )
    op.create_table(
        "visit_pause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("encounter_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recheck_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounter.id"],
            name=op.f("fk_visit_pause_encounter_id_encounter"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_pause")),
    )
    op.create_index(op.f("ix_visit_pause_encounter_id"), "visit_pause", ["encounter_id"])
    op.create_table(
        "walk_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column(
            "status",
            sa.Enum("waiting", "taken", "left", name="walkinstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("left_reason", sa.String(length=300), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_walk_in_staff_id_staff")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_walk_in_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(["added_by"], ["staff.id"], name=op.f("fk_walk_in_added_by_staff")),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_walk_in_appointment_id_appointment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walk_in")),
    )
    op.create_index("ix_walk_in_staff_status", "walk_in", ["staff_id", "status"])
    op.create_index(op.f("ix_walk_in_patient_id"), "walk_in", ["patient_id"])
    op.create_table(
        "day_closure",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_day_closure_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["staff.id"], name=op.f("fk_day_closure_closed_by_staff")
        ),
        sa.PrimaryKeyConstraint("staff_id", "day", name=op.f("pk_day_closure")),
    )


def downgrade() -> None:
    op.drop_table("day_closure")
    op.drop_index(op.f("ix_walk_in_patient_id"), table_name="walk_in")
    op.drop_index("ix_walk_in_staff_status", table_name="walk_in")
    op.drop_table("walk_in")
    op.drop_index(op.f("ix_visit_pause_encounter_id"), table_name="visit_pause")
    op.drop_table("visit_pause")
    op.drop_index("uq_encounter_in_progress", table_name="encounter")
    op.drop_index("uq_appointment_live_slot", table_name="appointment")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_slot_id"))
        batch_op.drop_constraint(batch_op.f("fk_appointment_created_by_staff"), type_="foreignkey")
        batch_op.drop_column("created_by")
        batch_op.drop_column("arrived_at")
        batch_op.create_unique_constraint("uq_appointment_slot_id", ["slot_id"])
