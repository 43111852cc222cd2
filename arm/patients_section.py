"""The «Пациенты» section: registry search ⇄ patient card, wired to the registry service."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QStackedWidget, QWidget

from arm.errors import show_error
from arm.tasks import TaskRunner
from arm.workspace import Workspace
from services.patients import PatientInput
from widgets.patient_card.register_dialog import RegisterDialog
from widgets.patient_card.view import PatientCardView
from widgets.registry.view import RegistryView

__all__ = ["PatientsSection"]


class PatientsSection(QStackedWidget):
    sig_title_changed = Signal(str)

    def __init__(
        self,
        runner: TaskRunner,
        workspace: Workspace,
        *,
        page_size: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._ws = workspace
        self.register_dialog: RegisterDialog | None = None
        self.registry_view = RegistryView(
            runner, workspace.registry.search, show_error, page_size=page_size
        )
        self.card_view = PatientCardView(
            runner, workspace.registry, show_error, workspace.departments
        )
        self.addWidget(self.registry_view)
        self.addWidget(self.card_view)
        self.registry_view.sig_open_requested.connect(self.open_patient)
        self.registry_view.sig_register_requested.connect(self.register_patient)
        self.card_view.sig_open_requested.connect(self.open_patient)
        self.card_view.sig_back_requested.connect(self.show_search)
        self.card_view.sig_title_changed.connect(self.sig_title_changed)

    def open_patient(self, patient_id: int) -> None:
        """Open a card; unsaved edits in the one on screen (or hidden behind the search,
        after F2) are settled first — saved, dropped or kept with «Остаться»."""
        if self.card_view.dirty or self.card_view.saving:
            self.setCurrentWidget(self.card_view)  # decide while looking at the edits

        def go() -> None:
            self.card_view.load(patient_id)
            self.setCurrentWidget(self.card_view)

        self.card_view.leave(go)

    def show_search(self) -> None:
        self.setCurrentWidget(self.registry_view)

    # --- roaming workspace -----------------------------------------------------------------
    def snapshot(self) -> dict[str, object]:
        """What to bring back at the next sign-in, here or at another workstation."""
        card = self.card_view.draft()
        return {
            "view": "card" if self.currentWidget() is self.card_view and card else "search",
            "search": self.registry_view.search_edit.text()[:200],
            "card": card,
        }

    def restore(self, state: dict[str, object]) -> None:
        search = state.get("search")
        if isinstance(search, str) and search:
            self.registry_view.search_edit.setText(search)
            self.registry_view.search_now()
        card = state.get("card")
        if state.get("view") == "card" and isinstance(card, dict):
            pid = card.get("patient_id")
            fields = card.get("fields")
            if isinstance(pid, int):
                self.card_view.load(pid, draft=fields if isinstance(fields, dict) else None)
                self.setCurrentWidget(self.card_view)
        self.sig_title_changed.emit("Пациенты")
        self.registry_view.focus_search()

    def register_patient(self, policy: str = "", data: PatientInput | None = None) -> None:
        words = [w for w in self.registry_view.search_edit.text().split() if w.isalpha()]
        dlg = RegisterDialog(
            self._runner,
            self._ws.registry,
            show_error,
            self._ws.departments,
            prefill=[] if policy or data else words,
            policy=policy,
            data=data,
            parent=self,
        )

        def registered() -> None:
            if dlg.card is not None:
                self.open_patient(dlg.card.id)

        dlg.accepted.connect(registered)
        if self.register_dialog is not None:
            self.register_dialog.deleteLater()
        self.register_dialog = dlg
        dlg.open()
