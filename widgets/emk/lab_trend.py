"""The EMK's lab trend: one test of one patient over time, against its reference band.

Left, the patient's tests; right, the chosen one as a plot (the band shaded, values outside it
larger: red ▲ above, blue ▼ below — never colour alone) and a table, newest first.  Data for any
patient but the one on show is refused: a late answer must not land under another's name.
pyqtgraph, not QtCharts: QtCharts is only in PySide6-Addons (~150 MB); we ship Essentials.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

# pyqtgraph picks a binding by this variable: never another one that happens to be installed.
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pyqtgraph as pg
from pyqtgraph.graphicsItems import DateAxisItem as _dai
from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from services.clock import clinic_tz
from services.lab_types import LabFlag, LabPoint, LabTest
from widgets.rows_model import Column, Index, RowsModel, size_columns

__all__ = ["LabTrendView", "fmt_number", "fmt_range", "fmt_value"]

log = logging.getLogger(__name__)
pg.setConfigOptions(antialias=True, background="w", foreground="k")

F = LabFlag
R = TypeVar("R")
COLOUR = {F.HIGH: "#c62828", F.LOW: "#1565c0", F.ABNORMAL: "#b45309", F.NORMAL: "#455a64"}
_TINT = {F.HIGH: "#fdecea", F.LOW: "#e7effb", F.ABNORMAL: "#fdf1e3"}
_FLAG_TEXT = {F.HIGH: "↑ выше нормы", F.LOW: "↓ ниже нормы", F.ABNORMAL: "! вне нормы"}
SYMBOL = {F.HIGH: "t1", F.LOW: "t", F.ABNORMAL: "d", F.NORMAL: "o"}  # ▲ ▼ ◆ ●
_BAND = (67, 160, 71, 50)
_TZ, _DAY = clinic_tz(), 86400.0
_DECIMAL_DOT = re.compile(r"(?<=\d)\.(?=\d)")
NO_TESTS = "Нет результатов анализов"
PICK_TEST = "Выберите показатель слева (↑↓ и Enter)"


def fmt_number(v: float) -> str:
    """«5,6», «0,0012», «250»: a Russian decimal comma, no float noise."""
    s = f"{v:.6g}"
    return (f"{v:.0f}" if "e" in s else s).replace(".", ",")


def fmt_value(p: LabPoint) -> str:
    """As the lab printed it, a decimal comma in its numbers («5.0» → «5,0», «<0.1» → «<0,1»)."""
    if p.value is None or p.value_text.strip():
        return _DECIMAL_DOT.sub(",", p.value_text.strip())
    return fmt_number(p.value)


def fmt_range(low: float | None, high: float | None) -> str:
    """«3,9–5,6», «≥ 3,9», «≤ 5,6» (bounds are inclusive, as in ``flag_for``), «—»."""
    lo, hi = (None if b is None else fmt_number(b) for b in (low, high))
    if lo and hi:
        return f"{lo}–{hi}"
    return f"≥ {lo}" if lo else f"≤ {hi}" if hi else "—"


def _date(ts: dt.datetime) -> str:
    return ts.astimezone(_TZ).strftime("%d.%m.%Y")


def _x(ts: dt.datetime) -> float:
    """The clinic's wall-clock time as if it were UTC: the axis's days are the clinic's days."""
    return ts.astimezone(_TZ).replace(tzinfo=dt.UTC).timestamp()


class _DateAxis(pg.DateAxisItem):  # type: ignore[misc]
    """Dates as «01.04.23», the first of January as «2023»; weeks when zoomed in."""

    def __init__(self) -> None:
        super().__init__(orientation="bottom", utcOffset=0)
        wide = "00.00.000"  # a digit wider than a label: a gap between labels
        months = _dai.TickSpec(_dai.MONTH_SPACING, _dai.makeMStepper(1), "", [1, 3, 6])
        years = _dai.TickSpec(_dai.YEAR_SPACING, _dai.makeYStepper(1), "", [1, 5, 10])
        days = _dai.TickSpec(_DAY, _dai.makeSStepper(_DAY), "", [1, 2, 7, 14])
        self.zoomLevels = {  # pixel density → ticks; labels come from tickStrings
            math.inf: _dai.ZoomLevel([years, months], wide),
            5 * _DAY: _dai.ZoomLevel([days], wide),  # alone: day steps never meet the 1st
        }
        # Keep month labels (pyqtgraph drops them past 20–80 % fill); ``wide`` spaces them.
        self.setStyle(textFillLimits=[(0, 0.95)])

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        fmt = "%Y" if spacing >= _dai.YEAR_SPACING else "%d.%m.%y"
        return [dt.datetime.fromtimestamp(v, dt.UTC).strftime(fmt) for v in values]


