"""Who is at the keyboard: card in, PIN, work; card out, lock; another card, switch user.

The controller listens to card events (:mod:`arm.cards`), drives the gate screen and tells
the main window to enter, lock, unlock or drop a workspace.  Card I/O runs in the IO lane,
database work in the DB lane; nothing here blocks the GUI thread.

Locking is synchronous and comes first: the work page and every other window are hidden in
the same event-loop turn as the removal event; saving the roaming state and the audit event
follow in the background.
"""

from __future__ import annotations

import fnmatch
import logging
import time
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from arm.errors import user_message
from arm.tasks import Lane, TaskRunner
from services.card.session import CARD_PEER
from services.errors import PeerUnavailable
from widgets.login.gate import GateScreen

if TYPE_CHECKING:
    from arm.cards import CardBridge
    from arm.workspace import Station
    from services.card.pcsc import CardEvent
    from services.signin import CardInfo, SignedIn, StaffCard

__all__ = ["SessionController", "Shell"]

log = logging.getLogger(__name__)

# Reads of a card the reader still reports, before «Вход невозможен» (each retries the
# link for two seconds itself).
_IDENTIFY_ATTEMPTS = 3

_ACTIVITY = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
}


class Shell(Protocol):
    """What the controller asks of the main window."""

    def enter_workspace(self, who: SignedIn, state: dict[str, Any]) -> None: ...
    def lock_now(self) -> None: ...
    def unlock_now(self) -> None: ...
    def drop_workspace(self) -> None: ...
    def snapshot(self) -> dict[str, Any]: ...
    def patient_card_inserted(self, reader: str) -> None: ...


