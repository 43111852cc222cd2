"""A private Kannel on 127.0.0.1 with its fake SMSC: for the demo and the tests.

Debian's ``kannel`` (bearerbox, smsbox) and ``kannel-extras`` (the fake SMSC) are started
unprivileged from a config written into ``workdir``, on free ports.  The fake SMSC prints
every message it "delivers" to the phone; :meth:`LocalKannel.delivered` reads them back, so
a test can count what really reached the operator — exactly once, or not at all.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FAKESMSC", "KannelMissing", "LocalKannel", "free_port"]

FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")
INSTALL = "apt-get install kannel kannel-extras"


class KannelMissing(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return True
        time.sleep(0.05)
    return False


_GOT = re.compile(r"Got message \d+: <(\S+) (\S+) (\S+) (.*)>\s*$")


@dataclass
class LocalKannel:
    workdir: Path
    username: str = "arm"
    password: str = "secret"
    admin_port: int = field(default_factory=free_port)
    smsbox_port: int = field(default_factory=free_port)
    smsc_port: int = field(default_factory=free_port)
    sendsms_port: int = field(default_factory=free_port)
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"

    @property
    def fake_log(self) -> Path:
        return self.workdir / "fakesmsc.log"

    @property
    def running(self) -> bool:
        return any(p.poll() is None for p in self._procs)

    def _config(self) -> Path:
        conf = self.workdir / "kannel.conf"
        conf.write_text(
            f"""group = core
admin-port = {self.admin_port}
admin-password = adm
admin-interface = 127.0.0.1
smsbox-port = {self.smsbox_port}
box-allow-ip = 127.0.0.1
dlr-storage = internal
log-level = 1
log-file = "{self.workdir / "bearerbox.log"}"

group = smsc
smsc = fake
smsc-id = FAKE
host = 127.0.0.1
port = {self.smsc_port}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.smsbox_port}
sendsms-port = {self.sendsms_port}
sendsms-interface = 127.0.0.1
log-level = 1
log-file = "{self.workdir / "smsbox.log"}"

group = sendsms-user
username = {self.username}
password = {self.password}

group = sms-service
keyword = default
text = "ok"
""",
            encoding="utf-8",
        )
        return conf

    def start(self, timeout: float = 15.0) -> LocalKannel:
        """Start bearerbox, the fake SMSC and smsbox; return when sendsms can deliver."""
        missing = [
            name
            for name, found in (
                ("bearerbox", shutil.which("bearerbox", path="/usr/sbin:/usr/bin")),
                ("smsbox", shutil.which("smsbox", path="/usr/sbin:/usr/bin")),
                ("fakesmsc", FAKESMSC.exists() and str(FAKESMSC)),
            )
            if not found
        ]
        if missing:
            raise KannelMissing(f"Kannel не установлен ({', '.join(missing)}): {INSTALL}")
        self.workdir.mkdir(parents=True, exist_ok=True)
        atexit.register(self.stop)  # never leave a gateway behind a crashed demo or test
        conf = self._config()
        env = dict(os.environ)

        def spawn(args: list[str], log: Path) -> None:
            out = log.open("ab")
            self._procs.append(
                subprocess.Popen(
                    args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
                )
            )

        spawn(["/usr/sbin/bearerbox", str(conf)], self.workdir / "bearerbox.out")
        if not _wait_port(self.smsc_port, timeout) or not _wait_port(self.smsbox_port, timeout):
            self.stop()
            raise RuntimeError(f"bearerbox не запустился: {self.workdir / 'bearerbox.out'}")
        spawn(
            [
                str(FAKESMSC),
                "-H",
                "127.0.0.1",
                "-r",
                str(self.smsc_port),
                "-i",
                "0.1",
                "-m",
                "0",
                "100 200 text hello",
            ],
            self.fake_log,
        )
        spawn(["/usr/sbin/smsbox", str(conf)], self.workdir / "smsbox.out")
        if not _wait_port(self.sendsms_port, timeout) or not self._smsc_online(timeout):
            self.stop()
            raise RuntimeError(f"Kannel не запустился: см. {self.workdir}")
        return self

    def _smsc_online(self, timeout: float) -> bool:
        url = f"http://127.0.0.1:{self.admin_port}/status.txt?password=adm"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url, timeout=1) as resp:
                    text = resp.read().decode("utf-8", "replace")
                if "online" in text and "smsbox" in text.lower():
                    return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """Kill every process (SIGKILL: a pulled cable, not a polite shutdown)."""
        for p in self._procs:
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
        for p in self._procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=5)
        self._procs.clear()

    def delivered(self) -> list[tuple[str, str]]:
        """(phone, text) of every message the fake SMSC received, in order."""
        if not self.fake_log.exists():
            return []
        out = []
        for line in self.fake_log.read_text("utf-8", "replace").splitlines():
            m = _GOT.search(line)
            if m:
                out.append((m.group(2), _decode(m.group(3), m.group(4))))
        return out


def _decode(coding: str, text: str) -> str:
    """fakesmsc prints the text URL-encoded; a UCS-2 message as its UTF-16-BE bytes."""
    raw = urllib.parse.unquote_to_bytes(text.replace("+", "%20"))
    if coding == "ucs-2":
        return raw.decode("utf-16-be", "replace")
    return raw.decode("utf-8", "replace")
