"""The editor's three questions: replace the text with a template, sign, why correct.

Each is opened (not ``exec``-ed) by the editor, which keeps it in an attribute for the tests
and acts on ``finished``.  Enter answers yes: a radiologist signs with Ctrl+Enter, Enter.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialogButtonBox, QInputDialog, QLineEdit, QMessageBox, QWidget

from services.studies import StudyRow
from widgets.formatting import fmt_date

__all__ = ["MAX_REASON", "reason_dialog", "replace_box", "sign_box"]

MAX_REASON = 300  # services.studies.MAX_AMEND_REASON

_YES, _NO = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.Cancel


def _question(parent: QWidget, title: str, text: str, info: str, yes: str) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Question, title, text, _YES | _NO, parent)
    box.setInformativeText(info)
    box.button(_YES).setText(yes)
    box.button(_NO).setText("Отмена")
    box.setDefaultButton(_YES)
    return box


def replace_box(parent: QWidget, template_title: str) -> QMessageBox:
    """Typed text is there: replace it with the template? (Ctrl+Z brings it back.)"""
    return _question(
        parent,
        "Шаблон",
        f"Заменить текст описания и заключения шаблоном «{template_title}»?",
        "Ctrl+Z в поле вернёт прежний текст.",
        "Заменить",
    )


def sign_box(parent: QWidget, row: StudyRow) -> QMessageBox:
    """«Подписать заключение для Иванова И. И.?» — the patient named, as on a paper form."""
    box = _question(
        parent,
        "Подписание заключения",
        f"Подписать заключение для {row.patient_name}?",
        f"{row.description or 'Исследование'}, {fmt_date(row.study_date)}.\n"
        "Заключение попадёт в ЭМК пациента; исправить его потом можно только с причиной.",
        "Подписать",
    )
    box.setStyleSheet("QLabel { min-width: 380px; }")  # the patient's name on one line
    return box


def reason_dialog(parent: QWidget, row: StudyRow) -> QInputDialog:
    """The reason of a correction; «Исправить» stays disabled while it is blank."""
    dlg = QInputDialog(parent)
    dlg.setWindowTitle("Исправление заключения")
    dlg.setLabelText(
        f"Исправить подписанное заключение для {row.patient_name}.\n"
        "Прежняя версия останется в ЭМК с пометкой об исправлении.\n\n"
        "Причина исправления (обязательно):"
    )
    dlg.setTextEchoMode(QLineEdit.EchoMode.Normal)
    dlg.setOkButtonText("Исправить")  # also builds the dialog's widgets, found below
    dlg.setCancelButtonText("Отмена")
    dlg.resize(560, dlg.height())
    edit = dlg.findChild(QLineEdit)
    if edit is not None:
        edit.setMaxLength(MAX_REASON)
    buttons = dlg.findChild(QDialogButtonBox)
    ok = buttons.button(QDialogButtonBox.StandardButton.Ok) if buttons is not None else None
    if ok is not None:
        ok.setEnabled(False)
        dlg.textValueChanged.connect(lambda text: ok.setEnabled(bool(text.strip())))
    return dlg
