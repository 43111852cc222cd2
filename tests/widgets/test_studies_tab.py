"""The EMK's «Исследования» tab against a real Orthanc: the patient's studies listed with their
reading status, «Открыть» (Enter) retrieving progressively into a viewer window, a second
opening from the cache, another patient's study never listed, a dead PACS named above the
list while the record's studies stay, and the conclusion shown once signed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from arm.orthanc_local import Orthanc, OrthancMissing, free_port
from arm.tasks import TaskRunner
from dicom.cache import StudyCache
from dicom.config import DicomConfig, PacsConfig, Timeouts
from dicom.library import StudyLibrary
from dicom.patient_match import EmkPatient
from dicom.synthetic import FakePatient, SeriesSpec, StudySpec, write_study
from services.db import make_session_factory
from services.models import Patient, ReadingStatus, Role
from services.studies import dicom_patient_id
from services.study_desk import StudyDesk
from tests.factories import base_org, colleague, person
from tests.widgets.conftest import ErrorLog
from widgets.studies.list_view import StudyList
from widgets.studies.window import StudyWindow
from widgets.studies.windows import StudyWindows


@dataclass
class Pacs:
    orthanc: Orthanc
    config: PacsConfig
    mine: StudySpec
    other: StudySpec


@pytest.fixture(scope="module")
def pacs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pacs]:
    root = tmp_path_factory.mktemp("orthanc-tab")
    try:
        orthanc = Orthanc.start(root / "server")
    except OrthancMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        # The EMK patient's policy number is fixed below, so the PACS can carry it.
        mine = StudySpec(
            FakePatient("7700000000000099", "Иванова^Мария^Петровна", "19850312", "F"),
            [SeriesSpec("CT", 16, 128, 128, "Лёгкие"), SeriesSpec("CT", 8, 128, 128, "Кости")],
            description="КТ органов грудной клетки",
            date="20261120",
        )
        other = StudySpec(
            FakePatient("7700000000000011", "Петров^Олег", "19700101", "M"),
            [SeriesSpec("CT", 4, 64, 64)],
            description="Чужое исследование",
        )
        for spec in (mine, other):
            orthanc.upload(write_study(spec, root / spec.study_uid[-8:]))
        config = PacsConfig(
            "Orthanc", orthanc.aet, "127.0.0.1", orthanc.dicom_port, timeouts=Timeouts(dimse=10)
        )
        yield Pacs(orthanc, config, mine, other)
    finally:
        orthanc.stop()


@dataclass
class Tab:
    view: StudyList
    windows: StudyWindows
    library: StudyLibrary
    sessions: sessionmaker[Session]
    radiologist: StudyDesk
    patient_id: int
    errors: ErrorLog


def _tab(qtbot: QtBot, engine: Engine, tmp_path: Path, pacs_config: PacsConfig) -> Iterator[Tab]:
    sessions = make_session_factory(engine)
    doctor, dept = base_org(sessions)
    radio = colleague(sessions, dept, "Достоевский", Role.RADIOLOGIST)
    card = person(sessions, doctor, "Иванова", "Мария", "Петровна")
    with sessions() as s:
        p = s.get(Patient, card.id)
        assert p is not None
        p.policy_number = "7700000000000099"
        s.commit()
    errors = ErrorLog()
    runner = TaskRunner(errors)
    cache = StudyCache(tmp_path / "cache", 10**9)
    library = StudyLibrary(DicomConfig(ae_title="ARMTEST", pacs=(pacs_config,)), cache)
    windows = StudyWindows(runner, library, errors)
    view = StudyList(runner, StudyDesk(sessions, doctor), windows, errors)
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    yield Tab(view, windows, library, sessions, StudyDesk(sessions, radio), card.id, errors)
    windows.close_all()
    runner.shutdown(wait=True)
    library.close()
    cache.close()


@pytest.fixture
def tab(qtbot: QtBot, sqlite_engine: Engine, tmp_path: Path, pacs: Pacs) -> Iterator[Tab]:
    yield from _tab(qtbot, sqlite_engine, tmp_path, pacs.config)


def _open_patient(t: Tab) -> None:
    t.view.set_patient(
        t.patient_id,
        EmkPatient("Иванова", "Мария", "Петровна", dt.date(1985, 3, 12)),
        dicom_patient_id("7700000000000099", t.patient_id),
    )


def _window(t: Tab) -> StudyWindow:
    (win,) = t.windows.windows.values()
    return win


def test_lists_the_patients_studies_and_opens_them_progressively_then_from_cache(
    qtbot: QtBot, tab: Tab, pacs: Pacs
) -> None:
    _open_patient(tab)
    qtbot.waitUntil(lambda: tab.view.lookup is not None and tab.view.model.rowCount() == 1)
    (line,) = tab.view.model.rows
    assert line.row.study_uid == pacs.mine.study_uid  # never the other patient's study
    assert line.row.status == ReadingStatus.UNREAD
    assert "не описано" in tab.view.model.index(0, 4).data()
    assert "Заключения ещё нет" in tab.view.detail.toPlainText()
    tab.view.table.setFocus()
    qtbot.keyClick(tab.view.table, Qt.Key.Key_Return)
    win = _window(tab)
    with qtbot.waitSignal(win.viewer.sig_first_image_shown, timeout=15_000):
        pass
    qtbot.waitUntil(lambda: not win.loading, timeout=30_000)
    assert "24" in win.status.text()
    assert tab.library.cache.has_study(pacs.mine.study_uid)
    qtbot.waitUntil(lambda: win.viewer.pending == 0, timeout=15_000)
    assert len(win.viewer.state.series) == 2
    with qtbot.waitSignal(win.sig_closed):
        win.close()
    # Closing unpinned it: the cache may evict it now.
    qtbot.waitUntil(lambda: not tab.library.cache.is_pinned(pacs.mine.study_uid))

    # Again: from the cache, no PACS needed.
    tab.library.config = DicomConfig(
        ae_title="ARMTEST", pacs=(PacsConfig("Orthanc", "ORTHANC", "127.0.0.1", free_port()),)
    )
    tab.library.close()
    tab.view.open_selected()
    win = _window(tab)
    with qtbot.waitSignal(win.viewer.sig_first_image_shown, timeout=15_000):
        pass
    assert "кэша" in win.status.text()
    assert not win.loading


def test_signed_conclusion_shows_under_the_list(qtbot: QtBot, tab: Tab, pacs: Pacs) -> None:
    _open_patient(tab)
    qtbot.waitUntil(lambda: tab.view.lookup is not None and tab.view.model.rowCount() == 1)
    row = tab.radiologist.get(pacs.mine.study_uid)
    tab.radiologist.sign(
        row.study_uid, "Лёгкие без очагов.", "Патологии не выявлено.", row.version_id
    )
    qtbot.keyClick(tab.view, Qt.Key.Key_F5)
    qtbot.waitUntil(
        lambda: (
            bool(tab.view.model.rows) and tab.view.model.rows[0].row.status == ReadingStatus.SIGNED
        )
    )
    assert tab.view.model.index(0, 4).data() == "Патологии не выявлено."
    text = tab.view.detail.toPlainText()
    assert "Лёгкие без очагов." in text
    assert "Достоевский" in text


@pytest.fixture
def dead_tab(qtbot: QtBot, sqlite_engine: Engine, tmp_path: Path) -> Iterator[Tab]:
    dead = PacsConfig(
        "ЕРИС", "ERIS", "127.0.0.1", free_port(), timeouts=Timeouts(connect=2, acse=2)
    )
    yield from _tab(qtbot, sqlite_engine, tmp_path, dead)


def test_a_dead_pacs_is_named_and_the_records_studies_stay(
    qtbot: QtBot, dead_tab: Tab, pacs: Pacs
) -> None:
    t = dead_tab
    # The record already knows one study of hers (found earlier, when the PACS was up).
    from services.studies import StudyFacts

    t.radiologist.record(
        [StudyFacts("1.2.826.0.1.5", "7700000000000099", dt.date(2026, 1, 5), ("MR",), "МРТ")]
    )
    _open_patient(t)
    qtbot.waitUntil(lambda: t.view.lookup is not None)
    qtbot.waitUntil(lambda: t.view.model.rowCount() == 1)
    assert t.view.warning.isVisibleTo(t.view)
    assert "ЕРИС" in t.view.warning.text()
    assert t.view.model.rows[0].row.description == "МРТ"
    # Opening it: the PACS is down, so the window says so and offers F5; no crash.
    t.view.open_selected()
    win = _window(t)
    qtbot.waitUntil(lambda: not win.loading and bool(t.errors.errors), timeout=20_000)
    assert win.retry_button.isVisibleTo(win)
    QApplication.processEvents()
