"""Words drawn as glyph outlines (vector shapes, not text).

The diagonal «ДУБЛИКАТ» / «ЧЕРНОВИК» across a page is decoration: as real text, rotated, it
comes out of ``pdftotext`` (and a screen reader, and a search in the archive) as a scatter of
letters between the form's lines. Drawn as shapes it is only seen; the boxed mark near the top
of the page carries the same words as text.

reportlab can turn text into paths only with its optional cairo extra, so this reads the
TrueType ``glyf`` outlines of our own fonts directly (quadratic B-splines, simple and composite
glyphs) from the font file reportlab has already loaded.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.pathobject import PDFPathObject

__all__ = ["draw_outlined"]

Point = tuple[float, float, bool]  # x, y, on the curve
_Matrix = tuple[float, float, float, float, float, float]  # a b c d e f: x' = a x + c y + e
_XY = tuple[float, float]
_Transform = Callable[[float, float], _XY]


def _glyph_contours(face: object, gid: int, depth: int = 0) -> list[list[Point]]:
    data: bytes = face._ttf_data  # type: ignore[attr-defined]
    glyf: int = face.table["glyf"]["offset"]  # type: ignore[attr-defined]
    pos: list[int] = face.glyphPos  # type: ignore[attr-defined]
    start, end = glyf + pos[gid], glyf + pos[gid + 1]
    if end <= start or depth > 4:
        return []
    (n,) = struct.unpack_from(">h", data, start)
    p = start + 10
    if n < 0:
        return _composite(face, data, p, depth)
    ends = struct.unpack_from(f">{n}H", data, p)
    p += 2 * n
    (ilen,) = struct.unpack_from(">H", data, p)
    p += 2 + ilen
    count = (ends[-1] + 1) if n else 0
    flags: list[int] = []
    while len(flags) < count:
        f = data[p]
        p += 1
        flags.append(f)
        if f & 8:
            flags.extend([f] * data[p])
            p += 1

    def coords(short: int, same: int) -> list[int]:
        nonlocal p
        out, v = [], 0
        for f in flags:
            if f & short:
                d = data[p]
                p += 1
                v += d if f & same else -d
            elif not f & same:
                (d,) = struct.unpack_from(">h", data, p)
                p += 2
                v += d
            out.append(v)
        return out

    xs = coords(2, 16)
    ys = coords(4, 32)
    contours, first = [], 0
    for last in ends:
        contours.append(
            [(float(xs[i]), float(ys[i]), bool(flags[i] & 1)) for i in range(first, last + 1)]
        )
        first = last + 1
    return contours


def _composite(face: object, data: bytes, p: int, depth: int) -> list[list[Point]]:
    out: list[list[Point]] = []
    more = True
    while more:
        flags, gid = struct.unpack_from(">HH", data, p)
        p += 4
        if flags & 1:
            dx, dy = struct.unpack_from(">hh", data, p)
            p += 4
        else:
            dx, dy = struct.unpack_from(">bb", data, p)
            p += 2
        a, b, c, d = 1.0, 0.0, 0.0, 1.0
        if flags & 8:
            (s,) = struct.unpack_from(">h", data, p)
            a = d = s / 16384
            p += 2
        elif flags & 0x40:
            sx, sy = struct.unpack_from(">hh", data, p)
            a, d = sx / 16384, sy / 16384
            p += 4
        elif flags & 0x80:
            a, b, c, d = (v / 16384 for v in struct.unpack_from(">hhhh", data, p))
            p += 8
        if not flags & 2:  # point-matched placement: not used by our fonts' Cyrillic
            dx = dy = 0
        for contour in _glyph_contours(face, gid, depth + 1):
            out.append([(a * x + c * y + dx, b * x + d * y + dy, on) for x, y, on in contour])
        more = bool(flags & 0x20)
    return out


def _add_contour(path: PDFPathObject, pts: list[Point], m: _Matrix) -> None:
    """Append one closed quadratic contour to ``path`` as cubic Béziers, through ``m``."""

    def tx(x: float, y: float) -> tuple[float, float]:
        return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]

    if not pts:
        return
    # Start at an on-curve point; between two off-curve points lies an implied on-curve one.
    k = next((i for i, q in enumerate(pts) if q[2]), None)
    if k is None:
        x0 = (pts[0][0] + pts[1][0]) / 2 if len(pts) > 1 else pts[0][0]
        y0 = (pts[0][1] + pts[1][1]) / 2 if len(pts) > 1 else pts[0][1]
        seq = [(x0, y0, True), *pts[1:], pts[0]]
    else:
        seq = pts[k:] + pts[:k]
    cur: _XY = (seq[0][0], seq[0][1])
    path.moveTo(*tx(*cur))
    ctrl: _XY | None = None
    for x, y, on in [*seq[1:], seq[0]]:
        if on:
            if ctrl is None:
                path.lineTo(*tx(x, y))
            else:
                _quad(path, tx, cur, ctrl, (x, y))
                ctrl = None
            cur = (x, y)
        else:
            if ctrl is not None:
                mid = ((ctrl[0] + x) / 2, (ctrl[1] + y) / 2)
                _quad(path, tx, cur, ctrl, mid)
                cur = mid
            ctrl = (x, y)
    path.close()


def _quad(path: PDFPathObject, tx: _Transform, p0: _XY, c: _XY, p1: _XY) -> None:
    """A quadratic segment as the cubic PDF needs: controls 2/3 of the way to ``c``."""
    c1 = (p0[0] + 2 / 3 * (c[0] - p0[0]), p0[1] + 2 / 3 * (c[1] - p0[1]))
    c2 = (p1[0] + 2 / 3 * (c[0] - p1[0]), p1[1] + 2 / 3 * (c[1] - p1[1]))
    path.curveTo(*tx(*c1), *tx(*c2), *tx(*p1))


def draw_outlined(canvas: Canvas, text: str, font: str, size: float, x: float, y: float) -> None:
    """Fill ``text`` as shapes with its baseline starting at (x, y) in the current transform."""
    face = pdfmetrics.getFont(font).face
    scale = size / face.unitsPerEm
    path = canvas.beginPath()
    for ch in text:
        gid = face.charToGlyph.get(ord(ch), 0)
        for contour in _glyph_contours(face, gid):
            _add_contour(path, contour, (scale, 0.0, 0.0, scale, x, y))
        x += pdfmetrics.stringWidth(ch, font, size)
    canvas.drawPath(path, stroke=0, fill=1, fillMode=1)  # non-zero winding, as TrueType
