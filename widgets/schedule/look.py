"""How a visit's status, type and booking channel look: words, colours and icons, in one place.

Colour is never the only signal (a colour-blind doctor, a washed-out all-in-one screen): each
status also has its word and an icon of its own shape.
"""

from __future__ import annotations

import datetime as dt
import functools

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPixmap, QPolygonF

from services.models import AppointmentStatus, BookingSource, VisitType
from services.visits import STATUS_TEXT
from services.walk_ins import PRIORITY_TEXT

__all__ = [
    "FREE_TEXT",
    "PRIORITY_TEXT",
    "SOURCE_TEXT",
    "TYPE_TEXT",
    "fmt_clock",
    "fmt_countdown",
    "fmt_duration",
    "status_background",
    "status_icon",
    "status_text",
]

S = AppointmentStatus
FREE_TEXT = "Свободно"

TYPE_TEXT: dict[VisitType, str] = {
    VisitType.FIRST: "Первичный",
    VisitType.REPEAT: "Повторный",
    VisitType.REFERRAL: "По направлению",
    VisitType.WALK_IN: "Без записи",
    VisitType.HOME: "Вызов на дом",
}
SOURCE_TEXT: dict[BookingSource, str] = {
    BookingSource.REGISTRY: "Регистратура",
    BookingSource.PORTAL: "Портал",
    BookingSource.INFOMAT: "Инфомат",
    BookingSource.CALL_CENTRE: "Колл-центр",
    BookingSource.DOCTOR: "Врач",
}

# (background, icon colour) per status; None = free slot.
_COLOURS: dict[AppointmentStatus | None, tuple[str, str]] = {
    None: ("#ffffff", "#b8c2cc"),
    S.BOOKED: ("#ffffff", "#5a6b7d"),
    S.ARRIVED: ("#e6f2ff", "#1565c0"),
    S.IN_PROGRESS: ("#e3f6e5", "#2e7d32"),
    S.PAUSED: ("#fff3d6", "#e08a00"),
    S.FINISHED: ("#f2f2f2", "#607d8b"),
    S.NO_SHOW: ("#fdeaea", "#c62828"),
    S.CANCELLED: ("#f7f7f7", "#9e9e9e"),
}


def status_text(status: AppointmentStatus | None) -> str:
    return FREE_TEXT if status is None else STATUS_TEXT[status]


_BRUSHES = {k: QBrush(QColor(bg)) for k, (bg, _fg) in _COLOURS.items()}


def status_background(status: AppointmentStatus | None) -> QBrush:
    return _BRUSHES[status]


@functools.cache
def status_icon(status: AppointmentStatus | None) -> QPixmap:
    """A 16-px shape per status: ring (free), dot (booked), person-arrow (arrived), play,
    pause bars, check, cross — readable without colour.

    A pixmap drawn at 2× with device pixel ratio 2: crisp on HiDPI all-in-ones, and never
    scaled while painting (a QIcon would be scaled for every cell of every repaint).
    """
    size = 32  # drawn at 2× and scaled down: crisp on HiDPI all-in-ones
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = QColor(_COLOURS[status][1])
    pen = QPen(colour, 3.5)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    c = size / 2
    if status is None:
        p.drawEllipse(QPointF(c, c), 9, 9)
    elif status == S.BOOKED:
        p.setBrush(colour)
        p.drawEllipse(QPointF(c, c), 7, 7)
    elif status == S.ARRIVED:
        p.drawLine(QPointF(6, c), QPointF(24, c))
        p.drawLine(QPointF(17, 9), QPointF(25, c))
        p.drawLine(QPointF(17, 23), QPointF(25, c))
    elif status == S.IN_PROGRESS:
        p.setBrush(colour)
        p.drawPolygon(QPolygonF([QPointF(9, 6), QPointF(26, c), QPointF(9, 26)]))
    elif status == S.PAUSED:
        p.setBrush(colour)
        p.drawRect(QRectF(8, 7, 5, 18))
        p.drawRect(QRectF(19, 7, 5, 18))
    elif status == S.FINISHED:
        p.drawPolyline(QPolygonF([QPointF(6, 17), QPointF(13, 24), QPointF(26, 8)]))
    else:  # no-show, cancelled
        p.drawLine(QPointF(8, 8), QPointF(24, 24))
        p.drawLine(QPointF(24, 8), QPointF(8, 24))
    p.end()
    pm.setDevicePixelRatio(2.0)
    return pm


def fmt_clock(ts: dt.datetime | None, tz: dt.tzinfo) -> str:
    return ts.astimezone(tz).strftime("%H:%M") if ts else ""


def fmt_duration(seconds: float | None) -> str:
    """«14 мин», «1 ч 05 мин»; a countdown shows seconds: see :func:`fmt_countdown`."""
    if seconds is None:
        return ""
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} мин"
    return f"{minutes // 60} ч {minutes % 60:02d} мин"


def fmt_countdown(seconds: float) -> str:
    """«07:32» left, or «+03:10» overdue."""
    sign = "+" if seconds < 0 else ""
    s = int(abs(seconds))
    return f"{sign}{s // 60:02d}:{s % 60:02d}"
