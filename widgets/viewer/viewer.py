"""The study viewer: series strip, slice canvas, window presets — for one patient's one study.

How it is fed: :meth:`StudyViewer.open_cached` with a study from the local cache, and/or
:meth:`StudyViewer.add_instance` for each file as a retrieval writes it (the application
marshals :class:`dicom.retrieve.Retriever`'s ``on_instance`` callback to the GUI thread and
calls it there).  Files are decoded in the runner's I/O lane (:mod:`widgets.viewer.loader`);
each decoded instance is checked against the patient and study the viewer was opened for
before it may join a stack (:meth:`widgets.viewer.state.ViewerSubject.refusal`), so a late
retrieval of another patient is dropped and counted, never shown.

Keys (the canvas keeps the focus; the strip and the toolbar never take it):
←/→ and the wheel step one slice, PgUp/PgDn ten, Home/End the ends, ↑/↓ the previous/next
series; 1 lung, 2 mediastinum, 3 bone, 4 brain, 5 abdomen, 0 the file's own window; the
canvas adds zoom (+/−, Ctrl+wheel, F), pan (middle drag, Space+drag) and the ruler (M).
Window/level: drag with the *right* button at any time, or with the *left* button while the
window tool is on (the default; M switches the left button to the ruler).  Right widens the
window, up raises its centre, at width/256 per screen pixel so the feel is the same for a
brain window and a bone one.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dicom.cache import OpenedStudy
from dicom.windowing import PRESET_TITLES, PRESETS, Window, WindowLevel
from widgets.ports import Runner
from widgets.viewer.canvas import SliceCanvas, Tool, fmt_number
from widgets.viewer.decode import Decoded, plan_cached
from widgets.viewer.loader import Loader
from widgets.viewer.series_strip import SeriesModel, SeriesRow, SeriesStrip, make_thumbnail
from widgets.viewer.state import (
    DEFAULT_PIXEL_BUDGET,
    UNREADABLE,
    SeriesStack,
    SliceEntry,
    StudyState,
    ViewerSubject,
)

__all__ = ["PRESET_KEYS", "StudyViewer", "fmt_window"]

log = logging.getLogger(__name__)

PRESET_KEYS: dict[int, str] = {  # Qt.Key is an IntEnum: event.key() finds it
    int(Qt.Key.Key_1): "lung",
    int(Qt.Key.Key_2): "mediastinum",
    int(Qt.Key.Key_3): "bone",
    int(Qt.Key.Key_4): "brain",
    int(Qt.Key.Key_5): "abdomen",
    int(Qt.Key.Key_0): "default",
}
PAGE = 10
_CUSTOM = "custom"


def _value(x: float) -> str:
    return fmt_number(x, 0 if abs(x) >= 10 or x == int(x) else 1)


def fmt_window(window: Window, name: str = "") -> str:
    """«Окно «Лёгкие»: Ц −600 Ш 1500» — centre and width, as the overlay shows them."""
    title = f"Окно «{name}»" if name else "Окно"
    return f"{title}: Ц {_value(window.center)} Ш {_value(window.width)}"


def _date(yyyymmdd: str) -> str:
    d = yyyymmdd.strip()
    return f"{d[6:8]}.{d[4:6]}.{d[:4]}" if len(d) == 8 and d.isdigit() else d


class StudyViewer(QWidget):
    """One study of one patient, progressively loaded; never anything else."""

    sig_first_image_shown = Signal()
    """The first slice with pixels has been painted (the "first image" budget ends here)."""
    sig_instance_refused = Signal(str)
    """An instance of another study or patient was dropped; the reason names nobody."""
    sig_idle = Signal()
    """Every file handed in so far has been decoded (or turned into an error tile)."""

    def __init__(
        self,
        subject: ViewerSubject,
        runner: Runner,
        *,
        pixel_budget: int = DEFAULT_PIXEL_BUDGET,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.subject = subject
        self.state = StudyState(subject, pixel_budget)
        self._runner = runner
        self._loader = Loader(runner, self._on_decoded, self._decode_more_later)
        self._resume: Callable[[], None] | None = None
        self._thumb_wl = WindowLevel()
        self._drag_from: Window | None = None
        self._first_shown = False
        self._received: tuple[int, int] | None = None
        self._closed = False

        self.series_model = SeriesModel(self)
        self.strip = SeriesStrip(self.series_model, self)
        self.canvas = SliceCanvas(self)
        self.preset_combo = QComboBox(self)
        self.window_button = QToolButton(self)
        self.ruler_button = QToolButton(self)
        self.fit_button = QToolButton(self)
        self.status = QLabel(self)
        self.banner = QLabel(self)
        """Shown once anything was refused: it is a fault somewhere upstream, say so plainly."""

        for key, title in [("default", ""), *PRESET_TITLES.items(), (_CUSTOM, "")]:
            self.preset_combo.addItem(title, key)
        for w in (self.preset_combo, self.window_button, self.ruler_button, self.fit_button):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for b in (self.window_button, self.ruler_button):
            b.setCheckable(True)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.window_button.setChecked(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        # A long status must not widen the window: it is cut, and whole in the tooltip.
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.status.setStyleSheet("color: #555;")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #fdecea; color: #b71c1c; padding: 4px 8px;")
        self.banner.hide()

        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 4)
        self._preset_label = QLabel(self)
        tools: list[QWidget] = [
            self._preset_label,
            self.preset_combo,
            self.window_button,
            self.ruler_button,
            self.fit_button,
        ]
        for tool in tools:
            bar.addWidget(tool)
        bar.addSpacing(12)
        bar.addWidget(self.status, 1)  # takes the rest of the row, cut if it must be
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(0)
        right.addLayout(bar)
        right.addWidget(self.banner)
        right.addWidget(self.canvas, 1)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.strip)
        outer.addLayout(right, 1)
        self.setFocusProxy(self.canvas)

        self.strip.sig_series_chosen.connect(self.select_series)
        self.canvas.sig_step_requested.connect(self.step)
        self.canvas.sig_window_drag_started.connect(self._on_drag_started)
        self.canvas.sig_window_dragged.connect(self._on_dragged)
        self.canvas.sig_tool_changed.connect(self._on_tool_changed)
        self.canvas.sig_image_painted.connect(self._on_painted)
        self.preset_combo.activated.connect(self._on_preset_chosen)
        self.window_button.clicked.connect(lambda: self.canvas.set_tool(Tool.WINDOW))
        self.ruler_button.clicked.connect(lambda: self.canvas.set_tool(Tool.MEASURE))
        self.fit_button.clicked.connect(self.canvas.reset_view)
        loader = self._loader  # not self: the C++ side is gone when this runs
        self.destroyed.connect(lambda *_: loader.shutdown())
        self.retranslate_ui()
        self._refresh()

    def retranslate_ui(self) -> None:
        self._preset_label.setText("Окно:")
        self.preset_combo.setItemText(0, "Из файла (0)")
        for i, key in enumerate(PRESET_TITLES, start=1):
            self.preset_combo.setItemText(i, f"{PRESET_TITLES[key]} ({i})")
        self.preset_combo.setItemText(len(PRESET_TITLES) + 1, "Своё")
        self.window_button.setText("Окно/уровень")
        self.window_button.setToolTip("Левая кнопка мыши меняет окно (правая — всегда)")
        self.ruler_button.setText("Линейка (M)")
        self.ruler_button.setToolTip("Левая кнопка мыши измеряет расстояние, мм")
        self.fit_button.setText("Вписать (F)")
        self._update_status()

    # --- feeding ---------------------------------------------------------------------------
    def add_instance(
        self, path: Path | str, *, study_uid: str | None = None, series_uid: str | None = None
    ) -> bool:
        """Queue one file for decoding (GUI thread only); False if refused without reading.

        ``study_uid`` and ``series_uid`` are what the caller knows (a retrieval's
        ``NewInstance``): another study is refused at once; the series places an error tile.
        The file's own UIDs and Patient ID are what decide, after decoding.
        """
        if self._closed:
            return False
        if study_uid is not None and study_uid.strip() != self.subject.study_uid.strip():
            self._refused("другое исследование")
            self._update_status()
            return False
        self._loader.add(Path(path), series_uid)
        return True

    def open_cached(self, opened: OpenedStudy) -> bool:
        """Show a study from the local cache: each series in slice order, series 1 first."""
        if opened.study_uid.strip() != self.subject.study_uid.strip():
            self._refused("другое исследование")
            self._update_status()
            return False
        self._runner.run(
            lambda _state: plan_cached(opened.series),
            lane="io",
            on_success=self._feed_planned,
            on_failure=lambda _exc: self._feed_planned(
                [(uid, paths) for uid, paths in opened.series.items()]
            ),
        )
        return True

    def _feed_planned(self, plan: list[tuple[str, list[Path]]]) -> None:
        for uid, paths in plan:
            for path in paths:
                self.add_instance(path, series_uid=uid)

    def set_received(self, done: int, total: int) -> None:
        """A retrieval's progress, for the status line («получено 120 из 400»)."""
        self._received = (done, total)
        self._update_status()

    def shutdown(self) -> None:
        """Stop decoding and let go of the pixels (the tab is closing)."""
        self._closed = True
        self._loader.shutdown()
        for stack in self.state.series.values():
            for e in stack.slices:
                e.pixels = None
        self.state.resident = 0

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    # --- what is on screen -----------------------------------------------------------------
    @property
    def pending(self) -> int:
        return self._loader.pending

    @property
    def resident_bytes(self) -> int:
        """Bytes of decoded pixels held (the memory budget's numerator)."""
        return self.state.resident

    @property
    def current_series(self) -> SeriesStack | None:
        return self.state.current

    @property
    def current_slice(self) -> SliceEntry | None:
        stack = self.state.current
        return stack.current if stack is not None else None

    @property
    def current_window(self) -> Window | None:
        stack = self.state.current
        return stack.window if stack is not None else None

    def preset_name(self) -> str:
        """The preset the current window equals: a key of PRESETS, "default" or "custom"."""
        stack = self.state.current
        if stack is None or stack.window is None:
            return _CUSTOM
        if stack.preset is not None:
            return stack.preset  # abdomen and a CT's own 40/400 are the same numbers
        if stack.window == stack.default:
            return "default"
        return next((k for k, w in PRESETS.items() if w == stack.window), _CUSTOM)

    def overlay_lines(self) -> dict[str, list[str]]:
        """The overlay's four corners (tl, tr, bl, br) — tests and the canvas read this."""
        s = self.state
        study = " ".join(x for x in (_date(s.study_date), s.study_description) if x)
        corners = {"tl": [self.subject.patient_name, study], "tr": [], "bl": [], "br": []}
        stack = s.current
        e = stack.current if stack is not None else None
        if stack is None or e is None:
            return corners
        corners["tr"] = [self._series_title(stack)]
        g = e.geometry
        if g is not None:
            corners["tr"].append(f"{stack.modality} {g.cols}×{g.rows}".strip())
        loading = " (загрузка…)" if self._loader.pending else ""
        corners["bl"] = [f"Срез {stack.index + 1}/{len(stack)}{loading}"]
        if g is not None and e.position is not None:
            where = f"Поз. {fmt_number(e.position)} мм"
            if g.slice_thickness:
                where += f" · толщ. {fmt_number(g.slice_thickness)} мм"
            corners["bl"].append(where)
        if g is not None and g.is_color:
            corners["br"] = ["Цветное изображение"]
        elif stack.window is not None:
            name = self.preset_name()
            title = PRESET_TITLES.get(name, "из файла" if name == "default" else "")
            corners["br"] = [fmt_window(stack.window, title)]
        return corners

    @staticmethod
    def _series_title(stack: SeriesStack) -> str:
        if stack.uid == UNREADABLE:
            return "Нечитаемые файлы"
        number = f"Серия {stack.number}" if stack.number is not None else "Серия"
        return f"{number}: {stack.description}" if stack.description else number

    def _refresh(self) -> None:
        """Hand the canvas what it must paint now (cheap: no pixels touched here)."""
        stack = self.state.current
        e = stack.current if stack is not None else None
        invert = bool(
            e is not None and e.geometry is not None and e.geometry.photometric == "MONOCHROME1"
        )
        self.canvas.show_slice(
            e, stack.window if stack is not None else None, invert, self.overlay_lines()
        )
        name = self.preset_name()
        i = self.preset_combo.findData(name)
        if i >= 0 and i != self.preset_combo.currentIndex():
            self.preset_combo.setCurrentIndex(i)

    # --- navigation ------------------------------------------------------------------------
    def step(self, delta: int) -> None:
        stack = self.state.current
        if stack is not None:
            self.state.user_moved = True
            if stack.go(stack.index + delta):
                self._refresh()

    def go_to(self, index: int) -> None:
        stack = self.state.current
        if stack is not None:
            self.state.user_moved = True
            if stack.go(index):
                self._refresh()

    def select_series(self, uid: str) -> None:
        if uid not in self.state.series:
            return
        self.state.user_moved = True
        if uid != self.state.current_uid:
            self._loader.reload(self.state.select(uid))
            self.canvas.reset_view()
        self.strip.show_current(uid)
        self._refresh()

    def next_series(self, delta: int) -> None:
        order = [u for u in self.state.order() if self.state.series[u].slices]
        if not order:
            return
        cur = self.state.current_uid
        i = order.index(cur) if cur in order else 0
        self.select_series(order[max(0, min(len(order) - 1, i + delta))])

    # --- window ----------------------------------------------------------------------------
    def set_window(self, window: Window, preset: str | None = None) -> None:
        """Set the current series' window; ``preset`` names it when it came from one."""
        stack = self.state.current
        if stack is None or not (math.isfinite(window.center) and math.isfinite(window.width)):
            return
        stack.window = Window(window.center, max(window.width, 1.0))
        stack.preset = preset
        self._refresh()

    def apply_preset(self, name: str) -> None:
        """``name``: a key of :data:`dicom.windowing.PRESETS`, or "default" (the file's own)."""
        stack = self.state.current
        if stack is None:
            return
        window = stack.default if name == "default" else PRESETS.get(name)
        if window is not None:
            self.set_window(window, name)

    def _on_preset_chosen(self, index: int) -> None:
        key = self.preset_combo.itemData(index)
        if isinstance(key, str) and key != _CUSTOM:
            self.apply_preset(key)
        else:
            self._refresh()  # "Своё" is a state, not a choice: show the actual one again
        self.canvas.setFocus()

    def _on_drag_started(self) -> None:
        self._drag_from = self.current_window

    def _on_dragged(self, dx: int, dy: int) -> None:
        w0 = self._drag_from
        if w0 is None:
            return
        k = max(w0.width, 1.0) / 256
        self.set_window(Window(w0.center - dy * k, max(1.0, w0.width + dx * k)))

    def _on_tool_changed(self, tool: object) -> None:
        self.window_button.setChecked(tool is Tool.WINDOW)
        self.ruler_button.setChecked(tool is Tool.MEASURE)

    # --- keys ------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        K = Qt.Key
        key = event.key()
        chord = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
        if event.modifiers() & chord:  # Ctrl+…/Alt+… belong to the application's shortcuts
            super().keyPressEvent(event)
            return
        steps: dict[int, int] = {
            K.Key_Right: 1,
            K.Key_Left: -1,
            K.Key_PageDown: PAGE,
            K.Key_PageUp: -PAGE,
        }
        if key in steps:
            self.step(steps[key])
        elif key == K.Key_Home:
            self.go_to(0)
        elif key == K.Key_End:
            self.go_to(1 << 30)
        elif key in (K.Key_Up, K.Key_Down):
            self.next_series(-1 if key == K.Key_Up else 1)
        elif key in PRESET_KEYS:
            self.apply_preset(PRESET_KEYS[key])
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    # --- arrivals --------------------------------------------------------------------------
    def _refused(self, reason: str) -> None:
        self.state.rejected += 1
        log.info("instance refused by the viewer: %s", reason)  # no identifiers, by design
        self.sig_instance_refused.emit(reason)

    def _on_decoded(self, batch: list[Decoded]) -> None:
        if self._closed:
            return
        out = self.state.accept(batch)
        for reason in out.refusals:
            log.info("instance refused by the viewer: %s", reason)
            self.sig_instance_refused.emit(reason)
        if out.current_changed:
            self.canvas.reset_view()
        self._refresh()
        slice_ = self.current_slice
        if not self._first_shown and slice_ is not None and slice_.pixels is not None:
            if self.canvas.isVisible():
                self.canvas.repaint()  # the first image now, not at the next frame
        if out.touched or out.new_series:
            self._update_strip(out.touched)
        self.state.trim()  # after the thumbnails: they may need pixels trim lets go of
        if out.current_changed or out.touched or out.new_series:
            self.strip.show_current(self.state.current_uid)
        self._update_status()
        if self._loader.pending == 0:
            self.sig_idle.emit()

    def _on_painted(self, _key: str) -> None:
        if not self._first_shown:
            self._first_shown = True
            self.sig_first_image_shown.emit()
            self._decode_more()

    def _decode_more_later(self, pump: Callable[[], None]) -> None:
        """When the loader may start the next chunks: after the first image is on screen.

        Decoding threads share the GIL with the GUI thread, and Qt paints a window a few
        milliseconds after ``update()``: chunks started at once would double the time to
        the first image (measured: 24 ms against 12).  Later deliveries go on at once,
        after the events already queued.  The fallback covers a viewer never painted.
        """
        slice_ = self.current_slice
        if not self._first_shown and slice_ is not None and slice_.pixels is not None:
            self._resume = pump
            QTimer.singleShot(250, self._decode_more)
        else:
            QTimer.singleShot(0, pump)

    def _decode_more(self) -> None:
        pump, self._resume = self._resume, None
        if pump is not None:
            pump()

    def _update_strip(self, touched: set[str]) -> None:
        s = self.state
        rows = []
        old = {r.uid: r for r in self.series_model.rows}
        for uid in s.order():
            stack = s.series[uid]
            rows.append(
                SeriesRow(
                    uid,
                    self._series_title(stack),
                    len(stack),
                    stack.modality,
                    stack.errors,
                    old[uid].thumb_key if uid in old else "",
                )
            )
        self.series_model.set_rows(rows)
        for uid in touched:
            if uid in s.series:
                self._thumbnail(s.series[uid])

    def _thumbnail(self, stack: SeriesStack) -> None:
        """The series' middle slice, 96 px, remade only when the middle slice changes."""
        row = self.series_model.row_of(stack.uid)
        if row < 0 or not stack.slices:
            return
        mid = stack.slices[len(stack) // 2]
        if mid.key_id == self.series_model.rows[row].thumb_key:
            return
        if mid.pixels is None or mid.geometry is None:
            if mid.error is not None and not self.series_model.rows[row].thumb_key:
                icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
                self.series_model.set_thumbnail(stack.uid, icon.pixmap(48, 48).toImage(), "error")
            return
        thumb = make_thumbnail(self._thumb_wl, mid.pixels, mid.geometry, stack.window)
        if thumb is not None:
            self.series_model.set_thumbnail(stack.uid, thumb, mid.key_id)

    def _update_status(self) -> None:
        s = self.state
        images = sum(len(x) - x.errors for x in s.series.values())
        parts = [f"Изображений: {images}"]
        if self._received is not None:
            parts.append(f"получено {self._received[0]} из {self._received[1]}")
        if self._loader.pending:
            parts.append(f"в очереди: {self._loader.pending}")
        if s.errors:
            parts.append(f"с ошибкой: {s.errors}")
        self.status.setText(" · ".join(parts))
        self.status.setToolTip(" · ".join(parts))
        if s.rejected:
            self.banner.setText(
                f"⚠ Отклонено изображений другого пациента или исследования: {s.rejected} — "
                "они не показаны."
            )
        self.banner.setVisible(bool(s.rejected))
