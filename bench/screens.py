"""Render every screen of the running app to PNG for review (not a benchmark: no figures).

Starts the real main window on a throw-away demo SQLite database with the demo's virtual
card reader, signs in with the demo doctor's card, works part of today's schedule (visits
finished, one in progress, two paused, a no-show, walk-ins waiting), then drives the
registry the way a registrar would (type a surname, ↓, ↵, Ctrl+Shift+R) and grabs each
screen at the two resolutions the polyclinics have: 1920×1080 all-in-ones and 1366×768.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/screens.py [out_dir]
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

SIZES = ((1920, 1080), (1366, 768))


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/out/screens")
    out.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="arm-screens-")
    os.environ.setdefault("ARM_DATA_DIR", tmp)
    os.environ.setdefault("ARM_USER_CONFIG", str(Path(tmp) / "none.toml"))
    os.environ.setdefault("ARM_SITE_CONFIG", str(Path(tmp) / "none.toml"))
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QWidget
    from sqlalchemy import select

    from arm.cards import start_demo_rig
    from arm.errors import show_error
    from arm.main_window import MainWindow
    from arm.settings import load_settings
    from arm.style import STYLE_SHEET
    from arm.tasks import TaskRunner
    from services.models import FamilyRelation, Patient
    from services.visits import Move

    app = QApplication(sys.argv)
    app.setStyleSheet(STYLE_SHEET)
    runner = TaskRunner(show_error)
    rig = start_demo_rig()
    if rig is None:
        raise SystemExit("the demo card reader did not start (pcscd, vpcd): see the log")
    win = MainWindow(load_settings(demo=True), runner, rig=rig)

    def wait_for(cond: Callable[[], bool], ms: int = 60_000) -> None:
        loop = QEventLoop()
        timer = QTimer()
        timer.timeout.connect(lambda: loop.quit() if cond() else None)
        timer.start(20)
        QTimer.singleShot(ms, loop.quit)
        loop.exec()
        timer.stop()
        if not cond():
            raise SystemExit(f"screen did not reach its state in {ms} ms")

    def pause(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def key(
        widget: QWidget, k: Qt.Key, mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
    ) -> None:
        QTest.keyClick(widget, k, mods)  # through the shortcut map, as a real key press

    def shoot(widget: QWidget, name: str) -> None:
        pause(150)
        path = out / f"{name}.png"
        widget.grab().save(str(path))
        print(path)

    win.show()
    win.activateWindow()  # no window manager on Xvfb to do it; shortcuts need an active window
    wait_for(win.isActiveWindow, 5000)
    win.connect_database()
    wait_for(lambda: win.tray is not None)
    rig.toggle("doctor")
    wait_for(lambda: win.gate.asking_pin and win.gate.pin.isEnabled())
    win.gate.pin.setText("1234")
    key(win.gate.pin, Qt.Key.Key_Return)
    wait_for(lambda: win.schedule is not None and win.schedule.model.snapshot is not None)
    schedule = win.schedule
    assert schedule is not None
    assert win.workspace is not None
    work_the_morning(win.workspace, schedule.model.rows)
    schedule.reload()
    wait_for(lambda: not schedule.model.loading)
    in_progress = next(i for i, r in enumerate(schedule.model.rows) if r.status == "in_progress")
    schedule.table.selectRow(in_progress)
    for w, h in SIZES:
        win.resize(w, h)
        pause(200)
        shoot(win, f"schedule-{w}x{h}")
    schedule.toggle_week()
    wait_for(lambda: not schedule.model.loading and schedule.week_model.rowCount() > 0)
    shoot(win, "schedule-week-1366x768")
    schedule.toggle_week()
    wait_for(lambda: not schedule.model.loading)
    schedule.table.selectRow(in_progress)
    schedule.request(Move.PAUSE)
    wait_for(lambda: schedule.dialog is not None)
    shoot(schedule.dialog, "pause-dialog")
    schedule.dialog.reject()
    shoot_emk(win, schedule.model.rows[in_progress].patient_id, wait_for, key, shoot)
    win.activateWindow()
    wait_for(win.isActiveWindow, 5000)
    key(win, Qt.Key.Key_F2)
    section = win.patients
    assert section is not None
    reg = section.registry_view
    for w, h in SIZES:
        win.resize(w, h)
        section.show_search()
        reg.search_edit.setText("ивано")
        reg.search_now()
        wait_for(lambda: reg.model.rowCount() > 0 and not reg.model.loading)
        shoot(win, f"registry-{w}x{h}")

    key(reg.search_edit, Qt.Key.Key_Down)
    key(reg.table, Qt.Key.Key_Down)
    key(reg.table, Qt.Key.Key_Return)
    card = section.card_view
    wait_for(lambda: card.card is not None)
    # Then a child with parents, so the relations table has something in it.
    ws = win.workspace
    with ws.engine.connect() as conn:
        child = conn.execute(
            select(FamilyRelation.patient_id)
            .join(Patient, Patient.id == FamilyRelation.patient_id)
            .where(FamilyRelation.is_legal_representative, Patient.policy_number.is_not(None))
            .order_by(FamilyRelation.patient_id)
            .limit(1)
        ).scalar_one()
    section.open_patient(child)
    wait_for(lambda: card.card is not None and card.card.id == child)
    wait_for(lambda: card.relations_model.rowCount() > 0)
    for w, h in SIZES:
        win.resize(w, h)
        shoot(win, f"card-{w}x{h}")
    card.form.phone.setText("123")
    card.form.check_field("phone")
    shoot(win, "card-error-1366x768")
    card.revert()

    win.activateWindow()
    wait_for(win.isActiveWindow, 5000)
    key(card, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    dlg = card.relation_dialog
    assert dlg is not None
    dlg.search.setText("Соколов")
    wait_for(lambda: dlg.results_model.rowCount() > 0 and not dlg.results_model.loading)
    shoot(dlg, "relation-dialog")
    dlg.reject()
    shoot_child_access(win, card, wait_for, key, shoot)
    station = win.station
    if station is not None and station.sms is not None:
        station.sms.stop()  # the demo's Kannel
    runner.shutdown(wait=True)
    rig.close()
    return 0


def shoot_emk(win, patient_id, wait_for, key, shoot) -> None:  # type: ignore[no-untyped-def]
    """The record of the patient in the visit under way: documents, a lab trend, the
    protocol being written with the МКБ-10 picker open, the signal-data dialog."""
    from PySide6.QtCore import Qt

    win.activateWindow()
    win.open_emk(patient_id)
    emk = win.emk
    wait_for(lambda: emk.patient_id == patient_id and emk.model.rowCount() > 0)
    emk.tabs.setCurrentIndex(0)
    emk.table.selectRow(0)
    wait_for(lambda: emk.pane.document is not None)
    for w, h in SIZES:
        win.resize(w, h)
        shoot(win, f"emk-{w}x{h}")
    lab = next((i for i, r in enumerate(emk.model.rows) if r.kind == "lab"), 0)
    emk.table.selectRow(lab)
    wait_for(lambda: emk.pane.document is not None and emk.pane.document.kind == "lab")
    shoot(win, "emk-lab-document-1366x768")
    emk.text.setText("бронхит")
    wait_for(lambda: emk.count_label.text().startswith("Найдено"))
    shoot(win, "emk-filtered-1366x768")
    emk.reset_filter()
    emk.tabs.setCurrentWidget(emk.labs)
    wait_for(lambda: emk.labs.tests_model.rowCount() > 0)
    codes = [t.code for t in emk.labs.tests_model.rows]
    emk.labs.tests_table.selectRow(codes.index("GLU") if "GLU" in codes else 0)
    key(emk.labs.tests_table, Qt.Key.Key_Return)
    wait_for(lambda: emk.labs.test is not None)
    for w, h in SIZES:
        win.resize(w, h)
        shoot(win, f"emk-labs-{w}x{h}")
    editor = emk.editor
    emk.focus_protocol()
    editor.template.setCurrentIndex(min(2, editor.template.count() - 1))
    editor.apply_template.click()
    row = editor.rows[0]
    row.picker.edit.setFocus()
    row.picker.edit.setText("бронх")
    wait_for(lambda: row.picker.popup.isVisible())
    shoot(row.picker.popup, "emk-mkb-popup")  # a window of its own: win.grab() misses it
    key(row.picker.edit, Qt.Key.Key_Down)
    key(row.picker.edit, Qt.Key.Key_Return)
    for w, h in SIZES:
        win.resize(w, h)
        shoot(win, f"emk-protocol-{w}x{h}")
    emk.edit_vitals()
    wait_for(lambda: emk.vitals_dialog is not None and emk.vitals_dialog.isVisible())
    shoot(emk.vitals_dialog, "emk-vitals-dialog")
    emk.vitals_dialog.reject()
    shoot_referrals(win, emk, wait_for, key, shoot)


def shoot_referrals(win, emk, wait_for, key, shoot) -> None:  # type: ignore[no-untyped-def]
    """The referral dialog from the protocol, the EMK's list, the booking, the 057/у preview."""
    from services.models import ReferralKind

    rl = emk.referrals
    emk.new_referrals()
    wait_for(lambda: rl.dialog is not None and rl.dialog.isVisible())
    dlg = rl.dialog
    dlg.target.setCurrentIndex(dlg.target.findData("Кардиология"))
    dlg.justification.setPlainText(
        "АД до 170/100 мм рт. ст. на фоне терапии лозартаном 100 мг/сут; ЭКГ: признаки ГЛЖ. "
        "Коррекция терапии."
    )
    dlg.add_referral()
    dlg.kind.setCurrentIndex(dlg.kind.findData(ReferralKind.IMAGING))
    dlg.target.setCurrentIndex(dlg.target.findData("A06.09.005"))
    dlg.cito.setChecked(True)
    dlg.justification.setPlainText("Кашель 3 недели, субфебрилитет; на рентгенограмме тень справа.")
    dlg.add_referral()
    dlg.kind.setCurrentIndex(dlg.kind.findData(ReferralKind.LAB))
    shoot(dlg, "referral-dialog-error-free")
    dlg.sign()
    wait_for(lambda: bool(dlg.errors.text()))
    shoot(dlg, "referral-dialog-refused")
    dlg.remove_current()
    dlg.sign()
    wait_for(lambda: rl.model.rowCount() >= 2)
    emk.show_referrals()
    row = next(i for i, r in enumerate(rl.model.rows) if r.target_specialty == "Кардиология")
    rl.table.selectRow(row)
    rl.book_selected()
    wait_for(lambda: rl.dialog is not None and rl.dialog.model.rowCount() > 0)
    shoot(rl.dialog, "referral-booking")
    rl.dialog.book()
    wait_for(lambda: rl.model.rows[row].status == "booked")
    for w, h in SIZES:
        win.resize(w, h)
        shoot(win, f"emk-referrals-{w}x{h}")
    flow = emk._referral_preview  # the PrintFlow the window gave the EMK
    rl.print_selected()
    wait_for(lambda: flow.dialog is not None and flow.dialog.isVisible())
    flow.dialog.resize(1100, 740)
    shoot(flow.dialog, "referral-057-preview")
    flow.dialog.reject()


