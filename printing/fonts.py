"""The fonts every ARM form is printed in, registered with reportlab once per process.

Russian blanks are set in Times; Liberation Serif (SIL OFL 1.1, shipped in
``resources/fonts``, see its SOURCE.md) has Times' metrics and Cyrillic, so a form laid out
here keeps its line breaks on any PC. reportlab's built-in Type 1 fonts (Times-Roman,
Helvetica) have no Cyrillic and are never embedded, so no form may use them: every string
goes through one of the names below, and the PDF carries subsets of these TrueType files.

Registration touches reportlab's global font table; forms render in the I/O lane, several at a
time, so it is guarded by a lock and done at most once.
"""

from __future__ import annotations

import threading
from importlib.resources import as_file, files

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

__all__ = ["SERIF", "SERIF_BOLD", "SERIF_ITALIC", "register_fonts"]

SERIF = "ArmSerif"
SERIF_BOLD = "ArmSerif-Bold"
SERIF_ITALIC = "ArmSerif-Italic"

_FILES = {
    SERIF: "LiberationSerif-Regular.ttf",
    SERIF_BOLD: "LiberationSerif-Bold.ttf",
    SERIF_ITALIC: "LiberationSerif-Italic.ttf",
}

_lock = threading.Lock()
_registered = False


def register_fonts() -> None:
    """Make ``SERIF``, ``SERIF_BOLD`` and ``SERIF_ITALIC`` known to reportlab (idempotent).

    ``as_file`` gives a real path even if ``resources`` is ever installed zipped; TTFont reads
    the whole file while registering, so the temporary copy may go away afterwards.
    """
    global _registered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        folder = files("resources") / "fonts"
        for name, filename in _FILES.items():
            with as_file(folder / filename) as path:
                pdfmetrics.registerFont(TTFont(name, str(path)))
        # Family mapping lets reportlab's <b>/<i> markup (platypus Paragraphs) find the faces.
        addMapping(SERIF, 0, 0, SERIF)
        addMapping(SERIF, 1, 0, SERIF_BOLD)
        addMapping(SERIF, 0, 1, SERIF_ITALIC)
        addMapping(SERIF, 1, 1, SERIF_BOLD)
        _registered = True
