"""The one way a form shows a broken rule: a red line under its field, hidden until needed.

Every form keys its labels by the ``key`` of :class:`services.errors.ValidationError`, so a
refusal from the services lands under the field it names.  :func:`with_error` is the simple
form (one label per field, the form shows and hides it); :class:`FieldErrors` is the whole
job for the larger forms (prescriptions, sick leave): it places every rule of a refusal under
its widget, outlines the widget, and gathers what no widget claims into a summary — the
form's values are never touched, a refusal keeps everything typed.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLayout, QVBoxLayout, QWidget

from services.errors import ValidationError

__all__ = ["ERROR_COLOUR", "FieldErrors", "error_label", "fit_height", "with_error"]


def error_label() -> QLabel:
    label = QLabel()
    label.setObjectName("fieldError")  # the style sheet's red
    label.setWordWrap(True)
    label.setVisible(False)
    return label


def with_error(widget: QWidget, errors: dict[str, QLabel], key: str) -> QWidget:
    """``widget`` with its error line under it; the line is registered in ``errors[key]``."""
    box = QWidget()
    v = QVBoxLayout(box)
    v.setContentsMargins(0, 0, 0, 0)
    v.setSpacing(1)
    v.addWidget(widget)
    err = error_label()
    v.addWidget(err)
    errors[key] = err
    return box


ERROR_COLOUR = "#c62828"
_OUTLINE = f"border: 2px solid {ERROR_COLOUR};"


class FieldErrors:
    """The keys a form's widgets answer to, and the red labels under them."""

    def __init__(self, summary: QLabel) -> None:
        self.summary = summary
        self._labels: dict[str, QLabel] = {}
        self._outlined: dict[str, QWidget] = {}
        self._order: list[str] = []
        self.shown: list[str] = []  # the keys with a rule on screen now, in the form's order

    def wrap(
        self,
        field: QWidget | QLayout,
        *keys: str,
        outline: QWidget | None = None,
        outlines: dict[str, QWidget] | None = None,
    ) -> QWidget:
        """``field`` with a (hidden) error label under it; rules with any of ``keys`` go there.

        ``outline`` is the widget outlined in red (default: ``field`` when it is a widget);
        ``outlines`` names another one for some keys (a row of several fields, one label under
        the whole row: a long rule wraps over its full width).
        """
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        if isinstance(field, QLayout):
            lay.addLayout(field)
        else:
            lay.addWidget(field)
        label = QLabel()
        label.setWordWrap(True)
        label.setStyleSheet(f"color: {ERROR_COLOUR};")
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.hide()
        lay.addWidget(label)
        target = outline if outline is not None else field if isinstance(field, QWidget) else None
        for key in keys:
            self._labels[key] = label
            own = (outlines or {}).get(key, target)
            if own is not None:
                self._outlined[key] = own
            self._order.append(key)
        return box

    def label(self, key: str) -> QLabel | None:
        return self._labels.get(key)

    def clear(self) -> None:
        for label in set(self._labels.values()):
            label.clear()
            label.hide()
        for w in set(self._outlined.values()):
            w.setStyleSheet("")
        self.summary.clear()
        self.shown = []

    def show(self, errors: Iterable[ValidationError], *, unplaced: Iterable[str] = ()) -> None:
        """Put each rule under its field; the rest, and ``unplaced`` texts, in the summary.

        Each reads «Поле: правило» as the service worded it: the field's name can say more
        than the widget's caption («Рецепт 2: Препарат 1: Количество»).
        """
        self.clear()
        texts: dict[QLabel, list[str]] = {}
        rest = list(unplaced)
        for e in errors:
            label = self._labels.get(e.key)
            if label is None:
                rest.append(str(e))
                continue
            texts.setdefault(label, []).append(str(e))
            target = self._outlined.get(e.key)
            if target is not None:
                target.setStyleSheet(_OUTLINE)
            self.shown.append(e.key)
        for label, lines in texts.items():
            label.setText("\n".join(lines))
            label.show()
        self.summary.setText("\n".join(f"• {t}" for t in rest))
        self.shown.sort(key=lambda k: self._order.index(k))

    def first_widget(self) -> QWidget | None:
        """The outlined widget of the first rule in the form's order, to put the cursor in."""
        for key in self.shown:
            w = self._outlined.get(key)
            if w is not None:
                return w
        return None


def fit_height(window: QWidget) -> None:
    """Grow ``window`` to show every line of the rules just shown.

    A layout's minimum size leaves out word-wrapped labels' extra lines (they only know their
    height for a given width), so a window sized to its fields would cut a long rule off.
    """
    layout = window.layout()
    if layout is None:
        return
    layout.activate()
    need = layout.heightForWidth(window.width()) if layout.hasHeightForWidth() else -1
    need = max(need, layout.sizeHint().height())
    if need > window.height():
        window.resize(window.width(), need)
