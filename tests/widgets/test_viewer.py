"""The study viewer (issue 8), driven by keys and mouse over real DICOM files written by pydicom.

No PACS here: the files are generated into temporary folders (dicom/synthetic.py) and fed
to the viewer the way the application feeds it — ``add_instance`` for files as a retrieval
writes them, ``open_cached`` for a study already in the local cache.  Decoding runs in the
real task runner's I/O lane; the tests wait for the viewer to say it is idle, never on time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from arm.tasks import TaskRunner
from dicom.cache import NewInstance, OpenedStudy, StudyCache, StudyRecord
from dicom.synthetic import FakePatient, SeriesSpec, StudySpec, write_study
from dicom.windowing import PRESETS, Window, WindowLevel
from tests.widgets.conftest import ErrorLog
from widgets.viewer import StudyViewer, Tool, ViewerSubject, fmt_window
from widgets.viewer.state import UNREADABLE, SeriesStack, SliceEntry

PATIENT_A = FakePatient("A-100", "Иванов^Иван^Иванович", "19800512", "M")
PATIENT_B = FakePatient("B-200", "Петрова^Анна", "19921103", "F")
NAME_A = "Иванов Иван Иванович"
SPACING = 0.78125  # what the generator writes as Pixel Spacing
LUNGS, SOFT = 12, 6


@dataclass
class Study:
    spec: StudySpec
    files: list[Path]

    def series(self, n: int) -> list[Path]:
        """Files of series ``n`` (1-based) in instance order."""
        return [f for f in self.files if f"_{n:02d}_" in f.name]


@pytest.fixture(scope="module")
def study_a(tmp_path_factory: pytest.TempPathFactory) -> Study:
    spec = StudySpec(
        PATIENT_A,
        [
            SeriesSpec("CT", LUNGS, 128, 128, "Лёгкие"),
            SeriesSpec("CT", SOFT, 64, 64, "Мягкие ткани"),
        ],
        description="КТ органов грудной клетки",
    )
    return Study(spec, write_study(spec, tmp_path_factory.mktemp("study_a")))


@pytest.fixture(scope="module")
def study_b(tmp_path_factory: pytest.TempPathFactory) -> Study:
    spec = StudySpec(PATIENT_B, [SeriesSpec("CT", 3, 64, 64, "Б")], description="КТ Б")
    return Study(spec, write_study(spec, tmp_path_factory.mktemp("study_b")))


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[TaskRunner]:
    errors = ErrorLog()
    r = TaskRunner(errors)
    yield r
    r.shutdown(wait=True)
    assert errors.errors == []


def subject_for(study: Study) -> ViewerSubject:
    return ViewerSubject(study.spec.patient.patient_id, NAME_A, study.spec.study_uid)


@pytest.fixture
def make_viewer(qtbot: QtBot, runner: TaskRunner) -> Callable[..., StudyViewer]:
    def make(study: Study, **kw: object) -> StudyViewer:
        v = StudyViewer(subject_for(study), runner, **kw)  # type: ignore[arg-type]
        qtbot.addWidget(v)
        v.resize(1000, 700)
        v.show()
        qtbot.waitExposed(v)
        return v

    return make


def feed(qtbot: QtBot, v: StudyViewer, files: list[Path], **kw: str) -> None:
    for f in files:
        v.add_instance(f, **kw)
    qtbot.waitUntil(lambda: v.pending == 0)


@pytest.fixture
def loaded(qtbot: QtBot, make_viewer: Callable[..., StudyViewer], study_a: Study) -> StudyViewer:
    v = make_viewer(study_a)
    with qtbot.waitSignal(v.sig_first_image_shown):
        feed(qtbot, v, study_a.files)
    return v


def key(qtbot: QtBot, v: StudyViewer, k: Qt.Key, times: int = 1) -> None:
    for _ in range(times):
        qtbot.keyClick(v.canvas, k)


def corner(v: StudyViewer, name: str) -> list[str]:
    return v.overlay_lines()[name]


def slice_label(v: StudyViewer) -> str:
    return corner(v, "bl")[0]


# --- mouse events with exact (sub-pixel) positions --------------------------------------------
def _mouse(
    w: QApplication | object,
    kind: QEvent.Type,
    pos: QPointF,
    button: Qt.MouseButton,
    buttons: Qt.MouseButton,
    mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    ev = QMouseEvent(kind, pos, pos, button, buttons, mods)
    QApplication.sendEvent(w, ev)  # type: ignore[arg-type]


def drag(
    w: object,
    start: QPointF,
    end: QPointF,
    button: Qt.MouseButton = Qt.MouseButton.LeftButton,
    steps: int = 4,
) -> None:
    none = Qt.MouseButton.NoButton
    _mouse(w, QEvent.Type.MouseButtonPress, start, button, button)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        _mouse(w, QEvent.Type.MouseMove, p, none, button)
    _mouse(w, QEvent.Type.MouseButtonRelease, end, button, none)


def wheel(w: object, notches: int, pos: QPointF, ctrl: bool = False) -> None:
    mods = Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier
    ev = QWheelEvent(
        pos,
        pos,
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        mods,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(w, ev)  # type: ignore[arg-type]


def centre(v: StudyViewer) -> QPointF:
    return QPointF(v.canvas.width() / 2, v.canvas.height() / 2)


# --- first image, overlay, strip ----------------------------------------------------------------
def test_first_image_overlay_and_series_strip(loaded: StudyViewer, qtmodeltester: object) -> None:
    v = loaded
    assert corner(v, "tl") == [NAME_A, "15.01.2024 КТ органов грудной клетки"]
    assert corner(v, "tr") == ["Серия 1: Лёгкие", "CT 128×128"]
    assert corner(v, "bl") == ["Срез 1/12", "Поз. 0,0 мм · толщ. 2,5 мм"]
    assert corner(v, "br") == ["Окно «из файла»: Ц 40 Ш 400"]
    assert v.current_slice is not None
    assert v.current_slice.number == 1
    rows = v.series_model.rows
    assert [(r.title, r.count, r.modality) for r in rows] == [
        ("Серия 1: Лёгкие", LUNGS, "CT"),
        ("Серия 2: Мягкие ткани", SOFT, "CT"),
    ]
    assert all(r.thumb_key for r in rows)  # a thumbnail each
    qtmodeltester.check(v.series_model)  # type: ignore[attr-defined]
    assert v.strip.currentIndex().row() == 0
    assert v.canvas.painted_key == v.current_slice.key_id
    assert "Изображений: 18" in v.status.text()


# --- scrolling ------------------------------------------------------------------------------------
def test_keys_scroll_the_stack(qtbot: QtBot, loaded: StudyViewer) -> None:
    v = loaded
    key(qtbot, v, Qt.Key.Key_Right, 3)
    assert slice_label(v) == "Срез 4/12"
    assert corner(v, "bl")[1] == "Поз. −7,5 мм · толщ. 2,5 мм"
    key(qtbot, v, Qt.Key.Key_Left)
    assert slice_label(v) == "Срез 3/12"
    key(qtbot, v, Qt.Key.Key_PageDown)
    assert slice_label(v) == "Срез 12/12"  # ten more, clamped at the end
    key(qtbot, v, Qt.Key.Key_PageUp)
    assert slice_label(v) == "Срез 2/12"
    key(qtbot, v, Qt.Key.Key_End)
    assert slice_label(v) == "Срез 12/12"
    key(qtbot, v, Qt.Key.Key_Right)
    assert slice_label(v) == "Срез 12/12"
    key(qtbot, v, Qt.Key.Key_Home)
    assert slice_label(v) == "Срез 1/12"
    qtbot.keyClick(v.canvas, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert slice_label(v) == "Срез 1/12"  # chords are the application's shortcuts
    v.canvas.repaint()
    assert v.canvas.painted_key == v.current_slice.key_id  # type: ignore[union-attr]


def test_mouse_wheel_scrolls(loaded: StudyViewer) -> None:
    v = loaded
    wheel(v.canvas, -1, centre(v))  # towards the user: the next slice
    wheel(v.canvas, -1, centre(v))
    assert slice_label(v) == "Срез 3/12"
    wheel(v.canvas, 1, centre(v))
    assert slice_label(v) == "Срез 2/12"


def test_up_down_and_click_move_between_series(qtbot: QtBot, loaded: StudyViewer) -> None:
    v = loaded
    key(qtbot, v, Qt.Key.Key_Right, 4)
    key(qtbot, v, Qt.Key.Key_Down)
    assert corner(v, "tr") == ["Серия 2: Мягкие ткани", "CT 64×64"]
    assert slice_label(v) == "Срез 1/6"
    assert v.strip.currentIndex().row() == 1
    key(qtbot, v, Qt.Key.Key_Down)  # already the last series
    assert corner(v, "tr")[0] == "Серия 2: Мягкие ткани"
    key(qtbot, v, Qt.Key.Key_Up)
    assert corner(v, "tr")[0] == "Серия 1: Лёгкие"
    assert slice_label(v) == "Срез 5/12"  # each series keeps its own slice
    rect = v.strip.visualRect(v.series_model.index(1))
    qtbot.mouseClick(v.strip.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert corner(v, "tr")[0] == "Серия 2: Мягкие ткани"
    assert v.canvas.hasFocus() or not v.strip.hasFocus()  # the strip never takes the keys
    key(qtbot, v, Qt.Key.Key_Right)
    assert slice_label(v) == "Срез 2/6"


# --- window/level ---------------------------------------------------------------------------------
def test_left_and_right_drag_change_the_window_in_the_overlay(loaded: StudyViewer) -> None:
    v = loaded
    c = centre(v)
    # 400 wide: 400/256 = 1.5625 per pixel; 64 px right → +100 width, 32 px up → +50 centre
    drag(v.canvas, c, c + QPointF(64, -32), Qt.MouseButton.LeftButton)
    assert v.current_window == Window(90, 500)
    assert corner(v, "br") == ["Окно: Ц 90 Ш 500"]
    assert v.preset_combo.currentData() == "custom"
    drag(v.canvas, c, c + QPointF(-256, 128), Qt.MouseButton.RightButton)  # right: always W/L
    assert corner(v, "br") == ["Окно: Ц −160 Ш 1"]  # narrowed to the minimum width
    v.canvas.set_tool(Tool.MEASURE)
    drag(v.canvas, c, c + QPointF(0, 256), Qt.MouseButton.RightButton)
    assert v.current_window == Window(-161, 1)  # a 1-wide window moves 1/256 a pixel


def test_presets_by_keys_and_combo_change_what_is_painted(
    qtbot: QtBot, loaded: StudyViewer
) -> None:
    v = loaded
    for k, name, title in [
        (Qt.Key.Key_1, "lung", "Лёгкие"),
        (Qt.Key.Key_2, "mediastinum", "Средостение"),
        (Qt.Key.Key_3, "bone", "Кости"),
        (Qt.Key.Key_4, "brain", "Головной мозг"),
        (Qt.Key.Key_5, "abdomen", "Брюшная полость"),
    ]:
        key(qtbot, v, k)
        assert v.current_window == PRESETS[name]
        assert corner(v, "br") == [fmt_window(PRESETS[name], title)]
        assert v.preset_combo.currentData() == name
    key(qtbot, v, Qt.Key.Key_0)
    assert corner(v, "br") == ["Окно «из файла»: Ц 40 Ш 400"]
    assert fmt_window(PRESETS["lung"], "Лёгкие") == "Окно «Лёгкие»: Ц −600 Ш 1500"

    # a lung (−850 HU) is grey in the lung window and black in the bone window
    lung = v.canvas.image_to_widget(128 / 2 - 128 * 0.18, 128 / 2)
    assert lung is not None

    def grey_at_lung() -> int:
        return QColor(v.canvas.grab().toImage().pixel(lung.toPoint())).red()

    v.preset_combo.activated.emit(v.preset_combo.findData("lung"))
    assert v.current_window == PRESETS["lung"]
    in_lung_window = grey_at_lung()
    v.preset_combo.activated.emit(v.preset_combo.findData("bone"))
    assert v.current_window == PRESETS["bone"]
    assert grey_at_lung() == 0 < in_lung_window

    # the canvas's one-pass table paints exactly the DICOM window's grey levels
    e = v.current_slice
    assert e is not None
    assert e.pixels is not None
    assert e.geometry is not None
    v.canvas.repaint()
    painted = v.canvas._rgb32 & 0xFF
    g = e.geometry
    expected = WindowLevel().render(
        e.pixels, PRESETS["bone"], slope=g.rescale_slope, intercept=g.rescale_intercept
    )
    np.testing.assert_array_equal(painted, expected)


# --- zoom and pan ---------------------------------------------------------------------------------
def test_ctrl_wheel_zooms_at_the_cursor_and_keys_zoom_and_fit(
    qtbot: QtBot, loaded: StudyViewer
) -> None:
    v, canvas = loaded, loaded.canvas
    at = centre(v) + QPointF(100, -50)
    under = canvas.widget_to_image(at)
    assert under is not None
    wheel(canvas, 2, at, ctrl=True)
    assert canvas.zoom == pytest.approx(1.15**2)
    back = canvas.image_to_widget(*under)
    assert back is not None
    assert (back - at).manhattanLength() < 1e-6
    assert slice_label(v) == "Срез 1/12"  # Ctrl+wheel does not scroll
    key(qtbot, v, Qt.Key.Key_Plus)
    assert canvas.zoom == pytest.approx(1.15**2 * 1.25)
    key(qtbot, v, Qt.Key.Key_Minus, 2)
    assert canvas.zoom == pytest.approx(1.15**2 / 1.25)
    assert corner(v, "br") == ["Окно «из файла»: Ц 40 Ш 400"]
    key(qtbot, v, Qt.Key.Key_F)
    assert canvas.zoom == 1
    assert canvas.pan == QPointF(0, 0)


def test_middle_drag_and_space_drag_pan(qtbot: QtBot, loaded: StudyViewer) -> None:
    canvas = loaded.canvas
    origin = canvas.image_to_widget(0, 0)
    assert origin is not None
    c = centre(loaded)
    drag(canvas, c, c + QPointF(40, 30), Qt.MouseButton.MiddleButton)
    assert canvas.image_to_widget(0, 0) == origin + QPointF(40, 30)
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    drag(canvas, c, c + QPointF(-10, 5), Qt.MouseButton.LeftButton)
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert canvas.image_to_widget(0, 0) == origin + QPointF(30, 35)
    assert loaded.current_window == Window(40, 400)  # panning is not windowing


# --- measurement ------------------------------------------------------------------------------
def _measure(v: StudyViewer, a: tuple[float, float], b: tuple[float, float]) -> None:
    pa, pb = v.canvas.image_to_widget(*a), v.canvas.image_to_widget(*b)
    assert pa is not None
    assert pb is not None
    drag(v.canvas, pa, pb, Qt.MouseButton.LeftButton)


def test_measurement_of_a_known_distance_in_mm(qtbot: QtBot, loaded: StudyViewer) -> None:
    v = loaded
    key(qtbot, v, Qt.Key.Key_M)
    assert v.canvas.tool is Tool.MEASURE
    assert v.ruler_button.isChecked()
    _measure(v, (20, 30), (20 + 64, 30))  # 64 columns × 0.78125 mm
    _measure(v, (10, 10), (10 + 48, 10 + 64))  # a 3-4-5 triangle: 80 px
    assert v.canvas.slice_measurements() == ["50,0 мм", "62,5 мм"]
    assert 64 * SPACING == 50.0
    assert 80 * SPACING == 62.5
    assert v.current_window == Window(40, 400)  # the left button measured, not windowed
    key(qtbot, v, Qt.Key.Key_Right)
    assert v.canvas.slice_measurements() == []  # rulers belong to their slice
    key(qtbot, v, Qt.Key.Key_Left)
    assert len(v.canvas.slice_measurements()) == 2
    v.canvas.grab()  # paints the rulers with their labels
    key(qtbot, v, Qt.Key.Key_Delete)
    assert v.canvas.slice_measurements() == []
    key(qtbot, v, Qt.Key.Key_Escape)
    assert v.canvas.tool is Tool.WINDOW
    assert v.window_button.isChecked()


def test_measurement_without_pixel_spacing_says_px(
    qtbot: QtBot, make_viewer: Callable[..., StudyViewer], study_a: Study, tmp_path: Path
) -> None:
    ds = dcmread(study_a.files[0])
    del ds.PixelSpacing
    path = tmp_path / "nospacing.dcm"
    ds.save_as(path)
    v = make_viewer(study_a)
    feed(qtbot, v, [path])
    v.canvas.set_tool(Tool.MEASURE)
    _measure(v, (10, 10), (10 + 30, 10 + 40))
    assert v.canvas.slice_measurements() == ["50,0 px"]


# --- progressive arrival --------------------------------------------------------------------------
def test_progressive_adding_keeps_the_current_slice(
    qtbot: QtBot, make_viewer: Callable[..., StudyViewer], study_a: Study
) -> None:
    lungs = study_a.series(1)
    v = make_viewer(study_a)
    with qtbot.waitSignal(v.sig_first_image_shown):
        v.add_instance(lungs[6])  # instance 7 first: it is the first image
    qtbot.waitUntil(lambda: v.pending == 0)
    assert slice_label(v) == "Срез 1/1"
    feed(qtbot, v, lungs[1:6:2])  # instances 2, 4, 6 arrive
    assert slice_label(v) == "Срез 4/4"  # still instance 7, now after three others
    key(qtbot, v, Qt.Key.Key_Left)
    shown = v.current_slice
    assert shown is not None
    assert shown.number == 6
    feed(qtbot, v, lungs[::-1])  # the rest, backwards, with repeats
    assert v.current_slice is shown  # the same entry: repeats refresh it in place
    assert slice_label(v) == "Срез 6/12"
    numbers = [e.number for e in v.current_series.slices]  # type: ignore[union-attr]
    assert numbers == list(range(1, LUNGS + 1))  # the scanner's order, instance 1 first


def test_stack_keeps_its_current_slice_through_any_arrival_order() -> None:
    rng = np.random.default_rng(8)
    from dicom.reader import Geometry

    def entry(k: int) -> SliceEntry:
        g = Geometry(
            8, 8, 1, "MONOCHROME2", None, None, None, -2.5 * k, 2.5, 1, 0, None, None, k + 1
        )
        return SliceEntry(f"sop{k}", None, g, None)

    for _ in range(50):
        order = rng.permutation(30)
        stack = SeriesStack("s", 0)
        stack.last_viewed = 1  # on screen
        stack.put(entry(int(order[0])))
        current = stack.current
        for k in order[1:]:
            stack.put(entry(int(k)))
            assert stack.current is current
            if rng.random() < 0.2:
                stack.go(int(rng.integers(0, len(stack))))
                current = stack.current
        assert [e.number for e in stack.slices] == list(range(1, 31))

    unseen = SeriesStack("u", 1)  # not on screen yet: opens at its first slice
    for k in rng.permutation(30):
        unseen.put(entry(int(k)))
        assert unseen.index == 0
    assert unseen.current is not None
    assert unseen.current.number == 1


def test_open_cached_shows_series_one_slice_one_first(
    qtbot: QtBot, make_viewer: Callable[..., StudyViewer], study_a: Study, tmp_path: Path
) -> None:
    cache = StudyCache(tmp_path / "cache", 1 << 30)
    try:
        spec = study_a.spec
        cache.register_study(StudyRecord(spec.study_uid, patient_id=spec.patient.patient_id))
        items = []
        for f in study_a.files:
            ds = dcmread(f, stop_before_pixels=True)
            items.append(
                NewInstance(
                    ds.SOPInstanceUID, spec.study_uid, ds.SeriesInstanceUID, f, f.stat().st_size
                )
            )
        cache.add_instances(items)
        opened = cache.open_study(spec.study_uid)
        v = make_viewer(study_a)
        with qtbot.waitSignal(v.sig_first_image_shown):
            assert v.open_cached(opened)
        assert v.current_slice is not None
        assert v.current_slice.number == 1
        qtbot.waitUntil(lambda: v.pending == 0 and len(v.state.series) == 2)
        assert corner(v, "tr")[0] == "Серия 1: Лёгкие"
        assert slice_label(v) == "Срез 1/12"
    finally:
        cache.close()


# --- the patient is fixed -------------------------------------------------------------------------
def test_wrong_patient_is_never_shown(
    qtbot: QtBot,
    make_viewer: Callable[..., StudyViewer],
    runner: TaskRunner,
    study_a: Study,
    study_b: Study,
    tmp_path: Path,
) -> None:
    v = make_viewer(study_a)
    feed(qtbot, v, study_a.series(1))
    key(qtbot, v, Qt.Key.Key_Right, 2)
    refused: list[str] = []
    v.sig_instance_refused.connect(refused.append)
    # the caller says the file is of B's study: refused without being read
    assert not v.add_instance(study_b.files[1], study_uid=study_b.spec.study_uid)
    assert v.banner.isVisible()  # the user is told, in words that name nobody
    v.layout().activate()  # the banner takes its room now, not at the next event
    before = v.canvas.grab().toImage()

    # B's retrieval finishes in the I/O lane while A is on screen, and its files reach A's viewer
    runner.run(
        lambda _s: list(study_b.files),
        lane="io",
        on_success=lambda paths: [v.add_instance(p) for p in paths],
    )
    qtbot.waitUntil(lambda: len(refused) == 4)
    # a file claiming A's study but carrying B's Patient ID (a mislabelled copy)
    forged = dcmread(study_b.files[0])
    forged.StudyInstanceUID = study_a.spec.study_uid
    forged.save_as(tmp_path / "forged.dcm")
    feed(qtbot, v, [tmp_path / "forged.dcm"])

    assert refused == ["другое исследование"] * 4 + ["другой пациент"]
    assert v.state.rejected == 5
    assert list(v.state.series) == [v.current_series.uid]  # type: ignore[union-attr]
    b_sops = {str(dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in study_b.files}
    shown = {e.key_id for s in v.state.series.values() for e in s.slices}
    assert not shown & (b_sops | {str(forged.SOPInstanceUID)})
    assert len(v.series_model.rows) == 1
    assert slice_label(v) == "Срез 3/12"
    assert corner(v, "tl")[0] == NAME_A
    assert v.canvas.grab().toImage() == before  # the picture did not change
    assert v.banner.isVisible()
    assert "другого пациента или исследования: 5" in v.banner.text()

    # and a cached study of another patient is not opened in A's viewer at all
    other = OpenedStudy(study_b.spec.study_uid, True, {"x": list(study_b.files)})
    assert not v.open_cached(other)
    assert v.state.rejected == 6


# --- errors ---------------------------------------------------------------------------------------
def test_corrupt_and_unsupported_files_paint_error_tiles(
    qtbot: QtBot, make_viewer: Callable[..., StudyViewer], study_a: Study, tmp_path: Path
) -> None:
    truncated = tmp_path / "truncated.dcm"
    truncated.write_bytes(study_a.files[3].read_bytes()[:-5000])
    text = tmp_path / "notes.dcm"
    text.write_text("это не DICOM")
    unsupported = tmp_path / "hsv.dcm"
    ds = dcmread(study_a.files[4])
    ds.PhotometricInterpretation = "HSV"  # retired, never decoded
    ds.save_as(unsupported)

    v = make_viewer(study_a)
    feed(qtbot, v, [text])
    assert v.current_series is not None
    assert v.current_series.uid == UNREADABLE
    e = v.current_slice
    assert e is not None
    assert e.error == "В файле нет изображения (это отчёт или служебный объект)"
    image = v.canvas.grab().toImage()
    tile = QColor(image.pixel(centre(v).toPoint() + QPoint(0, 70)))
    assert (tile.red(), tile.green(), tile.blue()) == (58, 22, 22)  # the tile, not an image
    assert corner(v, "tr") == ["Нечитаемые файлы"]

    lungs_uid = str(dcmread(study_a.files[0], stop_before_pixels=True).SeriesInstanceUID)
    feed(qtbot, v, study_a.series(1)[:3] + [truncated, unsupported], series_uid=lungs_uid)
    # the first real image takes over from the unreadable file
    assert corner(v, "tr")[0] == "Серия 1: Лёгкие"
    key(qtbot, v, Qt.Key.Key_End)
    errors = [e.error for e in v.current_series.slices if e.error]  # type: ignore[union-attr]
    assert sorted(errors) == [
        "Неподдерживаемое цветовое пространство HSV",
        "Файл обрезан: данных меньше, чем размер изображения",
    ]
    assert v.current_slice is not None
    assert v.current_slice.error is not None
    v.canvas.repaint()
    assert [(r.count, r.errors) for r in v.series_model.rows] == [(5, 2), (1, 1)]
    assert "с ошибкой: 3" in v.status.text()


# --- memory ---------------------------------------------------------------------------------------
def test_pixels_stay_int16_and_other_series_give_way_past_the_budget(
    qtbot: QtBot, make_viewer: Callable[..., StudyViewer], study_a: Study
) -> None:
    lungs_bytes = LUNGS * 128 * 128 * 2
    v = make_viewer(study_a, pixel_budget=lungs_bytes)  # room for the lungs series only
    feed(qtbot, v, study_a.files)
    lungs = v.current_series
    assert lungs is not None
    assert all(e.pixels is not None and e.pixels.dtype == np.int16 for e in lungs.slices)
    assert v.resident_bytes == lungs_bytes  # the soft-tissue series was decoded, not kept
    soft = next(s for s in v.state.series.values() if s is not lungs)
    assert all(e.pixels is None and e.geometry is not None for e in soft.slices)
    assert v.series_model.rows[1].count == SOFT  # but it is listed, with its thumbnail
    key(qtbot, v, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: v.pending == 0)
    assert all(e.pixels is not None for e in soft.slices)  # decoded again when shown
    assert v.resident_bytes <= lungs_bytes
    key(qtbot, v, Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: v.pending == 0)
    assert all(e.pixels is not None for e in lungs.slices)


def test_closing_drops_work_still_running(
    qtbot: QtBot, make_viewer: Callable[..., StudyViewer], runner: TaskRunner, study_a: Study
) -> None:
    v = make_viewer(study_a)
    for f in study_a.files:
        v.add_instance(f)
    v.close()
    assert v.pending == 0
    assert not v.add_instance(study_a.files[0])
    qtbot.waitUntil(lambda: not runner.busy)  # deliveries arrive, are dropped, nothing raises
    assert v.resident_bytes == 0
