"""The SMS outbox against a real Kannel with its fake SMSC: nothing lost, nothing sent twice.

Each test starts its own Kannel (bearerbox, smsbox, fakesmsc) on free loopback ports; what
the fake SMSC printed is what "reached the phone".  The gateway is stopped with SIGKILL, as a
pulled cable would stop it; a peer that takes the request and dies before answering is a
plain socket server that does exactly that.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from arm.kannel_local import LocalKannel
from services import sms
from services.clock import now_utc
from services.db import create_db_engine
from services.kannel import DlrListener, KannelConfig, KannelGateway
from services.models import SmsMessage, SmsStatus

PHONE = "+79161234567"
FAST = sms.Backoff(first=dt.timedelta(milliseconds=200), cap=dt.timedelta(milliseconds=500))


@pytest.fixture
def db(sqlite_engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(sqlite_engine, expire_on_commit=False)


@pytest.fixture
def reports(db: sessionmaker[Session]) -> Iterator[DlrListener]:
    listener = DlrListener(lambda i, t: sms.report(db, i, t)).start()
    yield listener
    listener.stop()


def gateway(k: LocalKannel, dlr: DlrListener | None = None, url: str = "") -> KannelGateway:
    return KannelGateway(
        KannelConfig(
            url=url or k.sendsms_url,
            username=k.username,
            password=k.password,
            dlr_url=dlr.url if dlr else "",
            timeout=2.0,
        )
    )


def enqueue(db: sessionmaker[Session], text: str, **kw: object) -> int:
    with db() as s:
        msg = sms.enqueue(s, PHONE, text, purpose="test", **kw)  # type: ignore[arg-type]
        s.commit()
        return msg.id


def message(db: sessionmaker[Session], mid: int) -> SmsMessage:
    with db() as s:
        m = s.get(SmsMessage, mid)
        assert m is not None
        return m


def wait_for(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll until ``cond`` holds (delivery is asynchronous); fail with a clear message."""
    ev = threading.Event()
    deadline = now_utc() + dt.timedelta(seconds=timeout)
    while not cond():
        if now_utc() > deadline:
            pytest.fail("condition not reached in time")
        ev.wait(0.05)


def test_a_message_queued_while_kannel_is_down_arrives_once_after_it_starts(
    tmp_path: Path, db: sessionmaker[Session], reports: DlrListener
) -> None:
    k = LocalKannel(tmp_path / "kannel")  # not started: the gateway is down
    mid = enqueue(db, "Код доступа к ЭМК ребенка: 314159.")
    d = sms.Dispatcher(db, gateway(k, reports), backoff=FAST)
    first = d.run_once()
    assert first.retried == 1
    m = message(db, mid)
    assert m.status == SmsStatus.PENDING
    assert "соединение отклонено" in m.last_error
    assert m.body == "Код доступа к ЭМК ребенка: 314159."  # kept until the gateway has it

    k.start()
    try:
        stop = threading.Event()
        loop = threading.Thread(target=d.run_forever, args=(stop, 0.1))
        loop.start()
        try:
            wait_for(lambda: message(db, mid).status == SmsStatus.DELIVERED)
        finally:
            stop.set()
            loop.join()
        # More passes change nothing: the message went exactly once.
        for _ in range(3):
            d.run_once()
        assert k.delivered() == [(PHONE, "Код доступа к ЭМК ребенка: 314159.")]
        m = message(db, mid)
        assert m.attempts == 2
        assert m.body == "—"  # the code does not outlive its sending
        assert m.sent_at is not None
        assert m.delivered_at is not None
    finally:
        k.stop()


def test_kannel_killed_and_restarted_between_messages(
    kannel: LocalKannel, db: sessionmaker[Session], reports: DlrListener
) -> None:
    d = sms.Dispatcher(db, gateway(kannel, reports), backoff=FAST)
    a = enqueue(db, "первое")
    assert d.run_once().sent == 1
    kannel.stop()
    b = enqueue(db, "второе")
    assert d.run_once().retried == 1
    kannel.start()
    wait_for(lambda: d.run_once().sent == 1 or message(db, b).status != SmsStatus.PENDING)
    wait_for(lambda: message(db, b).status == SmsStatus.DELIVERED)
    assert message(db, a).status in (SmsStatus.SENT, SmsStatus.DELIVERED)
    assert [t for _p, t in kannel.delivered()] == ["первое", "второе"]
    assert message(db, b).attempts == 2


