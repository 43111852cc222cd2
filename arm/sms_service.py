"""The SMS dispatcher as a running thing: ``arm sms dispatch``, or inside ARM for the demo.

One :class:`SmsService` owns a dispatcher loop on a thread, the delivery-report listener, and
(in the demo) a private Kannel with its fake SMSC.  The gateway's password comes from the
keyring, or from ``ARM_SMS_PASSWORD`` for a service unit that has no keyring.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from dataclasses import replace
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from arm.kannel_local import LocalKannel
from arm.settings import Settings
from services import secrets, sms
from services.errors import ValidationError
from services.kannel import DlrListener, KannelConfig, KannelGateway

__all__ = ["SmsService", "gateway_config"]

log = logging.getLogger(__name__)


def gateway_config(settings: Settings) -> KannelConfig | None:
    """The configured gateway, or None when no URL is set.

    Raises:
        ValidationError: a URL is set but no password is stored for it.
    """
    url = settings.sms_gateway_url
    if not url:
        return None
    password = os.environ.get("ARM_SMS_PASSWORD") or secrets.sms_password(
        url, settings.sms_username
    )
    if password is None:
        raise ValidationError(
            "Шлюз SMS",
            f"нет пароля для {settings.sms_username}@{url} — сохраните его командой "
            "«arm sms set-password»",
        )
    return KannelConfig(
        url=url, username=settings.sms_username, password=password, sender=settings.sms_sender
    )


def _listen(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError:
        raise ValidationError(
            "Настройка sms.dlr_listen", f"нужно «адрес:порт», а не {addr!r}"
        ) from None


class SmsService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: KannelConfig | None,
        *,
        dlr_listen: str = "127.0.0.1:0",
        local_kannel: LocalKannel | None = None,
        backoff: sms.Backoff | None = None,
        poll: float = 1.0,
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._dlr_addr = _listen(dlr_listen)
        self.kannel = local_kannel
        self._backoff = backoff
        self._poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listener: DlrListener | None = None

    @classmethod
    def for_demo(cls, sessions: sessionmaker[Session], data_dir: Path) -> SmsService:
        """A private Kannel with the fake SMSC: codes "reach the phone" in its log."""
        kannel = LocalKannel(data_dir / "kannel")
        config = KannelConfig(
            url=kannel.sendsms_url, username=kannel.username, password=kannel.password
        )
        return cls(
            sessions,
            config,
            local_kannel=kannel,
            backoff=sms.Backoff(first=dt.timedelta(seconds=2), cap=dt.timedelta(seconds=30)),
        )

    def _on_report(self, message_id: int, dlr_type: int) -> None:
        sms.report(self._sessions, message_id, dlr_type)

    def start(self) -> SmsService:
        """Start on a thread: Kannel (demo), the report listener, the dispatcher loop."""
        self._thread = threading.Thread(target=self._main, name="sms-dispatch", daemon=True)
        self._thread.start()
        return self

    def _main(self) -> None:
        if self.kannel is not None:
            try:
                self.kannel.start()
            except Exception:
                log.exception("demo SMS gateway not started; codes stay in the outbox")
        if self._config is None:
            log.warning("no SMS gateway configured: messages stay in the outbox")
            return
        self.listener = DlrListener(self._on_report, *self._dlr_addr).start()
        gateway = KannelGateway(replace(self._config, dlr_url=self.listener.url))
        dispatcher = sms.Dispatcher(self._sessions, gateway, backoff=self._backoff)
        log.info("sms dispatch: %s, reports on %s", self._config.url, self.listener.url)
        dispatcher.run_forever(self._stop, self._poll)

    def run(self) -> None:
        """In the foreground until interrupted (the service unit's way)."""
        try:
            self._main()
        finally:
            self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
        if self.kannel is not None:
            self.kannel.stop()
