"""The lab trend of the EMK: the tests list, the plot with its band and marks, the values table."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QBrush, QMouseEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from services.lab_types import LabFlag, LabPoint, LabTest, flag_for
from widgets.emk.lab_trend import COLOUR, NO_TESTS, SYMBOL, LabTrendView, fmt_range, fmt_value

PATIENT = 41
OTHER = 42
START = dt.datetime(2022, 1, 15, 6, 0, tzinfo=dt.UTC)
# Three years of glucose: 3 high, 1 low; the lab changed its range after the sixth value.
VALUES = [5.1, 4.8, 6.3, 5.4, 3.5, 5.0, 7.2, 5.5, 5.2, 6.8, 5.6, 4.9]


def glucose_points() -> list[LabPoint]:
    points = []
    for i, value in enumerate(VALUES):
        low, high = (3.9, 5.6) if i < 6 else (4.1, 5.9)
        text = str(value)  # printed with a dot, as some analysers do
        taken = START + dt.timedelta(days=91 * i)
        points.append(LabPoint(taken, value, text, low, high, flag_for(value, low, high), 100 + i))
    taken = START + dt.timedelta(days=91 * 5 + 30)
    points.append(LabPoint(taken, None, "гемолиз", None, None, LabFlag.NORMAL, 200))
    return points


POINTS = glucose_points()
GLU = LabTest("GLU", "Глюкоза", "ммоль/л", len(POINTS), POINTS[11].taken_at, LabFlag.NORMAL)
TESTS = [
    GLU,
    LabTest("CHOL", "Холестерин общий", "ммоль/л", 4, START + dt.timedelta(days=800), LabFlag.HIGH),
    LabTest("HGB", "Гемоглобин", "г/л", 9, START + dt.timedelta(days=700), LabFlag.LOW),
    LabTest("HBSAG", "HBsAg", "", 2, START + dt.timedelta(days=300), LabFlag.ABNORMAL),
]


@pytest.fixture
def view(qtbot: QtBot) -> LabTrendView:
    v = LabTrendView()
    qtbot.addWidget(v)
    v.resize(1366, 768)
    v.set_patient(PATIENT, "Иванова Анна Петровна, 01.01.1980")
    assert v.set_tests(TESTS, patient_id=PATIENT)
    v.show()
    qtbot.waitExposed(v)
    return v


def _table_texts(view: LabTrendView) -> list[list[str]]:
    model = view.points_model
    return [
        [model.index(r, c).data() for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


def test_tests_list_shows_unit_count_date_and_an_arrow_for_abnormal(view: LabTrendView) -> None:
    model = view.tests_model
    rows = [[model.index(r, c).data() for c in range(5)] for r in range(model.rowCount())]
    assert rows == [
        ["", "Глюкоза", "ммоль/л", "13", "12.10.2024"],
        ["↑", "Холестерин общий", "ммоль/л", "4", "25.03.2024"],
        ["↓", "Гемоглобин", "г/л", "9", "16.12.2023"],
        ["!", "HBsAg", "", "2", "11.11.2022"],
    ]
    mark = model.index(1, 0)
    assert mark.data(Qt.ItemDataRole.ForegroundRole).color().name() == COLOUR[LabFlag.HIGH]
    assert isinstance(mark.data(Qt.ItemDataRole.BackgroundRole), QBrush)
    assert model.index(0, 1).data(Qt.ItemDataRole.BackgroundRole) is None
    assert "выше нормы" in model.index(1, 1).data(Qt.ItemDataRole.ToolTipRole)


def test_down_and_enter_choose_a_test(qtbot: QtBot, view: LabTrendView) -> None:
    view.tests_table.setFocus()  # the first row becomes current
    for key in (Qt.Key.Key_Down, Qt.Key.Key_Down, Qt.Key.Key_Up):
        qtbot.keyClick(view.tests_table, key)
    assert view.tests_table.currentIndex().row() == 1
    with qtbot.waitSignal(view.sig_test_selected, timeout=1000) as sig:
        qtbot.keyClick(view.tests_table, Qt.Key.Key_Return)
    assert sig.args == ["CHOL"]


def test_a_click_chooses_a_test(qtbot: QtBot, view: LabTrendView) -> None:
    rect = view.tests_table.visualRect(view.tests_model.index(2, 1))
    with qtbot.waitSignal(view.sig_test_selected, timeout=1000) as sig:
        qtbot.mouseClick(view.tests_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert sig.args == ["HGB"]


def test_values_table_newest_first_with_comma_range_and_flags(view: LabTrendView) -> None:
    assert view.show_trend(GLU, POINTS, patient_id=PATIENT)
    assert view.trend_title.text() == "Глюкоза, ммоль/л"
    rows = _table_texts(view)
    assert len(rows) == 13
    assert rows[0] == ["12.10.2024", "4,9", "ммоль/л", "4,1–5,9", ""]
    assert rows[2] == ["13.04.2024", "6,8", "ммоль/л", "4,1–5,9", "↑ выше нормы"]
    assert rows[5] == ["15.07.2023", "7,2", "ммоль/л", "4,1–5,9", "↑ выше нормы"]
    assert rows[6] == ["15.05.2023", "гемолиз", "", "—", ""]  # the text-only value
    assert rows[8] == ["14.01.2023", "3,5", "ммоль/л", "3,9–5,6", "↓ ниже нормы"]
    assert rows[7][1] == "5,0"  # the lab's digits, not «5»
    assert rows[12] == ["15.01.2022", "5,1", "ммоль/л", "3,9–5,6", ""]
    dates = [dt.datetime.strptime(r[0], "%d.%m.%Y") for r in rows]
    assert dates == sorted(dates, reverse=True)
    flags = [r[4] for r in rows]
    assert flags.count("↑ выше нормы") == 3
    assert flags.count("↓ ниже нормы") == 1
    high = view.points_model.index(2, 4)
    assert high.data(Qt.ItemDataRole.ForegroundRole).color().name() == COLOUR[LabFlag.HIGH]
    assert view.points_model.index(2, 0).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert view.points_model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    assert view.trend_note.text().endswith(": 1")
    zero = POINTS[0]._replace(value=0.0, value_text="0")
    assert view.show_trend(GLU, [zero], patient_id=PATIENT)
    assert _table_texts(view)[0][1:3] == ["0", "ммоль/л"]  # a zero is a number with a unit


def test_values_and_ranges_in_russian() -> None:
    point = POINTS[0]
    assert fmt_value(point._replace(value=0.1, value_text="<0.1")) == "<0,1"
    assert fmt_value(point._replace(value=5.6, value_text="5,60")) == "5,60"
    assert fmt_value(point._replace(value=12.25, value_text="")) == "12,25"
    assert fmt_value(point._replace(value=None, value_text="см. примечание")) == "см. примечание"
    assert fmt_range(3.9, 5.6) == "3,9–5,6"
    assert fmt_range(None, 5.2) == "≤ 5,2"
    assert fmt_range(0.5, None) == "≥ 0,5"
    assert fmt_range(None, None) == "—"


def test_abnormal_points_stand_out_and_text_values_are_not_plotted(view: LabTrendView) -> None:
    view.show_trend(GLU, POINTS, patient_id=PATIENT)
    spots = view.scatter.points()
    assert len(spots) == 12  # the text-only result is in the table only
    by_flag: dict[LabFlag, list[float]] = {}
    for spot in spots:
        point = view.points[spot.data()]
        assert point.value == pytest.approx(spot.pos().y())
        assert spot.brush().color().name() == COLOUR[point.flag]
        assert spot.symbol() == SYMBOL[point.flag]
        by_flag.setdefault(point.flag, []).append(spot.size())
    highs = [view.points[s.data()].value for s in spots if s.symbol() == "t1"]
    assert sorted(highs) == [6.3, 6.8, 7.2]
    assert len(by_flag[LabFlag.HIGH]) == 3
    assert len(by_flag[LabFlag.LOW]) == 1
    assert min(by_flag[LabFlag.HIGH] + by_flag[LabFlag.LOW]) > max(by_flag[LabFlag.NORMAL])
    assert COLOUR[LabFlag.HIGH] != COLOUR[LabFlag.LOW]
    assert list(view.line.yData) == VALUES  # the line runs oldest to newest


def test_reference_band_steps_where_the_range_changed(view: LabTrendView) -> None:
    view.show_trend(GLU, POINTS, patient_id=PATIENT)
    assert sorted(set(view.ref_low_line.yData)) == [3.9, 4.1]
    assert sorted(set(view.ref_high_line.yData)) == [5.6, 5.9]
    xs = list(view.ref_high_line.xData)
    change = xs[list(view.ref_high_line.yData).index(5.9)]
    assert change == pytest.approx(view.scatter.points()[6].pos().x())  # the seventh value
    assert not view.band.path().isEmpty()
    (x0, x1), (y0, y1) = view.plot.getViewBox().viewRange()
    assert y0 < 3.5
    assert y1 > 7.2
    assert x0 < view.scatter.points()[0].pos().x() < view.scatter.points()[-1].pos().x() < x1


def test_a_missing_bound_leaves_the_band_open(view: LabTrendView) -> None:
    only_high = [p._replace(ref_low=None) for p in POINTS]
    view.show_trend(GLU, only_high, patient_id=PATIENT)
    assert all(math.isnan(y) for y in view.ref_low_line.yData)
    (_, _), (y0, _) = view.plot.getViewBox().viewRange()
    assert max(view._fill_low.yData) < y0  # the shading runs off the bottom of the plot
    assert view.points_model.index(0, 3).data() == "≤ 5,9"


def test_hovering_a_point_shows_date_value_unit_and_range(view: LabTrendView) -> None:
    view.show_trend(GLU, POINTS, patient_id=PATIENT)
    spot = next(s for s in view.scatter.points() if view.points[s.data()].value == 7.2)
    box = view.plot.getViewBox()
    at = QPointF(view.plot.mapFromScene(box.mapViewToScene(spot.pos())))
    viewport = view.plot.viewport()
    for _ in range(2):  # pyqtgraph sends hover events on the move after the first
        move = QMouseEvent(
            QEvent.Type.MouseMove,
            at,
            viewport.mapToGlobal(at),
            Qt.MouseButton.NoButton,
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(viewport, move)
    assert box.toolTip() == "15.07.2023\n7,2 ммоль/л  ↑ выше нормы\nНорма: 4,1–5,9 ммоль/л"


def test_one_value_still_plots(view: LabTrendView) -> None:
    view.show_trend(GLU, POINTS[:1], patient_id=PATIENT)
    assert len(view.scatter.points()) == 1
    (x0, x1), _ = view.plot.getViewBox().viewRange()
    assert x1 - x0 > 20 * 86400  # weeks around it, not a second
    assert view.plot.getAxis("bottom").tickStrings([x0], 1.0, 86400.0) != [""]


def test_axes_speak_russian(view: LabTrendView) -> None:
    bottom, left = view.plot.getAxis("bottom"), view.plot.getAxis("left")
    jan = dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp()
    apr = dt.datetime(2024, 4, 1, tzinfo=dt.UTC).timestamp()
    assert bottom.tickStrings([apr], 1.0, 30 * 86400.0) == ["01.04.24"]
    assert bottom.tickStrings([jan], 1.0, 365 * 86400.0) == ["2024"]
    assert left.tickStrings([5.5, 6.0], 1.0, 0.5) == ["5,5", "6,0"]


def test_data_for_another_patient_is_refused(view: LabTrendView) -> None:
    assert view.show_trend(GLU, POINTS, patient_id=PATIENT)
    assert not view.show_trend(GLU, POINTS[:2], patient_id=OTHER)
    assert not view.set_tests(TESTS[:1], patient_id=OTHER)
    assert view.points_model.rowCount() == 13
    assert view.tests_model.rowCount() == 4

    view.set_patient(OTHER, "Петров Пётр Петрович, 02.02.1960")
    assert view.patient_label.text() == "Петров Пётр Петрович, 02.02.1960"
    assert view.tests_model.rowCount() == 0
    assert view.points_model.rowCount() == 0
    assert view.scatter.points().size == 0
    # The previous patient's answers arriving late land nowhere.
    assert not view.set_tests(TESTS, patient_id=PATIENT)
    assert not view.show_trend(GLU, POINTS, patient_id=PATIENT)
    assert view.tests_model.rowCount() == 0
    assert view.points_model.rowCount() == 0
    assert view.empty_label.isVisible()


def test_no_patient_accepts_nothing(qtbot: QtBot) -> None:
    view = LabTrendView()
    qtbot.addWidget(view)
    assert view.patient_label.text() == "Пациент не выбран"
    assert not view.set_tests(TESTS, patient_id=PATIENT)
    assert view.tests_model.rowCount() == 0


def test_no_tests_says_so(view: LabTrendView) -> None:
    view.show_trend(GLU, POINTS, patient_id=PATIENT)
    assert view.set_tests([], patient_id=PATIENT)
    assert view.empty_label.isVisible()
    assert view.empty_label.text() == NO_TESTS
    assert not view.tests_table.isVisible()
    assert not view.plot.isVisible()
    assert view.points_model.rowCount() == 0
    view.set_tests(TESTS, patient_id=PATIENT)
    assert view.tests_table.isVisible()
    assert view.placeholder.isVisible()


def test_clear_keeps_the_patient(view: LabTrendView) -> None:
    view.show_trend(GLU, POINTS, patient_id=PATIENT)
    view.clear()
    assert view.patient_id == PATIENT
    assert view.patient_label.text().startswith("Иванова")
    assert view.tests_model.rowCount() == 0
    assert view.scatter.points().size == 0
    assert view.set_tests(TESTS, patient_id=PATIENT)


def test_models_pass_the_qt_model_tester(view: LabTrendView, qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    view.show_trend(GLU, POINTS, patient_id=PATIENT)
    qtmodeltester.check(view.tests_model)
    qtmodeltester.check(view.points_model)
