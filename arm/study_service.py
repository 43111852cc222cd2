"""This workstation's studies: the cache, the PACS list, the storage SCP, and the demo's PACS.

Built once per station (not per sign-in): the cache index and the storage SCP outlive a user
switch, and a C-MOVE destination must keep listening (stopping a pynetdicom server costs up
to 0.5 s, and a PACS may push on its own).  The demo's Orthanc starts in a thread of its
own, so the window never waits for it: until it answers, the library has no PACS and the
study lists show what the record and the cache know.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from dicom.cache import StudyCache
from dicom.library import StudyLibrary
from dicom.retrieve import Method
from dicom.storage_scp import StorageServer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from arm.settings import Settings

__all__ = ["StudyService"]

log = logging.getLogger(__name__)

DEMO_ARM_AE = "ARM_DEMO"


class StudyService:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        config = settings.dicom_config
        self.cache = StudyCache(settings.data_dir / "studies", config.cache_limit_mb * 1024 * 1024)
        self.storage: StorageServer | None = None
        if settings.dicom_retrieve_move:
            self.storage = StorageServer(
                self.cache, config.ae_title, config.storage_port, config.storage_bind
            )
            self.storage.start()
        self.library = StudyLibrary(
            config,
            self.cache,
            storage=self.storage,
            method=Method.MOVE if self.storage is not None else Method.GET,
        )
        self._demo: object | None = None
        self._demo_thread: threading.Thread | None = None
        self._stopped = False
        if settings.demo and settings.demo_pacs and not config.pacs:
            self._demo_thread = threading.Thread(
                target=self._start_demo, args=(settings, sessions), name="demo-pacs", daemon=True
            )
            self._demo_thread.start()

    def _start_demo(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        from arm.demo_pacs import start_demo_pacs
        from services.studies import today

        try:
            demo = start_demo_pacs(
                settings.data_dir / "demo-pacs",
                sessions,
                arm_ae=DEMO_ARM_AE,
                arm_host="127.0.0.1",
                arm_port=settings.dicom_config.storage_port,
                today=today(),
            )
        except Exception:  # the demo works on without images; the log says why
            log.warning("the demo PACS did not start", exc_info=True)
            return
        if self._stopped:
            demo.stop()
            return
        self._demo = demo
        self.library.config = replace(
            self.library.config, ae_title=DEMO_ARM_AE, pacs=(demo.config,)
        )

    def wait_demo(self, timeout: float = 120.0) -> bool:
        """For the demo's scripts and tests: True once the demo PACS answers."""
        if self._demo_thread is not None:
            self._demo_thread.join(timeout)
        return self.library.has_pacs

    def stop(self) -> None:
        self._stopped = True
        self.library.close()
        if self.storage is not None:
            self.storage.stop()
        demo = self._demo
        if demo is not None:
            demo.stop()  # type: ignore[attr-defined]
        self.cache.close()
