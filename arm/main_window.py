"""The main window shell: the gate (sign-in, lock) or the work — navigation and a section.

Sections appear as their issues land and as the signed-in role may use them: «Расписание»
(F1; a doctor's start screen), «Пациенты» (F2; the registrar's), «ЭМК» (Ctrl+E; for those who
may read the record); there are no placeholder screens.  A doctor opening a patient from the
schedule gets the EMK; starting a visit opens its protocol.  The window paints at once; the database is opened in the background;
then the gate waits for a staff card.  The work page exists only while someone is signed in,
and is *hidden* (not covered) while the screen is locked.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from arm import __version__
from arm.errors import user_message
from arm.settings import Settings
from arm.tasks import TaskRunner
from widgets.login.gate import GateScreen

if TYPE_CHECKING:
    from arm.cards import CardBridge
    from arm.patients_section import PatientsSection
    from arm.session import SessionController
    from arm.workspace import Station, Workspace
    from services.card.rig import CardRig
    from services.signin import SignedIn
    from widgets.emk.view import EmkView
    from widgets.login.card_tray import CardTray
    from widgets.schedule.view import ScheduleView
    from widgets.studies.windows import StudyWindows
    from widgets.worklist.view import WorklistView

__all__ = ["MainWindow"]


class MainWindow(QMainWindow):
    sig_ready = Signal()
    """The database is open and the gate waits for a card."""

    def __init__(
        self,
        settings: Settings,
        runner: TaskRunner,
        *,
        bridge: CardBridge | None = None,
        rig: CardRig | None = None,
    ) -> None:
        super().__init__()
        self._settings = settings
        self._runner = runner
        self._bridge = bridge
        self.rig = rig
        self.station: Station | None = None
        self.session: SessionController | None = None
        self.workspace: Workspace | None = None
        self.patients: PatientsSection | None = None
        self.schedule: ScheduleView | None = None
        self.emk: EmkView | None = None
        self.worklist: WorklistView | None = None
        self.study_windows: StudyWindows | None = None
        self._worklist_key: QShortcut | None = None
        self._emk_title_text = "ЭМК"
        self._sections: list[tuple[str, QWidget]] = []  # (key, widget) in nav order
        self._patients_title_text = "Пациенты"
        self.tray: CardTray | None = None
        self._section_title = ""
        self._hidden_windows: list[QWidget] = []

        self.gate = GateScreen()
        self.work = QWidget()
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(160)
        self.stack = QStackedWidget()
        layout = QHBoxLayout(self.work)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.gate)
        self.pages.addWidget(self.work)
        self.setCentralWidget(self.pages)
        self.status_db = QLabel()
        self.status_busy = QLabel()
        self.status_user = QLabel()
        self.statusBar().addWidget(self.status_user)
        self.statusBar().addPermanentWidget(self.status_busy)
        self.statusBar().addPermanentWidget(self.status_db)
        self.resize(1366, 768)
        self._update_title()

        from widgets.scanner import WedgeScanner

        self.scanner = WedgeScanner(self, parent=self)
        self.scanner.sig_scanned.connect(self.scanned)
        self.scan_box: QMessageBox | None = None
        self.mismatch_dialog: QDialog | None = None
        self.gate.sig_retry.connect(self.connect_database)
        self._runner.sig_busy_changed.connect(
            lambda b: self.status_busy.setText("⏳ работа…" if b else "")
        )
        self.nav.currentRowChanged.connect(self._on_section_changed)
        QShortcut(QKeySequence("F1"), self, lambda: self.go_to("schedule"))
        QShortcut(QKeySequence("F2"), self, lambda: self.go_to("patients"))
        QShortcut(QKeySequence("Ctrl+E"), self, self.open_emk_current)
        QShortcut(QKeySequence("Ctrl+L"), self, self.lock_by_user)

    # --- start-up --------------------------------------------------------------------------
    def connect_database(self) -> None:
        self.gate.show_message("Подключение к базе данных…")

        def work(state: object) -> Station:
            # Imported here, in the DB lane: SQLAlchemy and the services load while the
            # window is already painted (start-up budget, bench/startup.py).
            from arm.workspace import open_station

            return open_station(self._settings, state)  # type: ignore[arg-type]

        self._runner.run(
            work,
            on_success=self.attach_station,
            on_failure=self._startup_failed,
            on_progress=lambda _d, _t, text: self.gate.show_message(text) if text else None,
        )

    def _startup_failed(self, exc: BaseException) -> None:
        self.gate.show_message(
            "Не удалось открыть базу данных.", error=user_message(exc), retry=True
        )

    def attach_station(self, station: Station) -> None:
        from arm.cards import CardBridge
        from arm.session import SessionController

        self.station = station
        self.status_db.setText(f"АРМ {station.workstation_code}   ·   {station.database}")
        if self._bridge is None:
            self._bridge = CardBridge(
                self._settings.card_readers,
                allow_virtual=self._settings.accepts_virtual_reader,
                parent=self,
            )
        self.session = SessionController(
            station,
            self._runner,
            self.gate,
            self,
            self._bridge,
            idle_lock_minutes=self._settings.idle_lock_minutes,
            patient_readers=self._settings.effective_patient_readers,
            parent=self,
        )
        self._bridge.start()
        if self.rig is not None and station.demo_cards:
            self._show_tray(station)
        self.sig_ready.emit()

    def _show_tray(self, station: Station) -> None:
        from services.demo_cards import DEMO_CARDS, DEMO_PIN
        from widgets.login.card_tray import CardTray

        rig = self.rig
        assert rig is not None
        # Staff cards share the first slot (one goes in as the other comes out, as at a real
        # desk); the second slot is the patient reader, with a demo patient's OMS policy.
        slots = {k: (p, 0) for k, p in station.demo_cards.items()}
        rig.add_cards(slots)
        labels = {k: (DEMO_CARDS[k][0], slot) for k, (_p, slot) in slots.items()}
        if station.demo_patient is not None:
            from services.card.oms_applet import OmsApplet

            rig.add_applet("patient", OmsApplet(station.demo_patient), 1)
            labels["patient"] = ("Полис ОМС пациента (считыватель 2)", 1)
        self.tray = CardTray(
            labels,
            rig.toggle,
            DEMO_PIN,
            parent=self,
        )
        geo = self.geometry()
        self.tray.move(geo.right() - 260, geo.top() + 60)
        self.tray.show()

    # --- the signed-in workspace (SessionController's Shell) ------------------------------
    def enter_workspace(self, who: SignedIn, state: dict[str, Any]) -> None:
        from arm.errors import show_error
        from arm.patients_section import PatientsSection
        from services.access import Permission, can
        from services.models import Role
        from widgets.schedule.view import ScheduleView

        assert self.station is not None
        ws = self.station.workspace_for(who)
        self.workspace = ws
        actor = ws.registry.actor
        if can(actor, Permission.SCHEDULE):
            self.schedule = ScheduleView(
                self._runner,
                ws.schedule,
                ws.registry.search,
                show_error,
                own_staff_id=ws.staff_id,
                can_treat=Role.DOCTOR in ws.roles and can(actor, Permission.RECORD_WRITE),
            )
            self.schedule.sig_open_patient.connect(self.open_patient)
            self.schedule.sig_visit_started.connect(lambda pid: self.open_emk(pid, tab="protocol"))
            self.schedule.sig_notify.connect(self._notify)
            self._add_section("schedule", "Расписание  F1", self.schedule)
        self.patients = PatientsSection(self._runner, ws, page_size=self._settings.search_page_size)
        self.patients.sig_title_changed.connect(self._patients_title)
        self._add_section("patients", "Пациенты  F2", self.patients)
        self.study_windows = None
        if can(actor, Permission.STUDIES) and self.station.studies is not None:
            from widgets.studies.windows import StudyWindows

            self.study_windows = StudyWindows(
                self._runner, self.station.studies.library, show_error
            )
        if can(actor, Permission.CONCLUSION_WRITE) and self.study_windows is not None:
            self._add_worklist(ws, self.study_windows)
        if can(actor, Permission.RECORD_READ):
            from services.local_drafts import LocalDrafts
            from services.mkb10 import catalog
            from widgets.emk.view import EmkView
            from widgets.print_flow import PrintFlow

            mkb = catalog()
            self.emk = EmkView(
                self._runner,
                ws.emk,
                LocalDrafts(self._settings.data_dir / "drafts"),
                show_error,
                mkb.search,
                mkb.lookup,
                can_write=can(actor, Permission.RECORD_WRITE),
                referral_desk=ws.referrals,
                # One print flow: every desk's archive is the same printouts archive.
                preview=PrintFlow(self._runner, ws.referrals.archive, show_error),
                prescription_desk=ws.prescriptions,
                sick_leave_desk=ws.sick_leave,
                vk_chairs=ws.schedule.doctors if can(actor, Permission.SCHEDULE) else None,
                print_offset_mm=self._settings.print_offset,
                open_child_access=(
                    self.patients.open_child_access if can(actor, Permission.CHILD_ACCESS) else None
                ),
                study_desk=ws.studies if self.study_windows is not None else None,
                study_windows=self.study_windows,
            )
            self.emk.sig_title_changed.connect(self._emk_title)
            self._add_section("emk", "ЭМК  Ctrl+E", self.emk)
        # Start screen by role: a doctor's day begins with the schedule, a registrar's with
        # the registry, a radiologist's with the worklist.
        start = "schedule" if Role.DOCTOR in ws.roles and self.schedule is not None else "patients"
        if self.worklist is not None and Role.DOCTOR not in ws.roles:
            start = "worklist"
        section = state.get("section")
        if isinstance(section, str) and any(k == section for k, _w in self._sections):
            start = section
        self.pages.setCurrentWidget(self.work)
        self.status_user.setText(f"{ws.staff_name}, {ws.staff_position.lower()}")
        schedule_state = state.get("schedule")
        if self.schedule is not None and isinstance(schedule_state, dict):
            self.schedule.restore(schedule_state)
        patients_state = state.get("patients")
        if isinstance(patients_state, dict):
            self.patients.restore(patients_state)
        emk_state = state.get("emk")
        restored = False
        if self.emk is not None and isinstance(emk_state, dict):
            pid = emk_state.get("patient_id")
            if isinstance(pid, int):
                tab = emk_state.get("tab")
                self.emk.open_patient(pid, tab=tab if isinstance(tab, str) else "")
                restored = True
        self.go_to(start, fresh=False)
        if self.emk is not None and self.emk.editor is not None and not restored:
            self._bring_back_drafts()

    def _add_worklist(self, ws: Workspace, windows: StudyWindows) -> None:
        """The radiologist's worklist; F5 there asks every PACS for the period's studies."""
        from arm.errors import show_error
        from services.errors import PeerUnavailable
        from services.studies import StudyFacts, StudyRow
        from widgets.studies.list_view import study_facts
        from widgets.worklist.view import WorklistView

        library = windows.library
        desk = ws.studies

        def sync(start: dt.date, end: dt.date) -> list[StudyFacts]:  # IO lane
            """The period's studies from every PACS; the view records them in the DB lane."""
            lookup = library.studies_between(start, end)
            if lookup.failures and not lookup.studies:
                name, exc = lookup.failures[0]
                raise PeerUnavailable(name, str(exc))
            return study_facts(lookup.studies)

        def open_images(row: StudyRow) -> None:
            windows.open_row(row, size_from=self)

        self.worklist = WorklistView(
            self._runner,
            desk,
            sync=sync,
            open_images=open_images,
            show_error=show_error,
        )
        if self.schedule is None:
            # F3 is «пришёл» on the schedule; only a radiologist without one gets it here.
            self._worklist_key = QShortcut(QKeySequence("F3"), self, lambda: self.go_to("worklist"))
            self._add_section("worklist", "Рабочий список  F3", self.worklist)
        else:
            self._add_section("worklist", "Рабочий список", self.worklist)

    def _add_section(self, key: str, title: str, widget: QWidget) -> None:
        self._sections.append((key, widget))
        self.stack.addWidget(widget)
        self.nav.addItem(title)

    def _on_section_changed(self, row: int) -> None:
        self.stack.setCurrentIndex(row)
        if 0 <= row < len(self._sections):
            key = self._sections[row][0]
            if key == "schedule":
                self._set_section_title("Расписание")
            elif key == "patients":
                self._set_section_title(self._patients_title_text)
            elif key == "emk":
                self._set_section_title(self._emk_title_text)
            elif key == "worklist":
                self._set_section_title("Рабочий список рентгенолога")

    def _patients_title(self, text: str) -> None:
        self._patients_title_text = text
        if self.stack.currentWidget() is self.patients:
            self._set_section_title(text)

    def _emk_title(self, text: str) -> None:
        self._emk_title_text = text
        if self.emk is not None and self.stack.currentWidget() is self.emk:
            self._set_section_title(text)

    def open_patient(self, patient_id: int) -> None:
        """A patient chosen on the schedule: the record for whoever may read it, else the
        registry card."""
        if self.emk is not None:
            self.open_emk(patient_id)
            return
        self.open_card(patient_id)

    def open_card(self, patient_id: int) -> None:
        if self.patients is None:
            return
        self.go_to("patients")
        self.patients.open_patient(patient_id)

    def open_emk(self, patient_id: int, *, tab: str = "") -> None:
        if self.emk is None:
            return
        self.go_to("emk")
        self.emk.open_patient(patient_id, tab=tab)

    def open_emk_current(self) -> None:
        """Ctrl+E: the record of the patient in front of the user — the card open in
        «Пациенты», the visit selected in the schedule — or the record section as it was."""
        if self.emk is None or self.locked:
            return
        current = self.stack.currentWidget()
        pid: int | None = None
        if current is self.patients and self.patients is not None:
            card = self.patients.card_view.card
            if self.patients.currentWidget() is self.patients.card_view and card is not None:
                pid = card.id
        elif current is self.schedule and self.schedule is not None:
            row = self.schedule.current_row()
            pid = row.patient_id if row is not None else None
        if pid is not None:
            self.open_emk(pid)
        else:
            self.go_to("emk")

    def scanned(self, payload: str) -> None:
        """A barcode scanner read a policy: open that patient where the user is — the EMK
        in the EMK, the doctor's choice from the schedule, the registry card elsewhere."""
        from services.patient_search import SearchQuery
        from services.scan import policy_from_scan

        ws = self.workspace
        if ws is None or self.locked:
            return  # a locked screen opens nobody, whatever is scanned at it
        policy = policy_from_scan(payload)
        if policy is None:
            self.statusBar().showMessage(
                "Отсканирован код без номера полиса ОМС (16 цифр с верной контрольной цифрой)",
                10_000,
            )
            return
        where = self.stack.currentWidget()
        registry = ws.registry

        def found(rows: list[Any]) -> None:
            if self.workspace is not ws or self.locked:
                return
            if not rows:
                self._offer_registration(policy)
                return
            self._open_identified(rows[0].id, where)

        self._runner.run(lambda _s: registry.search(SearchQuery(policy=policy), limit=1),
                         on_success=found)  # fmt: skip

    def _open_identified(self, pid: int, where: QWidget | None) -> None:
        """A patient identified by a card or a scan opens where the user was working."""
        if where is self.emk and self.emk is not None:
            self.open_emk(pid)
        elif where is self.schedule:
            self.open_patient(pid)
        else:
            self.open_card(pid)

    def patient_card_inserted(self, reader: str) -> None:
        """The patient's OMS card in the patient reader: read it (off the GUI thread), find
        the patient, settle any difference with the record, open them."""
        ws = self.workspace
        if ws is None or self.locked:
            return
        where = self.stack.currentWidget()
        registry = ws.registry
        self.statusBar().showMessage("Чтение полиса ОМС…", 5_000)

        def work(_s: object) -> Any:
            from arm.workspace import pcsc_opener
            from services.card.oms import read_holder

            transmit, close = pcsc_opener(reader)
            try:
                holder = read_holder(transmit)
            finally:
                close()
            return registry.identify_card(holder)

        def identified(match: Any) -> None:
            if self.workspace is not ws or self.locked:
                return
            self.statusBar().clearMessage()
            if match.card is None:
                from services.patient_cards import input_from_card

                self._offer_registration(match.holder.policy, input_from_card(match.holder))
            elif match.differences:
                self._settle_differences(match, where)
            else:
                self._open_identified(match.card.id, where)

        self._runner.run(work, on_success=identified)

    def _settle_differences(self, match: Any, where: QWidget | None) -> None:
        from arm.errors import show_error
        from services.patient_cards import updated_input
        from widgets.patient_card.mismatch_dialog import MismatchDialog

        ws = self.workspace
        assert ws is not None
        assert match.card is not None
        dlg = MismatchDialog(match, parent=self)
        self.mismatch_dialog = dlg
        card = match.card
        registry = ws.registry

        def decided(result: int) -> None:
            self.mismatch_dialog = None
            dlg.deleteLater()
            keys = dlg.chosen()
            if result != QDialog.DialogCode.Accepted or not keys:
                self._open_identified(card.id, where)
                return
            data = updated_input(card, match.holder, keys)

            def failed(exc: BaseException) -> None:
                show_error(self, exc, None)  # the record is as it was; the patient stays closed

            def saved(_new: Any) -> None:
                self.statusBar().showMessage("Карта пациента обновлена по полису ОМС", 10_000)
                self._open_identified(card.id, where)

            self._runner.run(
                lambda _s: registry.update(card.id, card.version_id, data),
                on_success=saved,
                on_failure=failed,
            )

        dlg.finished.connect(decided)
        dlg.open()

    def _offer_registration(self, policy: str, data: Any = None) -> None:
        from services.access import Permission, can
        from widgets.formatting import fmt_policy

        ws = self.workspace
        if ws is None or self.patients is None:
            return
        text = f"Пациента с полисом ОМС {fmt_policy(policy)} нет в картотеке."
        if not can(ws.registry.actor, Permission.REGISTRY_WRITE):
            self.statusBar().showMessage(text, 10_000)
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Полис не найден", text, parent=self)
        box.setInformativeText("Зарегистрировать нового пациента с этим полисом?")
        register = box.addButton("Зарегистрировать…", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Отмена", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(register)

        def decided() -> None:
            self.scan_box = None
            box.deleteLater()
            if box.clickedButton() is register and self.patients is not None:
                self.go_to("patients")
                self.patients.register_patient(policy=policy, data=data)

        box.finished.connect(decided)
        self.scan_box = box
        box.open()

    def _bring_back_drafts(self) -> None:
        """After a crash or a killed session, the doctor's unsigned protocols come back: the
        newest is opened, the others named in the status bar."""
        emk = self.emk
        if emk is None or self.workspace is None:
            return
        desk = self.workspace.emk
        local = {d.patient_id for d in emk.drafts.of_staff(self.workspace.staff_id)}

        def got(drafts: list[Any]) -> None:
            if self.emk is not emk or self.locked:
                return
            pids = [d.patient_id for d in drafts]
            pids += sorted(local - set(pids))
            if not pids or emk.patient_id is not None:
                return
            names = [d.patient_name for d in drafts]
            self.open_emk(pids[0], tab="protocol")
            if len(pids) > 1:
                others = ", ".join(names[1:4]) or f"ещё {len(pids) - 1}"
                self.statusBar().showMessage(f"Неподписанные протоколы: {others}", 60_000)

        self._runner.run(lambda _s: desk.drafts(), on_success=got, on_failure=lambda _e: None)

    def _notify(self, public: str, private: str) -> None:
        """A reminder from the schedule: named in full only on an unlocked screen."""
        self.statusBar().showMessage(public if self.locked else private, 60_000)
        QApplication.alert(self)

    def lock_now(self) -> None:
        """Hide the work and every other window that may show a patient, in this turn."""
        self.pages.setCurrentWidget(self.gate)
        self.work.setVisible(False)
        for w in QApplication.topLevelWidgets():
            if w is self or not w.isVisible() or w.property("armNoPatientData"):
                continue
            w.hide()
            self._hidden_windows.append(w)
        self.status_user.setText("Заблокировано")
        self.statusBar().clearMessage()  # a reminder may name a patient
        self._update_title()

    def unlock_now(self) -> None:
        assert self.workspace is not None
        self.pages.setCurrentWidget(self.work)
        for w in self._hidden_windows:
            w.show()
        self._hidden_windows.clear()
        self.status_user.setText(
            f"{self.workspace.staff_name}, {self.workspace.staff_position.lower()}"
        )
        self._update_title()

    def drop_workspace(self) -> None:
        """Another person signs in: the previous one's screens go (their state was saved at
        the lock), so nothing of theirs is left to be shown."""
        for w in self._hidden_windows:
            w.close()
            w.deleteLater()
        self._hidden_windows.clear()
        for _key, widget in self._sections:
            self.stack.removeWidget(widget)
            widget.deleteLater()
        self._sections.clear()
        self.patients = None
        self.schedule = None
        self.emk = None
        self.worklist = None
        if self._worklist_key is not None:
            self._worklist_key.setParent(None)
            self._worklist_key.deleteLater()
            self._worklist_key = None
        if self.study_windows is not None:
            self.study_windows.close_all()
            self.study_windows = None
        self._emk_title_text = "ЭМК"
        self.nav.clear()
        self.statusBar().clearMessage()
        self.workspace = None
        self._section_title = ""
        self._update_title()

    def snapshot(self) -> dict[str, Any]:
        if self.patients is None:
            return {}
        row = self.nav.currentRow()
        out: dict[str, Any] = {
            "section": self._sections[row][0] if 0 <= row < len(self._sections) else "patients",
            "patients": self.patients.snapshot(),
        }
        if self.schedule is not None:
            out["schedule"] = self.schedule.snapshot()
        if self.emk is not None:
            out["emk"] = self.emk.snapshot()
        return out

    def lock_by_user(self) -> None:
        if self.session is not None:
            self.session.lock("by_user")

    @property
    def locked(self) -> bool:
        return self.pages.currentWidget() is self.gate

    def go_to(self, key: str, *, fresh: bool = True) -> None:
        """Show a section by key: F1 the schedule, F2 the patients (``fresh``: the search,
        not the card left open — a card with edits stays behind it, as before)."""
        if self.locked:
            return
        row = next((i for i, (k, _w) in enumerate(self._sections) if k == key), -1)
        if row < 0:
            return
        self.nav.setCurrentRow(row)
        if key == "patients" and self.patients is not None:
            if fresh:
                self.patients.show_search()
            if self.patients.currentWidget() is self.patients.registry_view:
                self.patients.registry_view.focus_search()
        elif key == "schedule" and self.schedule is not None:
            self.schedule.focus_day()
        elif key == "emk" and self.emk is not None:
            self.emk.setFocus()

    # --- title -----------------------------------------------------------------------------
    def _set_section_title(self, text: str) -> None:
        self._section_title = text
        self._update_title()

    def _update_title(self) -> None:
        parts = ["ARM " + __version__]
        ws = self.workspace
        if ws is None or self.locked:
            # The title bar is visible in the task bar: a locked screen names no patient.
            parts.append("заблокировано" if ws is not None else "вход по карте")
        else:
            if self._section_title:
                parts.append(self._section_title)
            parts.append(f"{ws.staff_name}, {ws.staff_position.lower()}")
        self.setWindowTitle(" — ".join(parts))

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing with unsaved edits asks first; after «Сохранить» the window closes once
        the save has succeeded, after «Остаться» it stays.  Then the workspace is saved and
        the sign-out audited."""
        patients = self.patients
        if (
            not self.locked
            and patients is not None
            and (patients.card_view.dirty or patients.card_view.saving)
        ):
            event.ignore()
            patients.setCurrentWidget(patients.card_view)

            def close_now() -> None:
                self.close()

            patients.card_view.leave(close_now)
            return
        if self.emk is not None and self.emk.editor is not None:
            self.emk.editor.persist()  # the draft is kept; nothing to ask
        if self.session is not None:
            self.session.sign_out()
            self.session.stop()
        if self._bridge is not None:
            self._bridge.stop()
        self.scanner.stop()
        if self.tray is not None:
            self.tray.close()
        if self.study_windows is not None:
            self.study_windows.close_all()
        if self.station is not None and self.station.sms is not None:
            self.station.sms.stop()
        if self.station is not None and self.station.studies is not None:
            self.station.studies.stop()
        event.accept()
