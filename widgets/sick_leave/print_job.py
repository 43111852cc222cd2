"""An ЭЛН as a print job: the service's certificate mapped onto what paper it goes on.

It lives here, in the layer that sees both: ``services`` knows the certificate, ``printing``
knows the sheet and the 347н blank, and neither imports the other.  Imported on the first
print only (it pulls in reportlab).

Three ways to paper (shared/FORMS.md §2, §4):

* the patient's informational sheet, A4 or A5 — the usual case: the certificate itself is
  electronic, the sheet carries its number for the employer;
* the 347н overlay — the exceptional paper certificate (255-ФЗ art. 13 part 28): the doctor's
  part of a protected blank fed into the printer, moved by the printer's measured offset;
* the 347н draft — the same on plain paper, marked «ЧЕРНОВИК», to check before a blank is spent.

A reprint (``copy_no`` > 1) is rendered and titled «Дубликат».  The archive counts copies per
certificate whatever the paper, as the service's ``next_copy`` does; a draft is not a copy of
anything and carries its own object type, so the caller does not archive it as one.
"""

from __future__ import annotations

import enum
from typing import Literal

from printing.page import PrintOptions
from printing.sick_leave_347 import render_sick_leave_347
from printing.sick_leave_sheet import (
    CaredPerson,
    RegimeViolation,
    ReleasePeriod,
    SickLeave,
    render_sick_leave_sheet,
)
from services.errors import ValidationError
from services.printouts import PrintJob
from services.sick_leave import SickLeavePrint

__all__ = ["DRAFT_OBJECT", "OBJECT", "Paper", "sick_leave_form", "sick_leave_job"]

OBJECT = "sick_leave"
DRAFT_OBJECT = "sick_leave_draft"
UNEMPLOYED = "состоит на учёте в службе занятости"


class Paper(enum.StrEnum):
    """What the certificate is printed on; the value is what the choice list shows."""

    SHEET_A4 = "Информационный лист для пациента, A4"
    SHEET_A5 = "Информационный лист для пациента, A5"
    BLANK_347 = "Бланк 347н — заполнить бумажный бланк (наложение)"
    DRAFT_347 = "Бланк 347н — черновик на обычной бумаге"

    @property
    def overlay(self) -> bool:
        return self in (Paper.BLANK_347, Paper.DRAFT_347)


_CHAIR_ROLE = "председатель врачебной комиссии"


def _on_blank(position: str) -> str:
    """A position as written in the 347н table's narrow column: «председатель ВК»."""
    return position.replace("врачебной комиссии", "ВК")


def _on_sheet(position: str) -> str:
    """The sheet's row already says «Председатель врачебной комиссии»: the service's role of
    the same words is not repeated after it (a real job title would be)."""
    return "" if position.strip().casefold() == _CHAIR_ROLE else position


def sick_leave_form(p: SickLeavePrint, *, blank: bool = False) -> SickLeave:
    """The printing side's certificate (the same data for the sheet and the 347н blank).

    ``blank``: for the 347н table, whose «Должность врача» column holds some 20 capitals —
    the chair's «председатель врачебной комиссии» goes there as doctors write it by hand,
    «председатель ВК» (the sheet prints it whole).
    """
    short = _on_blank if blank else _on_sheet
    return SickLeave(
        number=p.number,
        issued_on=p.issued_on,
        organisation_name=p.organisation_name,
        organisation_address=p.organisation_address,
        organisation_ogrn=p.organisation_ogrn,
        patient_name=p.patient_name,
        birth_date=p.birth_date,
        sex=p.sex,
        snils=p.snils,
        # A registered unemployed person (BOZ_FLAG) has no employer: the line says why.
        employer=p.employer or (UNEMPLOYED if p.unemployed_registered else ""),
        main_job=p.main_job,
        reason_code=p.reason_code,
        periods=tuple(
            ReleasePeriod(
                start=x.start,
                end=x.end,
                doctor_position=x.doctor_position,
                doctor_name=x.doctor_name,
                chair_position=short(x.chair_position),
                chair_name=x.chair_name,
            )
            for x in p.periods
        ),
        # The printing side's ``previous_number`` is the certificate continued (PREV_LN_CODE
        # of a continuation); the service keeps a duplicate's replaced number in the same
        # field, which the sheet must not print as «продолжение».
        previous_number=p.previous_number if p.continuation else "",
        duplicate=p.duplicate,
        main_job_number=p.main_job_number,
        additional_code=p.additional_code,
        change_code=p.change_code,
        cared=tuple(
            CaredPerson(c.name, c.relation_code, c.age_years, c.age_months) for c in p.cared
        ),
        violation=(
            RegimeViolation(p.violation_code, p.violation_date)
            if p.violation_code and p.violation_date
            else None
        ),
        return_to_work=p.return_to_work,
        outcome_code=p.outcome_code,
        outcome_date=p.outcome_date,
        next_number=p.next_number,
        doctor_position=p.doctor_position,
        doctor_name=p.doctor_name,
    )


def sick_leave_job(
    p: SickLeavePrint, paper: Paper, *, offset_mm: tuple[float, float] = (0.0, 0.0)
) -> PrintJob:
    """Render the certificate on ``paper``; runs in the I/O lane.

    ``offset_mm`` is the printer's (x, y) offset from the calibration sheet, applied to the
    347н overlay and its draft (the sheet is a whole form on plain paper and needs none).

    Raises:
        ValidationError: what the 347н blank has no place for (a fourth period, a name longer
            than its cells), named instead of cut.
    """
    draft = paper == Paper.DRAFT_347
    options = PrintOptions(
        duplicate=p.copy_no > 1 and not draft,
        draft=draft,
        offset_mm=offset_mm if paper.overlay else (0.0, 0.0),
    )
    data = sick_leave_form(p, blank=paper.overlay)
    size: Literal["A4", "A5"] = "A5" if paper == Paper.SHEET_A5 else "A4"
    try:
        if paper.overlay:
            pdf = render_sick_leave_347(data, options)
        else:
            pdf = render_sick_leave_sheet(data, options, size)
    except ValueError as e:  # the printing side refuses rather than cut: say so, as a rule
        rule = str(e).removeprefix("Бланк 347н: ")
        raise ValidationError("Бланк 347н", rule, key="print") from e
    if paper.overlay:
        form, title = "347н", f"Листок нетрудоспособности № {p.number} (бланк 347н)"
    else:
        form, title = "ЭЛН, лист пациента", f"ЭЛН № {p.number}: лист для пациента ({size})"
    return PrintJob(
        patient_id=p.patient_id,
        form=form + (" (черновик)" if draft else ""),
        title=title + (" — черновик" if draft else ""),
        object_type=DRAFT_OBJECT if draft else OBJECT,
        object_id=p.sick_leave_id,
        emk_document_id=p.document_id,
        copy_no=1 if draft else p.copy_no,
        pdf=pdf,
    )
