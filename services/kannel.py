"""Kannel's HTTP ``sendsms`` interface, and the listener for its delivery reports.

Kannel answers ``0: Accepted for delivery`` or ``3: Queued for later delivery`` (HTTP 202)
when it has the message; anything else means it does not.  What matters for "never twice"
is *where* a failure happens: a refused or timed-out *connection* means Kannel never saw
the request (retry is safe); a failure *after the request was written* means it may have
it (the outbox marks the message uncertain and does not resend).

Delivery reports: each message carries ``dlr-url`` pointing at :class:`DlrListener` with
the outbox id, and ``dlr-mask=31`` (every report type); Kannel substitutes ``%d`` with the
report type.  The listener binds to 127.0.0.1 unless told otherwise: it trusts its callers.
"""

from __future__ import annotations

import http.client
import http.server
import logging
import socket
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from services.sms import SendOutcome

__all__ = ["DlrListener", "KannelConfig", "KannelGateway"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KannelConfig:
    url: str  # http://127.0.0.1:13013/cgi-bin/sendsms
    username: str
    password: str
    sender: str = "ARM"
    dlr_url: str = ""  # http://127.0.0.1:13180/dlr — empty: no delivery reports
    timeout: float = 10.0


class KannelGateway:
    name = "Kannel"

    def __init__(self, config: KannelConfig) -> None:
        self.config = config
        parts = urllib.parse.urlsplit(config.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"адрес шлюза SMS не http(s): {config.url!r}")
        self._parts = parts

    def _query(self, message_id: int, phone: str, text: str) -> str:
        c = self.config
        params = {
            "username": c.username,
            "password": c.password,
            "from": c.sender,
            "to": phone,
            "text": text,
            "charset": "UTF-8",
            "coding": "2",  # UCS-2: the text is Cyrillic
        }
        if c.dlr_url:
            sep = "&" if "?" in c.dlr_url else "?"
            params["dlr-mask"] = "31"
            params["dlr-url"] = f"{c.dlr_url}{sep}id={message_id}&type=%d"
        return urllib.parse.urlencode(params)

    def send(self, message_id: int, phone: str, text: str) -> SendOutcome:
        p = self._parts
        conn_cls = (
            http.client.HTTPSConnection if p.scheme == "https" else http.client.HTTPConnection
        )
        conn = conn_cls(p.hostname or "", p.port, timeout=self.config.timeout)
        path = f"{p.path or '/'}?{self._query(message_id, phone, text)}"
        try:
            conn.connect()
        except OSError as exc:
            return SendOutcome.refused(f"шлюз SMS недоступен: {_why(exc)}")
        try:
            try:
                conn.request("GET", path)
            except OSError as exc:
                # Nothing of the request can have been processed if writing it failed at once
                # on a fresh connection — but a partial write is possible: be cautious.
                return SendOutcome(
                    accepted=False, reply=f"обрыв при отправке: {_why(exc)}", ambiguous=True
                )
            try:
                resp = conn.getresponse()
                body = resp.read(500).decode("utf-8", "replace").strip()
            except (OSError, http.client.HTTPException) as exc:
                return SendOutcome(
                    accepted=False, reply=f"шлюз не ответил: {_why(exc)}", ambiguous=True
                )
        finally:
            conn.close()
        reply = f"{resp.status} {body}"[:200]
        if resp.status in (200, 202) and body[:2] in ("0:", "3:"):
            return SendOutcome(accepted=True, reply=reply)
        return SendOutcome.refused(reply)


def _why(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "соединение отклонено"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "нет ответа"
    return str(exc) or type(exc).__name__


class DlrListener:
    """A small HTTP server on a thread that turns Kannel's callbacks into outbox updates."""

    def __init__(
        self, on_report: Callable[[int, int], object], host: str = "127.0.0.1", port: int = 0
    ) -> None:
        handler = _handler(on_report)
        self._server = _QuietServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="sms-dlr", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}/dlr"

    def start(self) -> DlrListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # A gateway killed mid-callback resets the connection: worth a debug line, not a
        # traceback on the console.
        log.debug("dlr connection from %s failed", client_address, exc_info=True)


def _handler(
    on_report: Callable[[int, int], object],
) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(url.query)
            try:
                message_id = int(q["id"][0])
                dlr_type = int(q["type"][0])
            except (KeyError, ValueError, IndexError):
                self.send_error(400, "id and type required")
                return
            if url.path != "/dlr":
                self.send_error(404)
                return
            try:
                on_report(message_id, dlr_type)
            except Exception:
                log.exception("dlr for sms %s failed", message_id)
                self.send_error(503)
                return
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            log.debug("dlr: " + format, *args)  # the URL holds no phone number, only the id

    return Handler
