"""The printing path's budgets, each beside its anchor.

* render each form to PDF bytes ≤ 150 ms (median of N) — 057/у, the prescription blanks
  107-1/у, 148-1/у-04(л) and 148-1/у-88 (overlay and draft), the ЭЛН sheet on A4 and A5 and the
  347н overlay and draft, each with long values — anchor: an empty reportlab page with the same
  fonts, what any form costs before it draws anything;
* PrintPreviewDialog constructed with the bytes → first page painted ≤ 300 ms — anchor: the
  same page rendered to an image by PDFium alone.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/print_forms.py [--rounds 50] [--render-only]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from printing.page import DocumentInfo, PrintOptions, Sheet, render_document
from printing.prescription import Organisation, Prescriber, PrescriptionItem, PrescriptionPatient
from printing.prescription_107 import Prescription107, render_prescription_107
from printing.prescription_148_04 import Prescription148_04, render_prescription_148_04
from printing.prescription_148_88 import Prescription148_88, render_prescription_148_88
from printing.referral_057 import Address, Referral057, render_referral_057
from printing.sick_leave_347 import render_sick_leave_347
from printing.sick_leave_sheet import (
    RegimeViolation,
    ReleasePeriod,
    SickLeave,
    render_sick_leave_sheet,
)

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

ORG = Organisation(
    "ГБУЗ «Городская поликлиника № 12 ДЗМ»",
    "117042, г. Москва, ул. Южнобутовская, д. 87",
    "+7 (495) 711-22-33",
    "1027739812345",
    "01928374",
)
PATIENT = PrescriptionPatient(
    "Иванова А. П.",
    dt.date(1950, 1, 1),
    snils="123-456-789 64",
    policy="7755110000123456",
    card_number="12-3456/2019",
    address="г. Москва, ул. Грина, д. 7, корп. 2, кв. 115",
)
DRUG = PrescriptionItem(
    "Ацетилсалициловая кислота + Магния гидроксид (Acidum acetylsalicylicum + Magnesii hydroxydum)",
    "таблетки, покрытые пленочной оболочкой",
    "75 мг + 15,2 мг",
    "№ 100 (сто)",
    "Внутрь по 1 таблетке 1 раз в день вечером после еды, запивая водой, длительно, под "
    "контролем общего анализа крови",
    route="внутрь",
    days=90,
    times_per_day=1,
    per_dose="1 таблетка",
)
RX107 = Prescription107(ORG, dt.date(2025, 11, 5), PATIENT, Prescriber("Петров С. И."),
                        (DRUG, DRUG, DRUG), validity_days=180, special_purpose=True,
                        dispense_interval="ежемесячно")  # fmt: skip
RX04 = Prescription148_04(ORG, "45-25", "0012345", dt.date(2025, 11, 5), "081", "I11.9", 1, 1,
                          PATIENT, Prescriber("Петров С. И."), DRUG, 90)  # fmt: skip
RX88 = Prescription148_88(ORG, "АБ", "1234", dt.date(2025, 11, 5), PATIENT,
                          Prescriber("Петров С. И."), DRUG)  # fmt: skip
PERIOD = ReleasePeriod(dt.date(2025, 11, 5), dt.date(2025, 11, 19), "терапевт", "Петров С. И.")
LEAVE = SickLeave(
    number="910123456789",
    issued_on=dt.date(2025, 11, 5),
    organisation_name="ГБУЗ ГП № 12 ДЗМ",
    organisation_address="г. Москва, ул. Южнобутовская, д. 87",
    organisation_ogrn="1027739812345",
    patient_name="Иванова Анна Петровна",
    birth_date=dt.date(1980, 1, 1),
    sex=2,
    snils="123-456-789 64",
    employer="ООО «Ромашка»",
    main_job=True,
    reason_code="01",
    periods=(PERIOD, PERIOD, PERIOD),
    previous_number="910123456700",
    violation=RegimeViolation("24", dt.date(2025, 11, 12)),
    return_to_work=dt.date(2025, 11, 29),
)
DRAFT = PrintOptions(draft=True)
FORMS: list[tuple[str, Callable[[], bytes]]] = [
    ("057/у (800-char justification)", lambda: render_referral_057(REFERRAL)),
    ("107-1/у (three long drugs)", lambda: render_prescription_107(RX107)),
    ("148-1/у-04(л)", lambda: render_prescription_148_04(RX04)),
    ("148-1/у-88 overlay", lambda: render_prescription_148_88(RX88)),
    ("148-1/у-88 draft", lambda: render_prescription_148_88(RX88, DRAFT)),
    ("ЭЛН sheet A4", lambda: render_sick_leave_sheet(LEAVE)),
    ("ЭЛН sheet A5", lambda: render_sick_leave_sheet(LEAVE, paper="A5")),
    ("347н overlay", lambda: render_sick_leave_347(LEAVE)),
    ("347н draft", lambda: render_sick_leave_347(LEAVE, DRAFT)),
]


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
    ap.add_argument("--render-only", action="store_true", help="skip the Qt preview")
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    # --- 1. render every form ------------------------------------------------------------------
    pdf = render_referral_057(REFERRAL)  # warm: fonts registered, modules imported
    for _name, render in FORMS:
        render()

    def empty(sheet: Sheet) -> None:
        sheet.paragraph("ARM")

    render_document(empty, DocumentInfo("anchor"))
    over = []
    for name, render in FORMS:
        times = _time(render, args.rounds)
        ok = statistics.median(times) * 1000 <= RENDER_BUDGET_MS
        over += [] if ok else [name]
        print(f"{name} render ({len(render()):,} bytes): {_ms(times)}"
              f" — budget {RENDER_BUDGET_MS} ms {'OK' if ok else 'OVER'}")  # fmt: skip
    anchor = _time(lambda: render_document(empty, DocumentInfo("anchor")), args.rounds)
    print(f"  anchor, one-line page with the same fonts: {_ms(anchor)}")
    if args.render_only:
        return 1 if over else 0

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
