"""The SMS outbox and its dispatcher: a message is never lost and never sent twice.

A use case that sends an SMS only *enqueues* it, in its own transaction (:func:`enqueue`):
if the transaction rolls back, no message exists; if it commits, the message will go out
even if the gateway is down for hours.  The dispatcher (``arm sms dispatch``) delivers:

1. it *claims* due messages in a short transaction of its own (``pending → sending``,
   attempts + 1) — on PostgreSQL with ``SKIP LOCKED``, so two dispatchers never take the
   same row;
2. it calls the gateway outside any transaction;
3. it records the outcome: accepted → ``sent`` (and the body, which may hold a code, is
   blanked); refused or unreachable → back to ``pending`` with a growing delay.

The one window that cannot be closed is a dispatcher dying between 2 and 3, or the gateway
not answering after it got the request: the message may or may not have gone.  Such a
message becomes ``uncertain`` and is **not** resent — sending a code twice is the worse
error, and the registrar sees «не доставлен — отправьте код повторно».  A delivery report
that arrives later still marks it delivered.

Delivery reports (DLR) come back from the gateway to :func:`record_report`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol, TypeVar

from sqlalchemy import Update, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from services.clock import now_utc
from services.models import SmsMessage, SmsStatus

__all__ = [
    "Backoff",
    "DispatchReport",
    "Dispatcher",
    "Gateway",
    "SendOutcome",
    "enqueue",
    "record_report",
    "report",
    "retrying",
    "supersede",
]

log = logging.getLogger(__name__)

_BLANK = "—"  # what a sent message's body becomes: the code must not outlive its sending


@dataclass(frozen=True)
class SendOutcome:
    """What the gateway said about one message."""

    accepted: bool
    reply: str  # the gateway's words, for the log and the outbox row
    ambiguous: bool = False  # the request may have been taken: never resend

    @classmethod
    def refused(cls, reply: str) -> SendOutcome:
        return cls(accepted=False, reply=reply)


class Gateway(Protocol):
    """An SMS gateway: Kannel in ARM (:mod:`services.kannel`)."""

    name: str

    def send(self, message_id: int, phone: str, text: str) -> SendOutcome: ...


def enqueue(
    session: Session,
    phone: str,
    body: str,
    *,
    purpose: str = "",
    expires_at: dt.datetime | None = None,
) -> SmsMessage:
    """Add a message to the caller's transaction (flushed for its id, not committed)."""
    msg = SmsMessage(
        phone=phone,
        body=body,
        purpose=purpose,
        status=SmsStatus.PENDING,
        attempts=0,
        next_attempt_at=now_utc(),
        expires_at=expires_at,
        last_error="",
        gateway_reply="",
    )
    session.add(msg)
    session.flush()
    return msg


def supersede(session: Session, message_id: int) -> None:
    """A newer message replaces this one (a re-sent code): if it has not gone yet, it never
    will.  One it is already on the wire is left to finish — the old code in it is dead."""
    session.execute(
        update(SmsMessage)
        .where(SmsMessage.id == message_id, SmsMessage.status == SmsStatus.PENDING)
        .values(status=SmsStatus.CANCELLED, body=_BLANK)
    )


# Kannel's DLR types (``%d`` in dlr-url): 1 delivered, 2 undeliverable, 4 queued on the SMSC,
# 8 accepted by the SMSC, 16 rejected by the SMSC.
DLR_DELIVERED = 1
DLR_FAILED = 2
DLR_SMSC_REJECT = 16


T = TypeVar("T")


def retrying(sessions: sessionmaker[Session], fn: Callable[[Session], T], tries: int = 5) -> T:
    """Run ``fn`` in a fresh session, again if the database was busy.

    On SQLite (the embedded default) the dispatcher and the delivery-report thread write the
    same rows: a transaction that read before the other committed cannot upgrade to a write
    and fails at once with «database is locked» — the busy timeout does not cover that case.
    Losing the write here would leave a sent message looking unsent, so it is retried.
    """
    for attempt in range(tries):
        try:
            with sessions() as session:
                return fn(session)
        except OperationalError:
            if attempt == tries - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def report(sessions: sessionmaker[Session], message_id: int, dlr_type: int) -> bool:
    """What the delivery-report listener calls (see :func:`record_report`)."""
    return retrying(sessions, lambda s: record_report(s, message_id, dlr_type))


def record_report(session: Session, message_id: int, dlr_type: int) -> bool:
    """Record a delivery report; True when it changed the message.

    Only forward moves: a late «accepted by the SMSC» never undoes «delivered».  A report
    for an ``uncertain`` message settles it — it did go out.
    """
    msg = session.get(SmsMessage, message_id, with_for_update=True)
    if msg is None:
        return False
    now = now_utc()
    changed = False
    if dlr_type & DLR_DELIVERED and msg.status != SmsStatus.DELIVERED:
        msg.status = SmsStatus.DELIVERED
        msg.delivered_at = now
        changed = True
    elif dlr_type & (DLR_FAILED | DLR_SMSC_REJECT) and msg.status in (
        SmsStatus.SENT,
        SmsStatus.UNCERTAIN,
        SmsStatus.SENDING,
    ):
        msg.status = SmsStatus.FAILED
        msg.last_error = f"отчёт оператора: не доставлено (DLR {dlr_type})"
        changed = True
    elif msg.status in (SmsStatus.UNCERTAIN, SmsStatus.SENDING):
        msg.status = SmsStatus.SENT  # any report proves the gateway took it
        msg.sent_at = msg.sent_at or now
        changed = True
    if changed:
        msg.body = _BLANK
        log.info("sms %s: report %s → %s", message_id, dlr_type, msg.status.value)
    session.commit()
    return changed


