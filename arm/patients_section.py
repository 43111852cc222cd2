"""The «Пациенты» section: registry search ⇄ patient card, wired to the registry service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QStackedWidget, QWidget

from arm.errors import show_error
from arm.tasks import TaskRunner
from arm.workspace import Workspace
from services.access import Permission, can
from services.patients import PatientInput
from widgets.patient_card.register_dialog import RegisterDialog
from widgets.patient_card.view import PatientCardView
from widgets.registry.view import RegistryView

if TYPE_CHECKING:
    from widgets.child_access.dialog import ChildAccessDialog

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
        self.child_access_dialog: ChildAccessDialog | None = None
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
        if can(workspace.child_access.actor, Permission.CHILD_ACCESS):
            self.registry_view.sig_child_access_requested.connect(
                lambda pid: self.open_child_access(pid, self)
            )
            self.card_view.sig_child_access_requested.connect(
                lambda pid: self.open_child_access(pid, self)
            )
        else:
            self.registry_view.more_button.setVisible(False)
            self.registry_view.child_access_action.setEnabled(False)
            self.card_view.child_access.setEnabled(False)

    def open_child_access(self, child_id: int, parent: QWidget) -> ChildAccessDialog:
        """The «Доступ к ЭМК ребенка» form, from the journal, the card or the EMK."""
        from widgets.child_access.dialog import ChildAccessDialog
        from widgets.print_flow import PrintFlow

        ws = self._ws
        dlg = ChildAccessDialog(
            self._runner,
            ws.child_access,
            ws.registry,
            show_error,
            child_id,
            ws.departments,
            preview=PrintFlow(self._runner, ws.child_access.archive, show_error),
            parent=parent,
        )
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # A relation added in the form shows on the card behind it when the form closes.
        dlg.finished.connect(lambda _r: self._after_child_access(child_id, parent))
        self.child_access_dialog = dlg
        dlg.open()
        return dlg

    def _after_child_access(self, child_id: int, parent: QWidget) -> None:
        self.child_access_dialog = None
        card = self.card_view.card
        if card is not None and card.id == child_id and not self.card_view.dirty:
            self.card_view.load(child_id)

        def back() -> None:
            parent.window().activateWindow()
            parent.setFocus()

        QTimer.singleShot(0, back)

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
