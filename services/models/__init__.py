"""The data model: SQLAlchemy 2 typed mappings, one module per group of nouns.

Importing this package registers every table on ``Base.metadata`` (Alembic reads it).
"""

from services.models.audit import AuditEvent
from services.models.base import Base
from services.models.child_access import ChildAccessGrant, SmsMessage, SmsStatus
from services.models.org import Department, DepartmentKind, Organisation, Room, Workstation
from services.models.patient import FamilyRelation, Patient, RelationKind, Sex
from services.models.prescription import (
    NumberSequence,
    Prescription,
    PrescriptionForm,
    PrescriptionItem,
)
from services.models.record import (
    Allergy,
    AllergySeverity,
    BloodType,
    DiagnosisCharacter,
    DiagnosisRole,
    DispensaryCondition,
    DocKind,
    DocumentDiagnosis,
    EmkDocument,
    LabResult,
    ProtocolDraft,
)
from services.models.referral import Printout, Referral, ReferralKind
from services.models.schedule import (
    Appointment,
    AppointmentStatus,
    BookingSource,
    DayClosure,
    Encounter,
    ScheduleSlot,
    VisitPause,
    VisitType,
    WalkIn,
    WalkInPriority,
    WalkInStatus,
)
from services.models.sick_leave import (
    ElnNumber,
    Employment,
    SickLeave,
    SickLeaveKind,
    SickLeavePeriod,
)
from services.models.staff import CardBinding, Role, Staff, StaffRole
from services.models.study import ReadingStatus, StudyReading
from services.models.workspace import WorkspaceState

__all__ = [
    "ReadingStatus",
    "StudyReading",
    "Allergy",
    "AllergySeverity",
    "Appointment",
    "AppointmentStatus",
    "AuditEvent",
    "Base",
    "BloodType",
    "BookingSource",
    "CardBinding",
    "ChildAccessGrant",
    "DayClosure",
    "Department",
    "DepartmentKind",
    "DiagnosisCharacter",
    "DiagnosisRole",
    "DispensaryCondition",
    "DocKind",
    "DocumentDiagnosis",
    "ElnNumber",
    "EmkDocument",
    "Employment",
    "Encounter",
    "FamilyRelation",
    "LabResult",
    "NumberSequence",
    "Organisation",
    "Patient",
    "Prescription",
    "PrescriptionForm",
    "PrescriptionItem",
    "Printout",
    "ProtocolDraft",
    "Referral",
    "ReferralKind",
    "RelationKind",
    "Role",
    "Room",
    "ScheduleSlot",
    "Sex",
    "SickLeave",
    "SickLeaveKind",
    "SickLeavePeriod",
    "SmsMessage",
    "SmsStatus",
    "Staff",
    "StaffRole",
    "VisitPause",
    "VisitType",
    "WalkIn",
    "WalkInPriority",
    "WalkInStatus",
    "WorkspaceState",
    "Workstation",
]