@dataclass(frozen=True)
class Backoff:
    """Delay before the n-th retry: ``first`` doubled each time, at most ``cap``."""

    first: dt.timedelta = dt.timedelta(seconds=10)
    cap: dt.timedelta = dt.timedelta(minutes=5)

    def after(self, attempts: int) -> dt.timedelta:
        delay: dt.timedelta = self.first * (2 ** max(attempts - 1, 0))
        return min(delay, self.cap)


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    uncertain: int = 0
    expired: int = 0

    def __bool__(self) -> bool:
        return bool(self.sent or self.retried or self.uncertain or self.expired)


def _rowcount(session: Session, stmt: Update) -> int:
    result = session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class _Claimed:
    id: int
    phone: str
    body: str


class Dispatcher:
    """Delivers the outbox through a gateway; run :meth:`run_once` in a loop or a service.

    ``lease`` is how long a claimed message may stay ``sending`` before it is declared
    ``uncertain`` (its dispatcher is presumed dead).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        gateway: Gateway,
        *,
        batch: int = 20,
        backoff: Backoff | None = None,
        lease: dt.timedelta = dt.timedelta(minutes=2),
        clock: Callable[[], dt.datetime] = now_utc,
    ) -> None:
        self._sessions = sessions
        self._gateway = gateway
        self._batch = batch
        self._backoff = backoff or Backoff()
        self._lease = lease
        self._clock = clock

    def run_once(self) -> DispatchReport:
        report = DispatchReport()
        report.expired, report.uncertain = retrying(self._sessions, self._housekeep)
        claimed = retrying(self._sessions, self._claim)
        for c in claimed:
            try:
                outcome = self._gateway.send(c.id, c.phone, c.body)
            except Exception as exc:
                log.exception("sms %s: gateway %s raised", c.id, self._gateway.name)
                outcome = SendOutcome(accepted=False, reply=f"ошибка шлюза: {exc}"[:200])
            kind = retrying(self._sessions, partial(self._settle, message_id=c.id, outcome=outcome))
            if kind == "sent":
                report.sent += 1
            elif kind == "uncertain":
                report.uncertain += 1
            else:
                report.retried += 1
        return report

    def run_forever(self, stop: threading.Event, poll: float = 1.0) -> None:
        """Until ``stop`` is set; a database outage is logged and waited out, not fatal."""
        while not stop.is_set():
            try:
                busy = bool(self.run_once())
            except Exception:
                log.exception("sms dispatch: pass failed; retrying")
                busy = False
            if not busy:
                stop.wait(poll)

    def _housekeep(self, session: Session) -> tuple[int, int]:
        now = self._clock()
        expired = _rowcount(
            session,
            update(SmsMessage)
            .where(
                SmsMessage.status == SmsStatus.PENDING,
                SmsMessage.expires_at.is_not(None),
                SmsMessage.expires_at <= now,
            )
            .values(status=SmsStatus.EXPIRED, body=_BLANK),
        )
        stale = _rowcount(
            session,
            update(SmsMessage)
            .where(
                SmsMessage.status == SmsStatus.SENDING, SmsMessage.claimed_at < now - self._lease
            )
            .values(
                status=SmsStatus.UNCERTAIN,
                body=_BLANK,
                last_error="отправка прервана: неизвестно, ушло ли сообщение",
            ),
        )
        session.commit()
        return expired, stale

    def _claim(self, session: Session) -> list[_Claimed]:
        now = self._clock()
        rows = list(
            session.scalars(
                select(SmsMessage)
                .where(SmsMessage.status == SmsStatus.PENDING, SmsMessage.next_attempt_at <= now)
                .order_by(SmsMessage.id)
                .limit(self._batch)
                .with_for_update(skip_locked=True)
            )
        )
        out = []
        for m in rows:
            m.status = SmsStatus.SENDING
            m.claimed_at = now
            m.attempts += 1
            out.append(_Claimed(m.id, m.phone, m.body))
        session.commit()
        return out

    def _settle(self, session: Session, message_id: int, outcome: SendOutcome) -> str:
        msg = session.get(SmsMessage, message_id, with_for_update=True)
        assert msg is not None
        now = self._clock()
        msg.gateway_reply = outcome.reply[:200]
        if msg.status != SmsStatus.SENDING:
            # A delivery report overtook us (it can: Kannel calls back at once).
            session.commit()
            return "sent"
        if outcome.accepted:
            msg.status = SmsStatus.SENT
            msg.sent_at = now
            msg.body = _BLANK
            kind = "sent"
        elif outcome.ambiguous:
            msg.status = SmsStatus.UNCERTAIN
            msg.body = _BLANK
            msg.last_error = outcome.reply[:300]
            kind = "uncertain"
        else:
            msg.status = SmsStatus.PENDING
            msg.next_attempt_at = now + self._backoff.after(msg.attempts)
            msg.last_error = outcome.reply[:300]
            kind = "retry"
        log.info("sms %s: %s (attempt %s) %s", message_id, kind, msg.attempts, outcome.reply)
        session.commit()
        return kind