def _mute_server(received: list[bytes]) -> tuple[socket.socket, threading.Thread]:
    """Takes a request and dies without answering: a gateway killed mid-request."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()

    def serve() -> None:
        conn, _ = srv.accept()
        received.append(conn.recv(65536))
        conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return srv, t


def test_a_gateway_dying_after_the_request_is_never_asked_again(
    kannel: LocalKannel, db: sessionmaker[Session]
) -> None:
    received: list[bytes] = []
    srv, t = _mute_server(received)
    port = srv.getsockname()[1]
    mid = enqueue(db, "код 271828")
    mute = gateway(kannel, url=f"http://127.0.0.1:{port}/cgi-bin/sendsms")
    report = sms.Dispatcher(db, mute, backoff=FAST).run_once()
    t.join(5)
    srv.close()
    assert report.uncertain == 1
    assert len(received) == 1
    m = message(db, mid)
    assert m.status == SmsStatus.UNCERTAIN
    assert m.body == "—"
    # Even with the real gateway back, an uncertain message is not resent.
    sms.Dispatcher(db, gateway(kannel), backoff=FAST).run_once()
    assert kannel.delivered() == []


def test_a_dispatcher_that_died_mid_send_leaves_an_uncertain_message(
    kannel: LocalKannel, db: sessionmaker[Session]
) -> None:
    mid = enqueue(db, "код 161803")
    d = sms.Dispatcher(db, gateway(kannel), backoff=FAST, lease=dt.timedelta(seconds=30))
    with db() as s:
        assert [c.id for c in d._claim(s)] == [mid]  # claimed, then the process "died"
    assert d.run_once().sent == 0  # within the lease it is still someone's
    later = sms.Dispatcher(
        db,
        gateway(kannel),
        clock=lambda: now_utc() + dt.timedelta(minutes=1),
        lease=dt.timedelta(seconds=30),
    )
    assert later.run_once().uncertain == 1
    assert message(db, mid).status == SmsStatus.UNCERTAIN
    assert kannel.delivered() == []


def test_expired_and_superseded_messages_never_go(
    kannel: LocalKannel, db: sessionmaker[Session]
) -> None:
    stale = enqueue(db, "старый код", expires_at=now_utc() - dt.timedelta(seconds=1))
    dead = enqueue(db, "заменённый код")
    with db() as s:
        sms.supersede(s, dead)
        s.commit()
    live = enqueue(db, "новый код")
    report = sms.Dispatcher(db, gateway(kannel)).run_once()
    assert (report.sent, report.expired) == (1, 1)
    assert message(db, stale).status == SmsStatus.EXPIRED
    assert message(db, stale).body == "—"
    assert message(db, dead).status == SmsStatus.CANCELLED
    assert message(db, live).status == SmsStatus.SENT
    wait_for(lambda: len(kannel.delivered()) == 1)
    assert kannel.delivered() == [(PHONE, "новый код")]


def test_a_refusing_gateway_is_retried_with_growing_delay(
    kannel: LocalKannel, db: sessionmaker[Session]
) -> None:
    mid = enqueue(db, "код")
    wrong = KannelGateway(
        KannelConfig(url=kannel.sendsms_url, username="arm", password="wrong", timeout=2)
    )
    backoff = sms.Backoff(first=dt.timedelta(seconds=10), cap=dt.timedelta(seconds=25))
    d = sms.Dispatcher(db, wrong, backoff=backoff)
    t0 = now_utc()
    d.run_once()
    m = message(db, mid)
    assert m.status == SmsStatus.PENDING
    assert "Authorization failed" in m.last_error
    assert dt.timedelta(seconds=9) < m.next_attempt_at - t0 < dt.timedelta(seconds=12)
    assert d.run_once().retried == 0  # not due yet
    assert backoff.after(2) == dt.timedelta(seconds=20)
    assert backoff.after(5) == dt.timedelta(seconds=25)
    assert kannel.delivered() == []


def test_delivery_reports_move_only_forward(db: sessionmaker[Session]) -> None:
    mid = enqueue(db, "код")
    with db() as s:
        m = s.get(SmsMessage, mid)
        assert m is not None
        m.status = SmsStatus.SENT
        s.commit()
    with db() as s:
        assert sms.record_report(s, mid, sms.DLR_DELIVERED)
    with db() as s:
        assert not sms.record_report(s, mid, 8)  # a late «accepted by the SMSC»
        assert not sms.record_report(s, 10**9, 1)  # unknown id: ignored
    assert message(db, mid).status == SmsStatus.DELIVERED


@pytest.mark.pg
def test_two_dispatchers_on_postgresql_never_send_one_message_twice(
    kannel: LocalKannel, fresh_pg_url: str
) -> None:
    engine = create_db_engine(fresh_pg_url)
    try:
        db = sessionmaker(engine, expire_on_commit=False)
        ids = [enqueue(db, f"сообщение {i}") for i in range(30)]
        gw = gateway(kannel)
        workers = [sms.Dispatcher(db, gw, batch=3) for _ in range(2)]
        barrier = threading.Barrier(2)

        def drain(d: sms.Dispatcher) -> None:
            barrier.wait()
            while d.run_once():
                pass

        threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        with db() as s:
            statuses = set(s.scalars(select(SmsMessage.status).where(SmsMessage.id.in_(ids))))
            attempts = set(s.scalars(select(SmsMessage.attempts)))
        assert statuses == {SmsStatus.SENT}
        assert attempts == {1}
        wait_for(lambda: len(kannel.delivered()) >= 30)
        texts = sorted(t for _p, t in kannel.delivered())
        assert texts == sorted(f"сообщение {i}" for i in range(30))
    finally:
        engine.dispose()
