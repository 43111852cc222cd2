"""The registry screen, driven by keys the way a registrar uses it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import make_url

from arm.tasks import TaskRunner
from services.db import create_db_engine, make_session_factory
from services.errors import PeerUnavailable
from services.patient_search import PatientRow, SearchQuery, parse_query
from services.registry import Registry
from tests.cable import Cable
from tests.factories import base_org, person
from tests.widgets.conftest import RetryLog, World
from tests.widgets.keys import type_text
from widgets.registry.model import PatientSearchModel
from widgets.registry.view import RegistryView


def _view(qtbot: QtBot, world: World, page_size: int = 100) -> RegistryView:
    view = RegistryView(world.runner, world.registry.search, world.errors, page_size=page_size)
    qtbot.addWidget(view)
    view.resize(1366, 700)
    view.show()
    view.focus_search()
    return view


def test_type_surname_arrow_down_enter_opens_that_patient(qtbot: QtBot, world: World) -> None:
    view = _view(qtbot, world)
    type_text(view.search_edit, "иванов")
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=5000)
    assert [view.model.index(r, 0).data() for r in range(3)] == [
        "Иванов Алексей Петрович",
        "Иванов Пётр Ильич",
        "Иванова Анна Петровна",
    ]
    assert view.status.text() == "Найдено: 3"
    qtbot.keyClick(view.search_edit, Qt.Key.Key_Down)
    assert view.table.hasFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Down)
    with qtbot.waitSignal(view.sig_open_requested, timeout=2000) as sig:
        qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert sig.args == [world.people[1].id]


def test_enter_opens_the_only_match_even_before_the_debounce(qtbot: QtBot, world: World) -> None:
    view = _view(qtbot, world)
    with qtbot.waitSignal(view.sig_open_requested, timeout=5000) as sig:
        type_text(view.search_edit, "Соколова Ир")
        qtbot.keyClick(view.search_edit, Qt.Key.Key_Return)
    assert sig.args == [world.mother.id]


def test_policy_number_and_bad_input_messages(qtbot: QtBot, world: World) -> None:
    view = _view(qtbot, world)
    policy = world.people[0].policy_number
    assert policy
    type_text(view.search_edit, " ".join(policy[i : i + 4] for i in range(0, 16, 4)))
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=5000)
    assert view.model.index(0, 0).data() == "Иванова Анна Петровна"
    view.search_edit.clear()
    type_text(view.search_edit, "12345")
    qtbot.waitUntil(lambda: view.hint.text() != "", timeout=2000)
    assert view.hint.text() == "Поиск: номер полиса ОМС — 16 цифр, СНИЛС — 11 цифр"
    assert view.search_edit.text() == "12345"  # nothing typed is lost
    view.search_edit.clear()
    type_text(view.search_edit, "Яковлев")
    qtbot.waitUntil(lambda: view.status.text().startswith("Никого"), timeout=5000)
    assert view.hint.text() == ""


def test_latin_layout_is_read_as_cyrillic(qtbot: QtBot, world: World) -> None:
    view = _view(qtbot, world)
    type_text(view.search_edit, "cjrjkjdf")  # «соколова» typed in the EN layout
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=5000)
    assert view.model.index(0, 0).data() == "Соколова Ирина Петровна"


def test_model_fetches_page_by_page_on_demand(qtbot: QtBot, world: World) -> None:
    calls: list[int] = []

    def search(query: SearchQuery, after: tuple[str, int] | None, limit: int) -> list[PatientRow]:
        calls.append(limit)
        return world.registry.search(query, after, limit)

    model = PatientSearchModel(world.runner, search, page_size=2)
    model.set_query(parse_query("и"))
    qtbot.waitUntil(lambda: model.rowCount() == 2 and not model.loading, timeout=5000)
    assert model.canFetchMore()
    model.fetchMore()
    qtbot.waitUntil(lambda: model.rowCount() == 3 and not model.loading, timeout=5000)
    assert not model.canFetchMore()
    assert calls == [2, 2]


def test_visible_table_fills_itself_from_the_next_pages(qtbot: QtBot, world: World) -> None:
    view = _view(qtbot, world, page_size=2)
    type_text(view.search_edit, "и")
    qtbot.waitUntil(lambda: view.model.rowCount() == 3 and not view.model.loading, timeout=5000)
    assert not view.model.canFetchMore()
    assert view.status.text() == "Найдено: 3"


def test_model_passes_qt_model_tester(qtbot: QtBot, qtmodeltester, world: World) -> None:  # type: ignore[no-untyped-def]
    view = _view(qtbot, world, page_size=2)
    type_text(view.search_edit, "и")
    qtbot.waitUntil(lambda: view.model.rowCount() == 3 and not view.model.loading, timeout=5000)
    qtmodeltester.check(view.model)


@pytest.mark.pg
def test_search_over_a_pulled_cable_offers_retry_and_keeps_the_text(
    qtbot: QtBot, fresh_pg_url: str
) -> None:
    direct = create_db_engine(fresh_pg_url)
    actor, dept = base_org(make_session_factory(direct))
    person(make_session_factory(direct), actor, "Соколова", "Ирина", "Петровна", dept_id=dept)
    url = make_url(fresh_pg_url)
    cable = Cable(url.host or "127.0.0.1", url.port or 5432)
    via = create_db_engine(url.set(host="127.0.0.1", port=cable.port))
    log = RetryLog()
    runner = TaskRunner(log)
    try:
        registry = Registry(make_session_factory(via), actor)
        view = RegistryView(runner, registry.search, log)
        qtbot.addWidget(view)
        view.show()
        view.focus_search()
        type_text(view.search_edit, "Соко")
        qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=10_000)
        cable.cut()
        type_text(view.search_edit, "лова")
        qtbot.waitUntil(lambda: bool(log.calls), timeout=15_000)
        exc, retry = log.calls[0]
        assert isinstance(exc, PeerUnavailable)
        assert "нет связи" in str(exc)
        assert view.status.text() == "Поиск не выполнен"
        assert view.search_edit.text() == "Соколова"  # nothing typed is lost
        cable.plug()
        assert callable(retry)
        retry()  # the «Повторить» button
        qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=10_000)
        assert view.model.row_at(0) is not None
        assert view.status.text() == "Найдено: 1"
    finally:
        runner.shutdown(wait=True)
        cable.cut()
        via.dispose()
        direct.dispose()


def _opened(qtbot: QtBot, view: RegistryView, ms: int = 600) -> list[int]:
    got: list[int] = []
    view.sig_open_requested.connect(got.append)
    qtbot.wait(ms)
    return got


def test_enter_under_invalid_text_never_opens_the_previous_results(
    qtbot: QtBot, world: World
) -> None:
    view = _view(qtbot, world)
    type_text(view.search_edit, "соколова")
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=5000)
    opened: list[int] = []
    view.sig_open_requested.connect(opened.append)
    view.search_edit.selectAll()
    type_text(view.search_edit, "1234 5678 9012")  # twelve digits: neither policy nor СНИЛС
    qtbot.keyClick(view.search_edit, Qt.Key.Key_Return)
    assert view.hint.text().startswith("Поиск: ")
    assert view.model.rowCount() == 0  # the old list is gone with the text it belonged to
    qtbot.wait(400)
    assert opened == []


def test_enter_on_bad_text_is_not_remembered_for_a_later_search(qtbot: QtBot, world: World) -> None:
    view = _view(qtbot, world)
    type_text(view.search_edit, "12345")
    qtbot.keyClick(view.search_edit, Qt.Key.Key_Return)
    view.search_edit.clear()
    type_text(view.search_edit, "соколова")
    assert _opened(qtbot, view) == []  # found, shown, but opened only on the registrar's Enter
    assert view.model.rowCount() == 1


def test_down_and_enter_typed_ahead_act_on_the_new_results(qtbot: QtBot, world: World) -> None:
    view = _view(qtbot, world)
    type_text(view.search_edit, "иванов")
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=5000)
    with qtbot.waitSignal(view.sig_open_requested, timeout=5000) as sig:
        type_text(view.search_edit, "а")  # «иванова»: one match, still on its way
        qtbot.keyClick(view.search_edit, Qt.Key.Key_Down)
        focused = QApplication.focusWidget()  # Enter goes wherever ↓ left the focus
        assert focused is not None
        qtbot.keyClick(focused, Qt.Key.Key_Return)
    assert sig.args == [world.people[0].id]  # Иванова Анна, not the first «Иванов»
