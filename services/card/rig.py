"""The demo's card rig: a private pcscd with the virtual reader and the demo cards in a tray.

Qt-free; the demo's card tray calls :meth:`CardRig.toggle`.  Each card has a slot (the
reader's two virtual slots): inserting a card pulls the one already in its slot.
"""

from __future__ import annotations

from pathlib import Path

from services.card.applet import DoctorApplet
from services.card.pcscd import PrivatePcscd
from services.card.vpcd import Applet, VirtualCard

__all__ = ["CardRig"]


class CardRig:
    def __init__(self, pcscd: PrivatePcscd, cards: dict[str, tuple[Path, int]]) -> None:
        self.pcscd = pcscd
        self.slots: dict[str, int] = {}
        self.cards: dict[str, VirtualCard] = {}
        self.add_cards(cards)

    def add_cards(self, cards: dict[str, tuple[Path, int]]) -> None:
        """The cards' files exist once the demo database has enrolled them."""
        for kind, (path, slot) in cards.items():
            self.slots[kind] = slot
            self.cards[kind] = VirtualCard(DoctorApplet.load(path), self.pcscd.port + slot)

    def add_applet(self, kind: str, applet: Applet, slot: int) -> None:
        """A card that is not a staff card (the patient's OMS policy)."""
        self.slots[kind] = slot
        self.cards[kind] = VirtualCard(applet, self.pcscd.port + slot)

    def state(self) -> dict[str, bool]:
        return {kind: card.inserted for kind, card in self.cards.items()}

    def insert(self, kind: str) -> None:
        for other, card in self.cards.items():
            if other != kind and self.slots[other] == self.slots[kind]:
                card.remove()
        self.cards[kind].insert()

    def remove(self, kind: str) -> None:
        self.cards[kind].remove()

    def toggle(self, kind: str) -> dict[str, bool]:
        if self.cards[kind].inserted:
            self.remove(kind)
        else:
            self.insert(kind)
        return self.state()

    def close(self) -> None:
        for card in self.cards.values():
            card.remove()
        self.pcscd.stop()