def shoot_child_access(win, card, wait_for, key, shoot) -> None:  # type: ignore[no-untyped-def]
    """«Доступ к ЭМК ребенка» from the child's card: the form, a refusal, a code sent and
    delivered by the demo's fake SMSC, the history with a revoked row."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from services.child_access import CodeStatus

    QApplication.processEvents()
    win.activateWindow()
    wait_for(win.isActiveWindow, 5000)
    card.setFocus()
    key(card, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    section = win.patients
    wait_for(lambda: section.child_access_dialog is not None)
    dlg = section.child_access_dialog
    wait_for(lambda: dlg._form is not None)
    dlg.resize(1240, 720)
    shoot(dlg, "child-access-form")
    dlg.relative.setCurrentIndex(1)
    dlg.relative.activated.emit(1)
    dlg.phone.setText("8 495 123-45-67")
    dlg.send()
    wait_for(lambda: dlg.errors["phone"].isVisible())
    shoot(dlg, "child-access-refusal")
    dlg.phone.setText("+7 916 555-12-34")
    dlg.signed.setChecked(True)
    dlg.send()
    wait_for(lambda: len(dlg.history_model.rows) >= 1)
    wait_for(lambda: dlg.history_model.rows[0].status == CodeStatus.DELIVERED, 30_000)
    shoot(dlg, "child-access-delivered")
    # A second relative, then revoke the first: the history keeps both.
    if dlg.relative.count() > 3:
        dlg.relative.setCurrentIndex(2)
        dlg.relative.activated.emit(2)
        dlg.phone.setText("+7 903 555-00-11")
        dlg.signed.setChecked(True)
        dlg.send()
        wait_for(lambda: len(dlg.history_model.rows) >= 2)
    first = dlg.history_model.rows[-1]
    dlg.revoke(first.id)
    wait_for(lambda: dlg.reason_dialog is not None and dlg.reason_dialog.isVisible())
    shoot(dlg.reason_dialog, "child-access-revoke")
    dlg.reason_dialog.reason.setEditText("Заявление родителя (законного представителя)")
    dlg.reason_dialog.buttons.accepted.emit()
    wait_for(lambda: any(r.status == CodeStatus.REVOKED for r in dlg.history_model.rows))
    for w, h in ((1240, 720), (1300, 700)):
        dlg.resize(w, h)
        shoot(dlg, f"child-access-history-{w}x{h}")
    dlg.reject()
    # The same child's EMK: the header's «Доступ к ЭМК ребенка» beside the signal data.
    child = dlg.child_id
    win.open_emk(child)
    emk = win.emk
    QApplication.processEvents()
    box = emk.leave_box  # the visit's protocol is still open: keep it as a draft and go
    if box is not None:
        box.buttons()[0].click()
    wait_for(lambda: emk.patient_id == child and emk.header.child_access_button.isVisible())
    for w, h in ((1920, 1080), (1366, 768)):
        win.resize(w, h)
        shoot(win, f"emk-child-{w}x{h}")


def work_the_morning(ws: object, rows: list) -> None:  # type: ignore[type-arg]
    """Today's first visits of the demo doctor as if the morning had gone by: three seen,
    one no-show, two paused (one due for recheck), one in progress, two walk-ins waiting."""
    import datetime as dt

    from services.clock import now_utc
    from services.models import WalkInPriority
    from services.schedule_desk import ScheduleDesk
    from services.visits import Move, OnCurrent, PauseInput

    desk: ScheduleDesk = ws.schedule  # type: ignore[attr-defined]
    staff: int = ws.staff_id  # type: ignore[attr-defined]
    booked = [r for r in rows if r.appointment_id is not None and r.status is not None]
    now = now_utc()
    step = dt.timedelta(minutes=1)
    t = now - dt.timedelta(minutes=90)
    for r in booked[:3]:
        desk.move(r.appointment_id, Move.ARRIVE, now=t)
        desk.move(r.appointment_id, Move.START, now=t + step)
        desk.move(r.appointment_id, Move.FINISH, now=t + 14 * step)
        t += 16 * step
    desk.move(booked[3].appointment_id, Move.NO_SHOW, now=max(booked[3].starts_at, t))
    desk.move(booked[4].appointment_id, Move.START, now=now - 40 * step)
    desk.move(
        booked[4].appointment_id,
        Move.PAUSE,
        now=now - 31 * step,
        pause=PauseInput("Ожидание действия препарата", 25),
    )
    desk.move(booked[5].appointment_id, Move.START, now=now - 30 * step)
    desk.move(
        booked[5].appointment_id,
        Move.PAUSE,
        now=now - 20 * step,
        pause=PauseInput("Направлен на ЭКГ", 30),
    )
    desk.move(booked[6].appointment_id, Move.ARRIVE, now=now - 19 * step)
    desk.move(booked[6].appointment_id, Move.START, now=now - 6 * step, on_current=OnCurrent.FINISH)
    people = [r.patient_id for r in booked[10:12]]
    desk.add_walk_in(staff, people[0], WalkInPriority.URGENT, "Острая боль в спине")
    desk.add_walk_in(staff, people[1], WalkInPriority.NORMAL, "Справка")


if __name__ == "__main__":
    raise SystemExit(main())
