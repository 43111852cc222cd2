"""The archive of printed documents: every print or saved PDF is kept, and a reprint is a
duplicate.

The flow is two steps because the user may close the preview without printing: the caller
asks :func:`next_copy` which copy a print would be (so the PDF is rendered with or without the
«Дубликат» mark), shows it, and calls :func:`archive` with the very bytes the user printed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services import audit
from services.audit import Actor
from services.errors import ConflictError
from services.models import Printout

__all__ = ["PrintJob", "archive", "next_copy", "printouts_of"]


@dataclass(frozen=True)
class PrintJob:
    """A rendered document waiting to be printed (what the preview shows)."""

    patient_id: int
    form: str  # «057/у»
    title: str  # «Направление 057/у № 2026-0000012»
    object_type: str
    object_id: int
    emk_document_id: int | None
    copy_no: int
    pdf: bytes

    @property
    def duplicate(self) -> bool:
        return self.copy_no > 1

    @property
    def filename(self) -> str:
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.title)
        return f"{safe}.pdf"


def next_copy(session: Session, object_type: str, object_id: int) -> int:
    """1 if nothing was printed for this object yet, else the number the next copy gets."""
    done = session.scalar(
        select(func.max(Printout.copy_no)).where(
            Printout.object_type == object_type, Printout.object_id == object_id
        )
    )
    return (done or 0) + 1


def archive(session: Session, actor: Actor, job: PrintJob) -> int:
    """Store the printed bytes with who and where; returns the archive row id.

    Raises:
        ConflictError: this copy number was archived meanwhile (another workstation printed
            the same document): print again — it will be a duplicate.
    """
    row = Printout(
        patient_id=job.patient_id,
        form=job.form,
        title=job.title[:200],
        object_type=job.object_type,
        object_id=job.object_id,
        emk_document_id=job.emk_document_id,
        copy_no=job.copy_no,
        pdf=job.pdf,
        sha256=hashlib.sha256(job.pdf).hexdigest(),
        printed_by=actor.staff_id,
        workstation_id=actor.workstation_id,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ConflictError(
            "Этот документ только что напечатали на другом рабочем месте. Откройте печать "
            "заново: копия будет отмечена «Дубликат»."
        ) from None
    audit.record(
        session,
        actor,
        f"print.{job.object_type}",
        patient_id=job.patient_id,
        object_type=job.object_type,
        object_id=job.object_id,
        details=f"{job.form}, копия {job.copy_no}" + (" (дубликат)" if job.duplicate else ""),
    )
    session.commit()
    return row.id


def printouts_of(session: Session, object_type: str, object_id: int) -> list[tuple[int, int]]:
    """(archive id, copy number) of every print of an object, oldest first."""
    stmt = (
        select(Printout.id, Printout.copy_no)
        .where(Printout.object_type == object_type, Printout.object_id == object_id)
        .order_by(Printout.copy_no)
    )
    return [(i, c) for i, c in session.execute(stmt)]