class _CommaAxis(pg.AxisItem):  # type: ignore[misc]
    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [t.replace(".", ",") for t in super().tickStrings(values, scale, spacing)]


class _FlaggedRows(RowsModel[R]):
    """Rows tinted by their flag; the mark column's text in the flag's colour."""

    def __init__(self, cols: Sequence[Column[R]], flag: Callable[[R], F], mark: int, **kw: Any):
        tint = {f: QBrush(QColor(c)) for f, c in _TINT.items()}
        super().__init__(cols, background=lambda r: tint.get(flag(r)), **kw)
        self._flag, self.mark_column = flag, mark

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row()) if index.column() == self.mark_column else None
        if role == Qt.ItemDataRole.ForegroundRole and row is not None and self._flag(row):
            return QBrush(QColor(COLOUR[self._flag(row)]))
        return super().data(index, role)


def _test_tip(t: LabTest) -> str:
    last = _FLAG_TEXT.get(t.last_flag, "в норме")
    return f"{t.name}, {t.unit}\nПоследний результат {_date(t.last_taken_at)}: {last}"


def _table(model: RowsModel[Any], columns: Sequence[Column[Any]]) -> QTableView:
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(26)
    size_columns(table, columns, stretch=1)
    return table


def _split(orientation: Qt.Orientation, *parts: tuple[QWidget, int]) -> QSplitter:
    splitter = QSplitter(orientation)
    for i, (widget, stretch) in enumerate(parts):
        splitter.addWidget(widget)
        splitter.setStretchFactor(i, stretch)
    splitter.setSizes([stretch * 1000 for _, stretch in parts])  # the same shares at first
    return splitter


