"""Card events on the GUI thread, and the demo's virtual card rig.

The watcher thread (:class:`services.card.pcsc.ReaderWatcher`) calls back on its own thread;
emitting a signal of an object that lives on the GUI thread queues the call there.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from services.card.pcsc import CardEvent, ReaderWatcher
    from services.card.rig import CardRig

__all__ = ["CardBridge", "start_demo_rig"]

log = logging.getLogger(__name__)


class CardBridge(QObject):
    sig_event = Signal(object)
    """A :class:`~services.card.pcsc.CardEvent`, delivered on the GUI thread."""

    def __init__(
        self, patterns: Sequence[str], *, allow_virtual: bool, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._patterns = tuple(patterns)
        self._allow_virtual = allow_virtual
        self._watcher: ReaderWatcher | None = None

    def start(self) -> None:
        from services.card.pcsc import ReaderWatcher

        self._watcher = ReaderWatcher(
            self._post, patterns=self._patterns, allow_virtual=self._allow_virtual
        )
        self._watcher.start()

    def _post(self, event: CardEvent) -> None:
        try:
            self.sig_event.emit(event)
        except RuntimeError:  # the window is gone while the watcher was reporting
            pass

    def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None


def start_demo_rig() -> CardRig | None:
    """The demo's private pcscd with the virtual reader (before the first PC/SC call).

    Returns None (and logs why) when pcscd or vpcd is missing: the login screen then says
    that no reader is connected, which is what the doctor would see on a PC without one.
    """
    from services.card.pcscd import PrivatePcscd
    from services.card.rig import CardRig
    from services.errors import ArmError

    pcscd = PrivatePcscd()
    try:
        pcscd.start()
    except ArmError as exc:
        log.error("demo card reader not started: %s", exc)
        return None
    pcscd.use()
    return CardRig(pcscd, {})
