"""Studies known to the record and their reading (описание исследования) by a radiologist.

A study lives in the PACS; ARM keeps one row per Study Instance UID that belongs to one of its
patients, so the radiologist's worklist, the reading status and the conclusion are database
facts shared by every workstation rather than something each PC re-derives from the PACS.
The signed conclusion itself is an EMK document (kind IMAGING, ``study_uid`` set) written by
``services.emk.add_document``; the row points at it.  A re-signed (corrected) conclusion
supersedes the document, and the row then points at the newest one.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, UtcDateTime, str_enum, utcnow


class ReadingStatus(enum.StrEnum):
    UNREAD = "unread"  # не описано
    DRAFT = "draft"  # черновик заключения
    SIGNED = "signed"  # заключение подписано


class StudyReading(Base):
    __tablename__ = "study_reading"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_uid: Mapped[str] = mapped_column(String(64), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    study_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    modality: Mapped[str] = mapped_column(String(32), default="")  # "CT", "CT\\SR", …
    description: Mapped[str] = mapped_column(String(200), default="")
    accession: Mapped[str] = mapped_column(String(64), default="")
    pacs: Mapped[str] = mapped_column(String(64), default="")  # where it was found; «CD»
    images: Mapped[int | None] = mapped_column()
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"), index=True)
    status: Mapped[ReadingStatus] = mapped_column(
        str_enum(ReadingStatus), default=ReadingStatus.UNREAD, index=True
    )
    # The draft: «Описание» and «Заключение», kept until signed (and after, for a correction).
    findings: Mapped[str] = mapped_column(Text, default="")
    conclusion: Mapped[str] = mapped_column(Text, default="")
    radiologist_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    draft_saved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("emk_document.id"))
    signed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}