class SessionController(QObject):
    sig_locked = Signal(float)
    """The lock is on screen; the argument is the monotonic time of the removal event."""
    sig_signed_in = Signal()

    def __init__(
        self,
        station: Station,
        runner: TaskRunner,
        gate: GateScreen,
        shell: Shell,
        bridge: CardBridge,
        *,
        idle_lock_minutes: int,
        patient_readers: tuple[str, ...] = (),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.patient_readers = patient_readers
        self.station = station
        self._runner = runner
        self._gate = gate
        self._shell = shell
        self._bridge = bridge
        self.readers: tuple[str, ...] = ()
        self.refused: tuple[str, ...] = ()
        self.present: dict[str, bool] = {}
        self.user: SignedIn | None = None  # signed in, whether the screen is locked or not
        self.locked = False
        self._pending: tuple[CardInfo, StaffCard] | None = None
        self._token = 0  # the newest card read wins; a pulled card's late answer is dropped
        self._service_up = True
        self._readers_known = False  # until the watcher's first report
        self._no_reader_audited = False
        self._stopped = False
        self.idle = QTimer(self)
        self.idle.setSingleShot(True)
        self.idle.timeout.connect(lambda: self.lock("idle"))
        self._idle_ms = max(0, idle_lock_minutes) * 60_000
        gate.sig_pin_entered.connect(self._pin_entered)
        bridge.sig_event.connect(self.on_card_event)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self._show_waiting()

    # --- card events -----------------------------------------------------------------------
    def on_card_event(self, event: CardEvent) -> None:
        from services.card.pcsc import EventKind

        if self._stopped:
            return  # queued before the window closed
        if event.kind is EventKind.READERS:
            self._readers_changed(event.readers, event.refused)
        elif event.kind is EventKind.INSERTED:
            self.present[event.reader] = True
            self._inserted(event.reader)
        elif event.kind is EventKind.REMOVED:
            self.present[event.reader] = False
            self._removed(event.reader, event.at)
        elif event.kind is EventKind.SERVICE_LOST:
            self._service_up = False
            self.readers = ()
            self._audit("session.reader_service_lost", event.detail)
            self._update_readers()
            if self.user is None or self.locked:
                self._show_waiting()

    def _readers_changed(self, readers: tuple[str, ...], refused: tuple[str, ...]) -> None:
        gone = [r for r in self.readers if r not in readers]
        self._service_up = True
        self._readers_known = True
        self.readers, self.refused = readers, refused
        for r in gone:
            self._audit("session.reader_unplugged", r)
        if not readers and not self._no_reader_audited:
            self._no_reader_audited = True
            self._audit("session.no_reader", ", ".join(refused))
        if readers:
            self._no_reader_audited = False
        for r in refused:
            log.warning("card reader %r is not on this workstation's allow-list", r)
        self._update_readers()
        if self.user is None or self.locked:
            if self._pending is None or self._pending[0].reader not in readers:
                self._pending = None
                self._show_waiting()

    def _update_readers(self) -> None:
        if not self._readers_known:
            text = "Поиск считывателей карт…"
        elif not self._service_up:
            text = "Служба смарт-карт (pcscd) недоступна — переподключение…"
        elif not self.readers:
            text = "Считыватель карт не подключён. Подключите считыватель к компьютеру."
        else:
            text = "Считыватель: " + ", ".join(
                f"{r} — {'карта вставлена' if self.present.get(r) else 'готов'}"
                for r in self.readers
            )
        if self.refused:
            text += "\nНе разрешён настройками рабочего места: " + ", ".join(self.refused)
        self._gate.set_readers(text)

    def is_patient_reader(self, reader: str) -> bool:
        return any(fnmatch.fnmatchcase(reader, p) for p in self.patient_readers)

    def _inserted(self, reader: str) -> None:
        self._update_readers()
        if self.is_patient_reader(reader):
            # The patient's card: never a sign-in, and read only for someone at work.
            if self.user is not None and not self.locked:
                self._shell.patient_card_inserted(reader)
            return
        if self.user is not None and not self.locked:
            return  # a second staff card while someone works: not a sign-in
        self._identify(reader)

    def _removed(self, reader: str, at: float) -> None:
        self._update_readers()
        if self.is_patient_reader(reader):
            return
        if self.user is not None and not self.locked and reader == self.user.reader:
            self.lock("card_removed", at=at)
            return
        if self._pending is not None and self._pending[0].reader == reader:
            self._pending = None
            self._token += 1
            self._show_waiting()
        elif self.user is None or self.locked:
            self._token += 1
            self._show_waiting()

    # --- sign-in ---------------------------------------------------------------------------
    def _show_waiting(self) -> None:
        if self.locked and self.user is not None:
            self._gate.show_message(
                "Рабочее место заблокировано",
                f"{self.user.short_name}: вставьте карту и введите PIN-код, чтобы продолжить. "
                "Другой сотрудник может войти своей картой — ваша работа сохранится.",
            )
        elif self._readers_known and not self.readers:
            self._gate.show_message(
                "Вставьте карту сотрудника", error="Считыватель карт не подключён."
            )
        else:
            self._gate.show_message("Вставьте карту сотрудника", "Затем введите PIN-код карты.")
        self._update_readers()

    def _identify(self, reader: str, attempt: int = 1) -> None:
        self._token += 1
        token = self._token
        self._pending = None
        self._gate.show_message("Чтение карты…")

        def done(res: tuple[CardInfo, StaffCard]) -> None:
            if token != self._token:
                return
            self._pending = res
            self._ask_pin()

        def failed(exc: BaseException) -> None:
            if token != self._token:
                return
            if (
                isinstance(exc, PeerUnavailable)
                and exc.peer == CARD_PEER
                and self.present.get(reader)
                and attempt < _IDENTIFY_ATTEMPTS
            ):
                # The link says "pulled" while the reader still reports the card: a card
                # re-seated faster than the reader polls (400 ms with vpcd), or one still
                # powering up.  Read it again rather than make the doctor pull it out.
                def again() -> None:
                    if token == self._token:
                        self._identify(reader, attempt + 1)

                QTimer.singleShot(300, again)
                return
            self._gate.show_message("Вход невозможен", error=user_message(exc))

        self._runner.run(
            lambda _s: self.station.signin.identify(reader),
            lane=Lane.IO,
            on_success=done,
            on_failure=failed,
        )

    def _ask_pin(self, error: str = "") -> None:
        assert self._pending is not None
        info, staff = self._pending
        who = f"{staff.short_name}\n{staff.position}"
        if self.locked and self.user is not None and staff.staff_id != self.user.staff_id:
            headline = "Смена пользователя"
            who += (
                f"\n\nРабота пользователя «{self.user.short_name}» сохранена и вам видна не будет."
            )
        elif self.locked:
            headline = "Разблокировка"
        else:
            headline = "Вход по карте"
        if info.tries_left is not None and info.tries_left < 3 and not error:
            error = f"Осталось попыток ввода PIN-кода: {info.tries_left}."
        self._gate.ask_pin(who, headline, error=error)

    def _pin_entered(self, pin: str) -> None:
        if self._pending is None:
            self._gate.set_busy(False)
            return
        info, staff = self._pending
        if self.user is None:
            purpose = "login"
        elif staff.staff_id == self.user.staff_id:
            purpose = "unlock"
        else:
            purpose = "switch"
        token = self._token

        def work(_s: object) -> tuple[SignedIn, dict[str, Any]]:
            who = self.station.signin.login(info.reader, staff, pin, purpose=purpose)
            state = {} if purpose == "unlock" else self.station.load_state(who.staff_id)
            return who, state

        def done(res: tuple[SignedIn, dict[str, Any]]) -> None:
            if token != self._token:
                return
            who, state = res
            self._pending = None
            self._signed_in(who, state, purpose)

        def failed(exc: BaseException) -> None:
            if token != self._token:
                return
            from services.card.session import WrongPin

            if isinstance(exc, WrongPin):
                self._pending = (
                    type(info)(info.reader, info.serial, info.holder, exc.tries_left),
                    staff,
                )
                self._ask_pin(user_message(exc))
            else:
                self._pending = None
                self._gate.show_message("Вход невозможен", error=user_message(exc))

        self._runner.run(work, lane=Lane.IO, on_success=done, on_failure=failed)

    def _signed_in(self, who: SignedIn, state: dict[str, Any], purpose: str) -> None:
        if purpose == "unlock":
            self.user = who
            self.locked = False
            self._shell.unlock_now()
        else:
            if self.user is not None:
                self._shell.drop_workspace()
            self.user = who
            self.locked = False
            self._shell.enter_workspace(who, state)
        self._restart_idle()
        self.sig_signed_in.emit()

    # --- lock ------------------------------------------------------------------------------
    def lock(self, reason: str, *, at: float | None = None) -> None:
        """Hide everything now; save the workspace and audit after."""
        if self.user is None or self.locked:
            return
        at = time.monotonic() if at is None else at
        self.locked = True
        self.idle.stop()
        self._shell.lock_now()
        self._pending = None
        self._token += 1
        self._show_waiting()
        self.sig_locked.emit(at)
        user = self.user
        state = self._shell.snapshot()
        station = self.station

        def work(_s: object) -> None:
            station.save_state(user.staff_id, state)
            station.signin.record("session.lock", user.staff_id, reason)

        self._runner.run(work)
        # Locked by the idle timer with the card still in: ask the PIN straight away.
        if self.present.get(user.reader):
            self._identify(user.reader)

    def sign_out(self) -> None:
        """At close: save and audit synchronously — the process is about to end."""
        user = self.user
        if user is None:
            return
        state = self._shell.snapshot() if not self.locked else None
        try:
            if state is not None:
                self.station.save_state(user.staff_id, state)
            self.station.signin.record("session.logout", user.staff_id)
        except Exception:
            log.exception("could not save the workspace at sign-out")
        self.user = None

    def stop(self) -> None:
        """The window closes: card events still queued must not start work any more."""
        self._stopped = True
        self.idle.stop()
        self._token += 1
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    # --- idle ------------------------------------------------------------------------------
    def _restart_idle(self) -> None:
        if self._idle_ms and self.user is not None and not self.locked:
            self.idle.start(self._idle_ms)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY and self.idle.isActive():
            self.idle.start(self._idle_ms)
        return False

    def _audit(self, action: str, details: str = "") -> None:
        staff_id = self.user.staff_id if self.user is not None else None
        self._runner.run(lambda _s: self.station.signin.record(action, staff_id, details))
