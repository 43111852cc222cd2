"""The one error presenter: a domain failure (services' or the PACS client's) is shown as its own
Russian words, transient ones with «Повторить»; a cancel shows nothing; anything else is a bug."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from arm.errors import BUG_MESSAGE, show_error, user_message
from dicom.errors import PacsUnavailable, RetrieveCancelled
from services.errors import Cancelled, ValidationError


def test_domain_errors_speak_for_themselves_and_bugs_do_not(qtbot: QtBot) -> None:
    pacs = PacsUnavailable("Городской архив", "соединение отклонено")
    assert user_message(pacs) == str(pacs)
    assert "Городской архив" in user_message(pacs)
    assert user_message(ValidationError("Телефон", "обязательное поле")) == (
        "Телефон: обязательное поле"
    )
    assert user_message(KeyError("x")) == BUG_MESSAGE
    box = show_error(None, pacs, retry=lambda: None)
    assert isinstance(box, QMessageBox)
    qtbot.addWidget(box)
    assert box.text() == str(pacs)
    assert box.icon() == QMessageBox.Icon.Warning
    assert [b.text() for b in box.buttons()] == ["Повторить", "Закрыть"]
    box.close()


def test_a_cancel_is_shown_to_nobody() -> None:
    assert show_error(None, Cancelled()) is None
    assert show_error(None, RetrieveCancelled()) is None
