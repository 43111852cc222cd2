"""The slice canvas: one slice painted through window/level, with zoom, pan, ruler and overlay.

The paint path is what scrolling costs, so it is kept short (bench/viewer.py measures it).  For
8- and 16-bit data (CT, MR, CR) every possible stored value is passed once per window through
:class:`dicom.windowing.WindowLevel` — the table that defines the mapping — and then through a
grey → RGB32 table, giving one 65 536-entry table of 32-bit pixels; a slice is then a single
``np.take`` into one reused 32-bit buffer (~0.3 ms for 512×512).  Other data (floats, 32-bit)
take two passes: WindowLevel's grey bytes, then the 256-entry spread.  A QImage is laid over
the buffer without a copy and Qt scales it into place — smooth when the image is shown smaller
than ~3× its pixels, nearest-neighbour past that, so a magnified slice shows its real pixels.
Why 32 bits: Qt draws RGB32 into the window's RGB32 backing store without a per-pixel format
conversion — measured here for a 512² slice shown 1050 px tall, 4.9 ms against 6.2 ms from
Grayscale8.  Only the margins around the image are filled black.  A repaint that changes
neither slice nor window (a ruler being dragged, the overlay) reuses the buffer as it is.

Input it handles itself: zoom (Ctrl+wheel at the cursor, +/−, F to fit), pan (middle drag, or
Space + left drag), the distance ruler (M, then left drag; Del removes the slice's rulers, Esc
leaves the tool).  What belongs to the study — the slice to show, the window — is asked of the
viewer through signals: wheel steps, and window drags (left button with the window tool, the
right button always).  Every other key is left to the viewer (the event propagates).

The canvas never raises out of ``paintEvent``: pixels that cannot be rendered paint an error
tile, like a file that could not be read.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from dicom.reader import Geometry
from dicom.windowing import Window, WindowLevel
from widgets.viewer.state import SliceEntry

__all__ = ["Measurement", "SliceCanvas", "Tool", "fmt_distance", "fmt_number"]

_TEXT = QColor(235, 235, 235)
_SHADOW = QColor(0, 0, 0, 220)
_RULER = QColor("#ffd54f")
_ERROR_FILL = QColor(58, 22, 22)
_ERROR_EDGE = QColor("#ef5350")
_GREY32 = (0xFF000000 | np.arange(256, dtype=np.uint32) * 0x010101).astype(np.uint32)
"""Grey level → opaque RGB32 pixel."""


class Tool(enum.Enum):
    """What a left-button drag does on the image (the right button always sets the window)."""

    WINDOW = "window"
    MEASURE = "measure"


def fmt_number(value: float, decimals: int = 1) -> str:
    """«−27,5»: a Russian decimal comma and a real minus sign."""
    return f"{value:.{decimals}f}".replace(".", ",").replace("-", "−")


def fmt_distance(
    spacing: tuple[float, float] | None, a: tuple[float, float], b: tuple[float, float]
) -> str:
    """The length of a ruler from image point ``a`` to ``b`` (column, row): mm, or px.

    Pixel Spacing is (row spacing, column spacing): a column step is ``spacing[1]`` mm wide,
    a row step ``spacing[0]`` mm tall.  Without it the length is in image pixels — "px",
    never a number that looks like millimetres.
    """
    dc, dr = b[0] - a[0], b[1] - a[1]
    if spacing is None:
        return f"{fmt_number(math.hypot(dc, dr))} px"
    return f"{fmt_number(math.hypot(dc * spacing[1], dr * spacing[0]))} мм"


@dataclass
class Measurement:
    """A ruler in image coordinates (column, row), so it stays put under zoom and pan."""

    start: tuple[float, float]
    end: tuple[float, float]


@dataclass
class _Drag:
    kind: str  # "pan" | "window" | "measure"
    origin: QPointF
    pan0: QPointF


class SliceCanvas(QWidget):
    """Paints the current slice; the viewer tells it what to show with :meth:`show_slice`."""

    sig_step_requested = Signal(int)
    """Mouse-wheel notches: +1 is the next slice."""
    sig_window_drag_started = Signal()
    """A window/level drag began: the viewer remembers the window it starts from."""
    sig_window_dragged = Signal(int, int)
    """The drag so far, (dx, dy) in screen pixels since the press."""
    sig_tool_changed = Signal(object)
    """The left-button tool changed (M, Esc): the toolbar follows."""
    sig_image_painted = Signal(str)
    """A slice with pixels was painted (its SOP Instance UID): first-image timing hooks here."""

    MIN_ZOOM, MAX_ZOOM = 0.2, 40.0
    ZOOM_STEP = 1.25

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry: SliceEntry | None = None
        self.view_window: Window | None = None
        self.invert = False
        self.corners: dict[str, list[str]] = {}
        self.placeholder = "Ожидание изображений…"
        self.zoom = 1.0
        self.pan = QPointF(0, 0)
        self.tool = Tool.WINDOW
        self.measurements: dict[str, list[Measurement]] = {}
        self.painted_key: str | None = None
        self._wl = WindowLevel()
        self._lut_wl = WindowLevel()
        self._lut_key: tuple[object, ...] | None = None
        self._lut = _GREY32
        self._render_key: tuple[object, ...] | None = None
        self._image: QImage | None = None
        self._image_buf: np.ndarray | None = None
        self._rgb32 = np.zeros((0, 0), np.uint32)
        self._drag: _Drag | None = None
        self._space = False
        self._wheel_rest = 0
        self.setFocusPolicy(Qt.FocusPolicy.WheelFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMouseTracking(False)
        self.setMinimumSize(240, 200)
        self.setToolTip(
            "Колесо, ←/→, PgUp/PgDn, Home/End — срезы; ↑/↓ — серии\n"
            "Левая или правая кнопка — окно (вправо шире, вверх выше центр); 1–5, 0 — пресеты\n"
            "Ctrl+колесо, +/− — масштаб; F — вписать; средняя кнопка или Пробел — сдвиг\n"
            "M — линейка; Del — убрать линейки среза; Esc — обычный режим"
        )

    # --- what to show ----------------------------------------------------------------------
    def show_slice(
        self,
        entry: SliceEntry | None,
        window: Window | None,
        invert: bool,
        corners: dict[str, list[str]],
        placeholder: str = "",
    ) -> None:
        self.entry, self.view_window, self.invert = entry, window, invert
        self.corners = corners
        if placeholder:
            self.placeholder = placeholder
        self.update()

    def reset_view(self) -> None:
        """Fit the image to the canvas (F; also on every change of series)."""
        self.zoom = 1.0
        self.pan = QPointF(0, 0)
        self.update()

    def set_tool(self, tool: Tool) -> None:
        if tool is self.tool:
            return
        self.tool = tool
        self.setCursor(
            Qt.CursorShape.CrossCursor if tool is Tool.MEASURE else Qt.CursorShape.ArrowCursor
        )
        self.sig_tool_changed.emit(tool)

    def zoom_by(self, factor: float, at: QPointF | None = None) -> None:
        """Zoom keeping the image point under ``at`` (default: the centre) where it is."""
        at = at if at is not None else QPointF(self.width() / 2, self.height() / 2)
        anchor = self.widget_to_image(at)
        self.zoom = max(self.MIN_ZOOM, min(self.MAX_ZOOM, self.zoom * factor))
        if anchor is not None:
            moved = self.image_to_widget(*anchor)
            if moved is not None:
                self.pan += at - moved
        self.update()

    def slice_measurements(self) -> list[str]:
        """The current slice's rulers as their labels (what the user reads on screen)."""
        e = self.entry
        if e is None or e.geometry is None:
            return []
        spacing = e.geometry.pixel_spacing
        return [fmt_distance(spacing, m.start, m.end) for m in self.measurements.get(e.key_id, [])]

    # --- geometry --------------------------------------------------------------------------
    def _layout(self) -> tuple[float, float, float, float] | None:
        """(x0, y0, sx, sy): image point (col, row) is at (x0 + col·sx, y0 + row·sy).

        Non-square pixels (row spacing ≠ column spacing) are shown in their true proportion.
        """
        e = self.entry
        if e is None or e.geometry is None:
            return None
        g = e.geometry
        rows, cols = (e.pixels.shape[:2]) if e.pixels is not None else (g.rows, g.cols)
        if rows <= 0 or cols <= 0:
            return None
        aspect = 1.0
        if g.pixel_spacing is not None:
            aspect = g.pixel_spacing[0] / g.pixel_spacing[1]
            if not (math.isfinite(aspect) and 0.05 < aspect < 20):
                aspect = 1.0
        w, h = float(cols), rows * aspect
        fit = min(max(self.width(), 1) / w, max(self.height(), 1) / h)
        s = fit * self.zoom
        x0 = self.width() / 2 + self.pan.x() - w * s / 2
        y0 = self.height() / 2 + self.pan.y() - h * s / 2
        return x0, y0, s, s * aspect

    def image_to_widget(self, col: float, row: float) -> QPointF | None:
        lay = self._layout()
        if lay is None:
            return None
        x0, y0, sx, sy = lay
        return QPointF(x0 + col * sx, y0 + row * sy)

    def widget_to_image(self, pos: QPointF) -> tuple[float, float] | None:
        lay = self._layout()
        if lay is None:
            return None
        x0, y0, sx, sy = lay
        return ((pos.x() - x0) / sx, (pos.y() - y0) / sy)

    # --- painting --------------------------------------------------------------------------
    def _qimage(self, e: SliceEntry) -> QImage | None:
        """The slice through the window as a QImage over the reused buffer (no copy)."""
        px = e.pixels
        if px is None or e.geometry is None:
            return None
        key = (e.key_id, id(px), self.view_window, self.invert)
        if key == self._render_key and self._image is not None:
            return self._image
        self._render_key = None
        rows, cols = px.shape[:2]
        try:
            if px.ndim == 3:
                buf = px if px.dtype == np.uint8 else np.clip(px, 0, 255).astype(np.uint8)
                image = QImage(buf.data, cols, rows, buf.strides[0], QImage.Format.Format_RGB888)
            else:
                if self._rgb32.shape != px.shape:
                    self._rgb32 = np.empty(px.shape, np.uint32)
                buf = self._rgb32
                with np.errstate(all="ignore"):
                    lut = self._lut32(px, e.geometry)
                    if lut is not None:  # 8/16-bit integers, CT's case: one table, one pass
                        np.take(lut, px.view(np.uint16 if px.itemsize == 2 else np.uint8), out=buf)
                    else:  # floats, 32-bit: grey bytes first, then spread
                        window, slope, intercept, invert = self._wl_args(e.geometry)
                        grey = self._wl.render(
                            px, window, slope=slope, intercept=intercept, invert=invert
                        )
                        np.take(_GREY32, grey, out=buf)
                image = QImage(buf.data, cols, rows, buf.strides[0], QImage.Format.Format_RGB32)
        except (ValueError, TypeError, MemoryError, OverflowError, IndexError):
            return None
        self._image, self._image_buf, self._render_key = image, buf, key
        return image

    def _wl_args(self, g: Geometry) -> tuple[Window, float, float, bool]:
        return (
            self.view_window or Window(0.0, 256.0),
            g.rescale_slope,
            g.rescale_intercept,
            self.invert,
        )

    def _lut32(self, px: np.ndarray, g: Geometry) -> np.ndarray | None:
        """Stored value → RGB32 pixel for every 8- or 16-bit value, rebuilt when the window moves.

        Built by passing every possible stored value through :class:`WindowLevel` (its table
        is the one the mapping is defined by), then through the grey → RGB32 table.
        """
        if px.dtype.kind not in "iu" or px.itemsize > 2:
            return None
        window, slope, intercept, invert = self._wl_args(g)
        key = (px.dtype.str, window, slope, intercept, invert)
        if key != self._lut_key:
            n = 1 << (8 * px.itemsize)
            every = np.arange(n, dtype=np.uint16 if n > 256 else np.uint8).view(px.dtype)
            grey = self._lut_wl.render(
                every.reshape(16, -1), window, slope=slope, intercept=intercept, invert=invert
            )
            self._lut = _GREY32[grey.ravel()]
            self._lut_key = key
        return self._lut

    def _fill_around(self, p: QPainter, target: QRectF) -> None:
        """Black where the image is not (the whole canvas costs 1 ms more at 1920×1080)."""
        w, h = float(self.width()), float(self.height())
        # a pixel inside, so the black overlaps the image's edge (painted over next) and
        # rounding can never leave a line of last frame's pixels between the two
        r = target.adjusted(1, 1, -1, -1).intersected(QRectF(0, 0, w, h))
        if r.isEmpty():
            p.fillRect(self.rect(), Qt.GlobalColor.black)
            return
        black = Qt.GlobalColor.black
        p.fillRect(QRectF(0, 0, w, r.top()), black)
        p.fillRect(QRectF(0, r.bottom(), w, h - r.bottom()), black)
        p.fillRect(QRectF(0, r.top(), r.left(), r.height()), black)
        p.fillRect(QRectF(r.right(), r.top(), w - r.right(), r.height()), black)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        try:
            e = self.entry
            image = self._qimage(e) if e is not None and e.error is None else None
            lay = self._layout() if image is not None else None
            if image is None or lay is None or e is None or e.pixels is None:
                p.fillRect(self.rect(), Qt.GlobalColor.black)
            if e is None:
                self._message(p, self.placeholder)
            elif e.error is not None:
                self._error_tile(p, e.error, e.path.name if e.path is not None else "")
            elif e.pixels is None:
                self._message(p, "Загрузка…")
            elif image is None or lay is None:
                self._error_tile(p, "Изображение не удалось отобразить", "")
            else:
                x0, y0, sx, sy = lay
                rows, cols = e.pixels.shape[:2]
                target = QRectF(x0, y0, cols * sx, rows * sy)
                self._fill_around(p, target)
                p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, sx < 3.0)
                p.drawImage(target, image)
                self._rulers(p, e)
                self.painted_key = e.key_id
                self.sig_image_painted.emit(e.key_id)
            self._overlay(p)
        finally:
            p.end()

    def _message(self, p: QPainter, text: str) -> None:
        p.setPen(QColor(150, 150, 150))
        p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, text)

    def _error_tile(self, p: QPainter, reason: str, name: str) -> None:
        w = min(self.width() * 0.8, 560.0)
        r = QRectF((self.width() - w) / 2, (self.height() - 160) / 2, w, 160)
        p.fillRect(r, _ERROR_FILL)
        p.setPen(QPen(_ERROR_EDGE, 2))
        p.drawRect(r)
        p.setPen(_TEXT)
        text = f"⚠ Изображение не показано\n{reason}" + (f"\n{name}" if name else "")
        flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
        p.drawText(r.adjusted(16, 10, -16, -10), int(flags), text)

    def _rulers(self, p: QPainter, e: SliceEntry) -> None:
        rulers = self.measurements.get(e.key_id)
        if not rulers or e.geometry is None:
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        fm = p.fontMetrics()
        for m in rulers:
            a, b = self.image_to_widget(*m.start), self.image_to_widget(*m.end)
            if a is None or b is None:
                continue
            p.setPen(QPen(_RULER, 1.5))
            p.drawLine(a, b)
            for q in (a, b):
                p.drawEllipse(q, 3.0, 3.0)
            label = fmt_distance(e.geometry.pixel_spacing, m.start, m.end)
            box = QRectF(
                b.x() + 8, b.y() - fm.height() - 4, fm.horizontalAdvance(label) + 8, fm.height() + 4
            )
            p.fillRect(box, QColor(0, 0, 0, 170))
            p.setPen(_RULER)
            p.drawText(box, int(Qt.AlignmentFlag.AlignCenter), label)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    def _overlay(self, p: QPainter) -> None:
        fm = p.fontMetrics()
        line = fm.height() + 1
        margin = 8
        zoom = self._zoom_line()
        for corner, lines in self.corners.items():
            lines = lines + [zoom] if corner == "br" and zoom else lines
            right, bottom = corner[1] == "r", corner[0] == "b"
            y = (
                self.height() - margin - line * (len(lines) - 1) - fm.descent()
                if bottom
                else margin + fm.ascent()
            )
            for i, text in enumerate(lines):
                if not text:
                    y += line
                    continue
                x = self.width() - margin - fm.horizontalAdvance(text) if right else margin
                if corner == "tl" and i == 0:
                    font = QFont(p.font())
                    font.setBold(True)
                    p.setFont(font)
                p.setPen(_SHADOW)
                p.drawText(QPointF(x + 1, y + 1), text)
                p.setPen(_TEXT)
                p.drawText(QPointF(x, y), text)
                if corner == "tl" and i == 0:
                    p.setFont(self.font())
                y += line

    def _zoom_line(self) -> str:
        lay = self._layout()
        if lay is None or self.entry is None or self.entry.pixels is None:
            return ""
        return f"Масштаб {round(lay[2] * 100)} %"

    # --- input -----------------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y()
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_by(1.15 ** (delta / 120), event.position())
        else:
            self._wheel_rest += delta
            steps = int(self._wheel_rest / 120)
            self._wheel_rest -= steps * 120
            if steps:
                self.sig_step_requested.emit(-steps)  # wheel towards the user: next slice
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        button, pos = event.button(), event.position()
        left = button == Qt.MouseButton.LeftButton
        e = self.entry
        has_image = e is not None and e.pixels is not None and e.error is None
        if button == Qt.MouseButton.MiddleButton or (left and self._space):
            self._drag = _Drag("pan", pos, QPointF(self.pan))
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif left and self.tool is Tool.MEASURE and has_image and e is not None:
            start = self.widget_to_image(pos)
            if start is not None:
                self._drag = _Drag("measure", pos, QPointF(self.pan))
                self.measurements.setdefault(e.key_id, []).append(Measurement(start, start))
        elif (left or button == Qt.MouseButton.RightButton) and has_image:
            self._drag = _Drag("window", pos, QPointF(self.pan))
            self.sig_window_drag_started.emit()
        else:
            event.ignore()
            return
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        d, pos = self._drag, event.position()
        if d is None:
            event.ignore()
            return
        if d.kind == "pan":
            self.pan = d.pan0 + (pos - d.origin)
            self.update()
        elif d.kind == "window":
            delta = pos - d.origin
            self.sig_window_dragged.emit(round(delta.x()), round(delta.y()))
        elif d.kind == "measure" and self.entry is not None:
            end = self.widget_to_image(pos)
            rulers = self.measurements.get(self.entry.key_id)
            if end is not None and rulers:
                rulers[-1].end = end
                self.update()
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        d, self._drag = self._drag, None
        if d is None:
            event.ignore()
            return
        if d.kind == "measure" and self.entry is not None:
            rulers = self.measurements.get(self.entry.key_id)
            moved = event.position() - d.origin
            if rulers and math.hypot(moved.x(), moved.y()) < 3:
                rulers.pop()  # a click, not a ruler
            self.update()
        self._restore_cursor()
        event.accept()

    def _restore_cursor(self) -> None:
        if self._space:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.setCursor(
                Qt.CursorShape.CrossCursor
                if self.tool is Tool.MEASURE
                else Qt.CursorShape.ArrowCursor
            )

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        K = Qt.Key
        if key in (K.Key_Plus, K.Key_Equal):
            self.zoom_by(self.ZOOM_STEP)
        elif key in (K.Key_Minus, K.Key_Underscore):
            self.zoom_by(1 / self.ZOOM_STEP)
        elif key == K.Key_F:
            self.reset_view()
        elif key == K.Key_M:
            self.set_tool(Tool.WINDOW if self.tool is Tool.MEASURE else Tool.MEASURE)
        elif key == K.Key_Escape and (self._drag is not None or self.tool is not Tool.WINDOW):
            if self._drag is not None and self._drag.kind == "measure" and self.entry is not None:
                rulers = self.measurements.get(self.entry.key_id)
                if rulers:
                    rulers.pop()
            self._drag = None
            self.set_tool(Tool.WINDOW)
            self.update()
        elif key in (K.Key_Delete, K.Key_Backspace) and self.entry is not None:
            self.measurements.pop(self.entry.key_id, None)
            self.update()
        elif key == K.Key_Space:
            if not event.isAutoRepeat():
                self._space = True
                self.setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            super().keyPressEvent(event)  # ignored: slices, series, presets are the viewer's
            return
        event.accept()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        # A Space released in another window never reaches us: do not stay in pan mode.
        if self._space:
            self._space = False
            self._restore_cursor()
        super().focusOutEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self._restore_cursor()
            event.accept()
            return
        super().keyReleaseEvent(event)
