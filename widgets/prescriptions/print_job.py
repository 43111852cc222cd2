"""A prescription as a print job: the service's fields mapped onto the blank it was written on.

It lives here, in the layer that sees both: ``services`` knows the prescription, ``printing``
knows the three blanks, and neither imports the other.  Imported on the first print only (it
pulls in reportlab).

Which blank prints how (1094н app. 3 p. 1):

* 107-1/у and 148-1/у-04(л) are computer-made: the whole blank on plain A5 paper, no offset
  (the form's own margins hold on any printer);
* 148-1/у-88 exists only as a print-shop blank: either its values are overlaid on a
  pre-printed blank fed into the printer, moved by the printer's measured offset, or a draft of
  the whole blank is printed on plain paper, marked «ЧЕРНОВИК» (with the same offset, so held
  to the light over a real blank it shows where the overlay would land).

A reprint (``copy_no`` > 1) is rendered and titled «Дубликат»; a draft is not a document and is
never a copy of anything (see :func:`prescription_job`).
"""

from __future__ import annotations

from printing.page import PrintOptions
from printing.prescription import Organisation, Prescriber, PrescriptionItem, PrescriptionPatient
from printing.prescription_107 import Prescription107, render_prescription_107
from printing.prescription_148_04 import Prescription148_04, render_prescription_148_04
from printing.prescription_148_88 import Prescription148_88, render_prescription_148_88
from services.errors import ValidationError
from services.models import PrescriptionForm
from services.prescriptions import PrescriptionPrint, PrintItem
from services.printouts import PrintJob

__all__ = ["DRAFT_OBJECT", "OBJECT", "prescription_job"]

F = PrescriptionForm
OBJECT = "prescription"  # the archive's object type: copies are counted per prescription
DRAFT_OBJECT = "prescription_draft"  # a draft is counted apart and never archived as a copy


def _organisation(p: PrescriptionPrint) -> Organisation:
    return Organisation(
        name=p.organisation_name,
        address=p.organisation_address,
        phone=p.organisation_phone,
        ogrn=p.ogrn,
        okpo=p.okpo,
    )


def _patient(p: PrescriptionPrint) -> PrescriptionPatient:
    return PrescriptionPatient(
        name=p.patient_name,
        birth_date=p.birth_date,
        snils=p.snils,
        policy=p.policy_number,
        card_number=p.card_number,
        address=p.address,
    )


def _item(x: PrintItem) -> PrescriptionItem:
    # Rp. writes the name, the form and the strength; D.t.d. the quantity with its words
    # («№ 30 (тридцать)»), so a figure added on paper cannot change what is dispensed.
    return PrescriptionItem(
        drug=x.drug,
        form=x.form,
        strength=x.strength,
        quantity=x.quantity_text,
        signa=x.signa,
        route=x.route,
        days=x.days,
        times_per_day=x.times_per_day,
        per_dose=x.per_dose,
    )


def _render(p: PrescriptionPrint, options: PrintOptions) -> bytes:
    org, patient, doctor = _organisation(p), _patient(p), Prescriber(p.doctor_name)
    items = tuple(_item(x) for x in p.items)
    if p.form == F.F107:
        return render_prescription_107(
            Prescription107(
                organisation=org,
                issued_on=p.issued_on,
                patient=patient,
                prescriber=doctor,
                items=items,
                child=p.child,
                validity_days=p.validity_days,
                special_purpose=p.special_purpose,
                dispense_interval=p.dispense_interval,
            ),
            options,
        )
    if p.form == F.F148_04L:
        return render_prescription_148_04(
            Prescription148_04(
                organisation=org,
                series=p.series,
                number=p.number,
                issued_on=p.issued_on,
                category_code=p.benefit_category,
                mkb=p.mkb_code,
                funding=p.funding_source or 0,  # none: the blank refuses it, named
                payment=p.payment_percent or 0,
                patient=patient,
                prescriber=doctor,
                item=items[0],
                validity_days=p.validity_days,
            ),
            options,
        )
    return render_prescription_148_88(
        Prescription148_88(
            organisation=org,
            series=p.series,
            number=p.number,
            issued_on=p.issued_on,
            patient=patient,
            prescriber=doctor,
            item=items[0],
            child=p.child,
        ),
        options,
    )


def prescription_job(
    p: PrescriptionPrint, *, draft: bool = False, offset_mm: tuple[float, float] = (0.0, 0.0)
) -> PrintJob:
    """Render the blank; runs in the I/O lane.

    Args:
        p: the prescription's print data (its ``copy_no`` says whether this is a reprint).
        draft: 148-1/у-88 only — the whole blank on plain paper, marked «ЧЕРНОВИК», instead of
            the overlay.  A draft is not the prescription: it is titled as a draft, never
            marked «Дубликат» and carries the draft object type, so the caller shows it
            without archiving it as a copy (the next print on the real blank stays the
            original).
        offset_mm: the printer's (x, y) offset measured with the calibration sheet; applied to
            the 148-1/у-88 overlay and its draft only.

    Raises:
        ValidationError: a value the blank has no place for (an МКБ code longer than the
            148-1/у-04(л) cells, a stamp too long for the 148-1/у-88 overlay) — named, instead
            of a cut or misplaced value.
    """
    overlay = p.form == F.F148_88
    draft = draft and overlay
    options = PrintOptions(
        duplicate=p.copy_no > 1 and not draft,
        draft=draft,
        offset_mm=offset_mm if overlay else (0.0, 0.0),
    )
    try:
        pdf = _render(p, options)
    except ValueError as e:  # the printing side refuses rather than cut: say so, as a rule
        rule = str(e).removeprefix(f"Рецепт {p.form_number}: ")
        raise ValidationError(f"Бланк {p.form_number}", rule, key="print") from e
    number = f" серия {p.series} № {p.number}" if p.series else ""
    title = f"Рецепт {p.form_number}{number} от {p.issued_on:%d.%m.%Y}"
    return PrintJob(
        patient_id=p.patient_id,
        form=p.form_number + (" (черновик)" if draft else ""),
        title=title + (" — черновик" if draft else ""),
        object_type=DRAFT_OBJECT if draft else OBJECT,
        object_id=p.prescription_id,
        emk_document_id=p.document_id,
        copy_no=1 if draft else p.copy_no,
        pdf=pdf,
    )
