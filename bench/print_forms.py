"""The printing path's budgets, each beside its anchor.

* render form 057/у to PDF bytes ≤ 150 ms (median of N) — anchor: an empty reportlab page
  with the same fonts, what any form costs before it draws anything;
* PrintPreviewDialog constructed with the bytes → first page painted ≤ 300 ms — anchor: the
  same page rendered to an image by PDFium alone.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/print_forms.py [--rounds 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from printing.page import DocumentInfo, Sheet, render_document
from printing.referral_057 import Address, Referral057, render_referral_057

RENDER_BUDGET_MS = 150
PREVIEW_BUDGET_MS = 300

REFERRAL = Referral057(
    organisation="ГБУЗ «Городская поликлиника № 12 ДЗМ», 117042, г. Москва, ул. Южнобутовская, д. 87",
    ogrn="1027739812345",
    number="2025-000123",
    filled_on=dt.date(2025, 11, 5),
    destination="ГБУЗ «Городская клиническая больница № 1 им. Н. И. Пирогова ДЗМ»",
    policy_number="7755110000123456",
    policy_issued_on=dt.date(2019, 3, 14),
    insurer="АО «Страховая компания «СОГАЗ-Мед», Московский филиал",
    patient_name="Иванова Анна Петровна",
    birth_date=dt.date(1980, 1, 1),
    sex=2,
    residence=Address("г. Москва", "Южное Бутово", "Москва", "ул. Грина", "7", "2", "115"),
    stay=None,
    locality_type=1,
    employment=3,
    diagnosis="I11.9 Гипертензивная болезнь сердца без застойной сердечной недостаточности",
    purpose="консультация врача-кардиолога",
    care_form=3,
    care_kind=1,
    care_conditions=1,
    justification=("Стойкое повышение АД до 170/100 мм рт. ст. на фоне терапии. " * 12)[:800],
    referrer_position="Врач-терапевт участковый",
    referrer_name="Петров Сергей Иванович",
)


def _ms(xs: list[float]) -> str:
    xs = sorted(xs)
    return (
        f"median {statistics.median(xs) * 1000:.1f} ms, "
        f"p95 {xs[int(0.95 * (len(xs) - 1))] * 1000:.1f} ms"
    )


def _time(fn: object, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - t)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=50)
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    # --- 1. render 057/у ------------------------------------------------------------------
    pdf = render_referral_057(REFERRAL)  # warm: fonts registered, modules imported

    def empty(sheet: Sheet) -> None:
        sheet.paragraph("ARM")

    render_document(empty, DocumentInfo("anchor"))
    form = _time(lambda: render_referral_057(REFERRAL), args.rounds)
    anchor = _time(lambda: render_document(empty, DocumentInfo("anchor")), args.rounds)
    ok = statistics.median(form) * 1000 <= RENDER_BUDGET_MS
    print(f"057/у render ({len(pdf):,} bytes, 800-char justification): {_ms(form)}"
          f" — budget {RENDER_BUDGET_MS} ms {'OK' if ok else 'OVER'}")  # fmt: skip
    print(f"  anchor, one-line page with the same fonts: {_ms(anchor)}")

    # --- 2. preview: constructed → first page painted ------------------------------------------
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    from widgets.print_preview import PdfPages, PrintPreviewDialog

    app = QApplication.instance() or QApplication(sys.argv[:1])

    class FirstPaint(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.at: float | None = None

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if self.at is None and event.type() == QEvent.Type.Paint:
                self.at = time.perf_counter()
            return False

    preview: list[float] = []
    for _ in range(max(5, args.rounds // 5)):
        t0 = time.perf_counter()
        dlg = PrintPreviewDialog(pdf, "Направление 057/у № 2025-000123")
        dlg.resize(1366, 768)
        spy = FirstPaint()
        label = dlg.view.page_label(0)
        label.installEventFilter(spy)
        dlg.show()
        deadline = t0 + 10
        while (spy.at is None or label.pixmap().isNull()) and time.perf_counter() < deadline:
            app.processEvents()
        if spy.at is None:
            raise SystemExit("the page was never painted")
        preview.append(spy.at - t0)
        dlg.close()
        dlg.deleteLater()
        app.processEvents()

    pages = PdfPages(pdf)
    width = 1366 - 60  # about the page's width in the dialog
    scale = width / pages.page_size(0).width()
    raw = _time(lambda: pages.render(0, scale), max(5, args.rounds // 5))
    ok = statistics.median(preview) * 1000 <= PREVIEW_BUDGET_MS
    print(f"preview: PrintPreviewDialog(bytes) → first page painted at 1366×768: {_ms(preview)}"
          f" — budget {PREVIEW_BUDGET_MS} ms {'OK' if ok else 'OVER'}")  # fmt: skip
    print(f"  anchor, PDFium renders the page alone at that width: {_ms(raw)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
