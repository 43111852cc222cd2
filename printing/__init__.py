"""Paper forms as reportlab documents (no Qt): a frozen dataclass in, PDF bytes out.

One drawing kit (:mod:`printing.page`) serves every form, so the things that must hold for all
of them — embedded Cyrillic fonts, the «ДУБЛИКАТ»/«ЧЕРНОВИК» marks, the per-printer offset,
byte-identical output for the same data — are done once. Rendering is plain CPU work with no
I/O; callers run it in the task runner's I/O lane and show the bytes in
``widgets.print_preview.PrintPreviewDialog``.
"""

from printing.calibration import render_calibration_sheet
from printing.page import DocumentInfo, PrintOptions
from printing.referral_057 import Address, Referral057, render_referral_057

__all__ = [
    "Address",
    "DocumentInfo",
    "PrintOptions",
    "Referral057",
    "render_calibration_sheet",
    "render_referral_057",
]
