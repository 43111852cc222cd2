"""Paper forms as reportlab documents (no Qt): a frozen dataclass in, PDF bytes out.

One drawing kit (:mod:`printing.page`) serves every form, so the things that must hold for all
of them — embedded Cyrillic fonts, the «ДУБЛИКАТ»/«ЧЕРНОВИК» marks, the per-printer offset,
byte-identical output for the same data — are done once. Rendering is plain CPU work with no
I/O; callers run it in the task runner's I/O lane and show the bytes in
``widgets.print_preview.PrintPreviewDialog``.
"""

from printing.calibration import render_calibration_sheet
from printing.page import DocumentInfo, PrintOptions
from printing.prescription import Organisation, Prescriber, PrescriptionItem, PrescriptionPatient
from printing.prescription_107 import Prescription107, render_prescription_107
from printing.prescription_148_04 import Prescription148_04, render_prescription_148_04
from printing.prescription_148_88 import Prescription148_88, render_prescription_148_88
from printing.referral_057 import Address, Referral057, render_referral_057
from printing.sick_leave_347 import render_sick_leave_347
from printing.sick_leave_sheet import (
    CaredPerson,
    RegimeViolation,
    ReleasePeriod,
    SickLeave,
    render_sick_leave_sheet,
)

__all__ = [
    "Address",
    "CaredPerson",
    "DocumentInfo",
    "Organisation",
    "Prescriber",
    "Prescription107",
    "Prescription148_04",
    "Prescription148_88",
    "PrescriptionItem",
    "PrescriptionPatient",
    "PrintOptions",
    "Referral057",
    "RegimeViolation",
    "ReleasePeriod",
    "SickLeave",
    "render_calibration_sheet",
    "render_prescription_107",
    "render_prescription_148_04",
    "render_prescription_148_88",
    "render_referral_057",
    "render_sick_leave_347",
    "render_sick_leave_sheet",
]