class LabTrendView(QWidget):
    """One patient's tests and one test's trend; ``set_patient`` first, then the data."""

    sig_test_selected = Signal(str)
    """The user chose this test (its code) by a click or by Enter; load its trend."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.patient_id: int | None = None
        self.test: LabTest | None = None
        self.points: list[LabPoint] = []  # on show, newest first; the scatter's data index it
        self.patient_label, self.trend_title = QLabel(), QLabel()
        self.patient_label.setObjectName("panelTitle")  # bold, in arm/style.py
        self.trend_title.setObjectName("panelTitle")
        test_columns: list[Column[LabTest]] = [
            Column("", lambda t: _FLAG_TEXT.get(t.last_flag, "")[:1], "↑"),
            Column("Показатель", lambda t: t.name, "Холестерин"),
            Column("Ед.", lambda t: t.unit, "ммоль/л"),
            Column("Кол.", lambda t: str(t.results), "000"),
            Column("Последний", lambda t: _date(t.last_taken_at), "00.00.0000"),
        ]
        self.tests_model = _FlaggedRows(test_columns, lambda t: t.last_flag, 0, tooltip=_test_tip)
        self.tests_table = _table(self.tests_model, test_columns)
        self.empty_label = QLabel(NO_TESTS, alignment=Qt.AlignmentFlag.AlignCenter)
        self.trend_note = QLabel()
        self.plot = pg.PlotWidget(axisItems={"bottom": _DateAxis(), "left": _CommaAxis("left")})
        self.plot.setMenuEnabled(False)  # its menu is English and its export is not ours
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        # The band: two fill curves (an open bound far off screen) and dashed visible edges.
        self._fill_low = pg.PlotCurveItem()  # not PlotDataItem: without a pen it keeps no path
        self._fill_high = pg.PlotCurveItem()
        self.band = pg.FillBetweenItem(self._fill_low, self._fill_high, brush=_BAND)
        edge = pg.mkPen(color=(67, 160, 71), width=1, style=Qt.PenStyle.DashLine)
        self.ref_low_line = pg.PlotDataItem(pen=edge, connect="finite")
        self.ref_high_line = pg.PlotDataItem(pen=edge, connect="finite")
        self.line = pg.PlotDataItem(pen=pg.mkPen(COLOUR[F.NORMAL], width=2))
        self.scatter = pg.ScatterPlotItem(hoverable=True, tip=self.point_tip, hoverSize=18)
        self._band = (self._fill_low, self._fill_high, self.ref_low_line, self.ref_high_line)
        fills = (self._fill_low, self._fill_high, self.band)  # reach far off screen
        for item in (*fills, self.ref_low_line, self.ref_high_line, self.line, self.scatter):
            self.plot.addItem(item, ignoreBounds=item in fills)
        point_columns: list[Column[LabPoint]] = [
            Column("Дата", lambda p: _date(p.taken_at), "00.00.0000"),
            Column("Значение", fmt_value, "не обнаружено"),
            Column("Ед.", lambda p: "" if p.value is None else self._unit(), "ммоль/л"),
            Column("Референс", lambda p: fmt_range(p.ref_low, p.ref_high), "10,0–20,0"),
            Column("Флаг", lambda p: _FLAG_TEXT.get(p.flag, ""), "↓ ниже нормы"),
        ]
        self.points_model = _FlaggedRows(point_columns, lambda p: p.flag, 4)
        self.points_table = _table(self.points_model, point_columns)
        self.placeholder = QLabel(PICK_TEST, alignment=Qt.AlignmentFlag.AlignCenter)

        trend = QWidget()
        column = QVBoxLayout(trend)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.trend_title)
        column.addWidget(self.trend_note)
        column.addWidget(_split(Qt.Orientation.Vertical, (self.plot, 3), (self.points_table, 2)))
        self._right = QStackedWidget()
        self._right.addWidget(trend)
        self._right.addWidget(self.placeholder)
        sides = _split(Qt.Orientation.Horizontal, (self.tests_table, 3), (self._right, 7))
        self._body = QStackedWidget()
        self._body.addWidget(sides)
        self._body.addWidget(self.empty_label)
        layout = QVBoxLayout(self)
        layout.addWidget(self.patient_label)
        layout.addWidget(self._body, 1)

        self.tests_table.clicked.connect(self._emit_selected)
        self.tests_table.activated.connect(self._emit_selected)  # Enter (and a double-click)
        self.set_patient_title("")
        self.clear()

    # --- the patient -----------------------------------------------------------------------
    def set_patient(self, patient_id: int, title: str) -> None:
        """Show this patient (ФИО and birth date in ``title``) with nothing loaded yet."""
        self.patient_id = patient_id
        self.set_patient_title(title)
        self.clear()

    def set_patient_title(self, text: str) -> None:
        self.patient_label.setText(text or "Пациент не выбран")

    def _accepts(self, patient_id: int, what: str) -> bool:
        if self.patient_id is None or patient_id != self.patient_id:
            log.warning("%s for patient %s refused: showing %s", what, patient_id, self.patient_id)
            return False
        return True

    def clear(self) -> None:
        """Forget the tests and the trend; the patient stays (``set_patient`` changes it)."""
        self.tests_model.set_rows([])
        self._body.setCurrentWidget(self.empty_label)
        self._clear_trend()

    def _clear_trend(self) -> None:
        self.test, self.points = None, []
        self.points_model.set_rows([])
        for item in (self.line, self.scatter, *self._band):
            item.setData([], [])
        self._right.setCurrentWidget(self.placeholder)

    # --- the tests -------------------------------------------------------------------------
    def set_tests(self, tests: Sequence[LabTest], *, patient_id: int) -> bool:
        """List the patient's tests; False (and nothing shown) if they are another patient's."""
        if not self._accepts(patient_id, "tests"):
            return False
        self.tests_model.set_rows(tests)
        self._body.setCurrentIndex(0 if tests else 1)
        if not tests:
            self._clear_trend()
        elif self.test is not None:
            self._select_code(self.test.code)
        return True

    def _select_code(self, code: str) -> None:
        codes = [t.code for t in self.tests_model.rows]
        if code in codes:
            self.tests_table.selectRow(codes.index(code))

    def _emit_selected(self, index: QModelIndex) -> None:
        test = self.tests_model.row_at(index.row())
        if test is not None:
            self.sig_test_selected.emit(test.code)

    # --- the trend -------------------------------------------------------------------------
    def show_trend(self, test: LabTest, points: Sequence[LabPoint], *, patient_id: int) -> bool:
        """Plot and list ``test``'s values; False (and nothing shown) if another patient's."""
        if not self._accepts(patient_id, "trend"):
            return False
        self._clear_trend()
        self.test = test
        self.points = sorted(points, key=lambda p: p.taken_at, reverse=True)
        self.points_model.set_rows(self.points)
        self.trend_title.setText(f"{test.name}, {test.unit}" if test.unit else test.name)
        text_only = sum(p.value is None for p in self.points)
        self.trend_note.setText(f"Текстовые результаты (только в таблице): {text_only}")
        self.trend_note.setVisible(text_only > 0)
        self._plot()
        self._select_code(test.code)
        self._body.setCurrentIndex(0)
        self._right.setCurrentIndex(0)
        return True

    def _plot(self) -> None:
        shown = [(i, p, p.value) for i, p in enumerate(self.points) if p.value is not None]
        shown.reverse()  # oldest first, each with its index into self.points
        xs = [_x(p.taken_at) for _, p, _ in shown]
        ys = [v for _, _, v in shown if v is not None]
        self.line.setData(xs, ys)
        flags = [p.flag for _, p, _ in shown]
        symbols, sizes = [SYMBOL[f] for f in flags], [8 if f == F.NORMAL else 16 for f in flags]
        brushes = [pg.mkBrush(COLOUR[f]) for f in flags]
        data = [i for i, _, _ in shown]
        self.scatter.setData(xs, ys, data=data, symbol=symbols, size=sizes, brush=brushes, pen="w")
        lows, highs = [p.ref_low for _, p, _ in shown], [p.ref_high for _, p, _ in shown]
        known = ys + [b for b in lows + highs if b is not None]
        if not known:  # text results only: nothing to plot
            return
        y0, y1 = min(known), max(known)
        yspan = (y1 - y0) or max(abs(y1), 1.0) * 0.5
        xpad = max((xs[-1] - xs[0]) * 0.04, 20 * _DAY)
        # A step band: each point's range holds from that point until the next one.
        edges = [xs[0] - xpad, *xs[1:], xs[-1] + xpad]
        step_x = [x for i in range(len(xs)) for x in (edges[i], edges[i + 1])]

        def steps(bounds: Sequence[float | None], missing: float) -> list[float]:
            return [missing if b is None else b for b in bounds for _ in (0, 1)]

        # An open bound fills to far off screen; no range at all is a zero-height fill.
        far_low = y0 - 50 * yspan
        tops = [
            far_low if lo is None and hi is None else hi for lo, hi in zip(lows, highs, strict=True)
        ]
        self._fill_low.setData(step_x, steps(lows, far_low))
        self._fill_high.setData(step_x, steps(tops, y1 + 50 * yspan))
        self.ref_low_line.setData(step_x, steps(lows, math.nan))
        self.ref_high_line.setData(step_x, steps(highs, math.nan))
        ypad = 0.12 * yspan
        self.plot.setRange(xRange=(edges[0], edges[-1]), yRange=(y0 - ypad, y1 + ypad), padding=0)

    def _unit(self) -> str:
        return self.test.unit if self.test else ""

    def point_tip(self, x: float, y: float, data: Any) -> str:
        """The hover text of a plotted value: its date, value, flag and reference range."""
        p = self.points[int(data)]
        unit = f" {self._unit()}" if self._unit() else ""
        flag = f"  {_FLAG_TEXT[p.flag]}" if p.flag in _FLAG_TEXT else ""
        norm = f"Норма: {fmt_range(p.ref_low, p.ref_high)}{unit}"
        return f"{_date(p.taken_at)}\n{fmt_value(p)}{unit}{flag}\n{norm}"
