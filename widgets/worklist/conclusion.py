"""«Заключение»: the radiologist's description and conclusion of one study, beside the worklist.

A panel, not a dialog: the radiologist looks at the images in the viewer's window and types
here, all day.  So the keyboard does everything — Ctrl+T a template, F3 the next «___» blank
(Shift+F3 the previous), Ctrl+S the draft, Ctrl+Enter the signature (Enter confirms), Esc back
to the list.

Typed text is never lost, which is the point of most of this module:

* the draft goes to the database 30 s after the last keystroke (drafts live in the DB, so a
  crash costs at most that), and before another study replaces this one — a save that fails
  keeps this study on screen instead of switching;
* a refusal (an empty conclusion, an over-long text) puts the rule under its field and keeps
  every character; so does a conflict (someone saved the same study meanwhile), which also
  offers the stored version — inserted, as templates are, through ``QTextCursor`` into the
  field's own undo stack, so Ctrl+Z in the field brings back what was there before.

A signed study reads «Исправить»: signing again asks for the reason, and the record keeps the
previous document superseded by the new one.  Unfilled template blanks are not signed.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from services.conclusion_templates import ConclusionTemplate
from services.errors import ConflictError, PeerUnavailable, ValidationError, ValidationErrors
from services.models import ReadingStatus
from services.studies import StudyRow
from services.study_desk import StudyDesk
from widgets.field_errors import ERROR_COLOUR, FieldErrors
from widgets.ports import ErrorPresenter, Runner
from widgets.worklist._asks import reason_dialog, replace_box, sign_box
from widgets.worklist._guard import run_for
from widgets.worklist._text import (
    blank_errors,
    clock,
    find_blank,
    header_html,
    replace_text,
    status_html,
)

__all__ = ["AUTOSAVE_MS", "ConclusionEditor"]

AUTOSAVE_MS = 30_000
_UNSAVED = "· <i>есть несохранённые изменения</i>"
_IDLE_TEXT = "Исследование не выбрано: выберите его в списке и нажмите Enter."

Then = Callable[[StudyRow], None]


class ConclusionEditor(QWidget):
    sig_opened = Signal(object)
    """A study is on screen now (its row as just read)."""
    sig_draft_saved = Signal(object)
    """The draft is in the database (Ctrl+S, autosave, switching): the study's row now."""
    sig_signed = Signal(object)
    """The conclusion was signed (or corrected) into the EMK: the study's row now."""
    sig_back_requested = Signal()
    """Esc: the radiologist wants the list (the text stays, autosave goes on)."""

    def __init__(
        self,
        runner: Runner,
        desk: StudyDesk,
        *,
        show_error: ErrorPresenter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._desk = desk
        self._show_error = show_error
        self.row: StudyRow | None = None
        self.busy = False
        self._loading = False
        self._conflict = False
        self._saved: tuple[str, str] = ("", "")  # the texts as the database has them
        self._request = 0
        self._pending: tuple[str, Then | None] | None = None  # opened while a call ran
        self._templates: dict[str, list[ConclusionTemplate]] = {}
        self._corrections: dict[str, tuple[str, str]] = {}  # see _restore_correction
        self.confirm_box: QMessageBox | None = None
        self.reason_dialog: QInputDialog | None = None

        self.header = QLabel(_IDLE_TEXT)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label = QLabel()
        self.status_label.setTextFormat(Qt.TextFormat.RichText)
        self.template_button = QPushButton("Шаблон…  Ctrl+T")
        self.template_button.setToolTip(
            "Подставить шаблон описания и заключения; сначала — шаблоны модальности исследования"
        )
        self.template_menu = QMenu(self)
        self.template_button.setMenu(self.template_menu)
        self.hint = QLabel("F3 — следующий пропуск «___»")
        self.hint.setToolTip("F3 — выделить следующий пропуск «___», Shift+F3 — предыдущий")
        self.hint.setStyleSheet("color: #5a6b7d;")
        self.findings = self._text_field("Описание")
        self.conclusion = self._text_field("Заключение")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.errors = FieldErrors(self.summary)
        self.conflict_bar = QLabel()
        self.conflict_bar.setObjectName("banner")
        self.conflict_bar.setWordWrap(True)
        self.take_button = QPushButton("Взять сохранённую версию")
        self.take_button.setToolTip(
            "Заменить текст в полях сохранённым в базе; Ctrl+Z в поле вернёт ваш текст"
        )
        self.note = QLabel()  # what just happened: saved, nothing to save, no blanks left
        self.note.setStyleSheet("color: #555;")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.RichText)
        self.save_button = QPushButton("Сохранить черновик  Ctrl+S")
        self.sign_button = QPushButton("Подписать  Ctrl+Enter")
        self.sign_button.setStyleSheet("font-weight: 600;")
        for b in (self.save_button, self.sign_button, self.take_button, self.template_button):
            b.setAutoDefault(False)

        tools = QHBoxLayout()
        tools.addWidget(self.template_button)
        tools.addWidget(self.hint, 1)
        conflict = QHBoxLayout()
        conflict.addWidget(self.conflict_bar, 1)
        conflict.addWidget(self.take_button)
        self._conflict_box = QWidget()
        self._conflict_box.setLayout(conflict)
        conflict.setContentsMargins(0, 0, 0, 0)
        back = QLabel("Esc — к списку")
        back.setStyleSheet("color: #5a6b7d;")
        buttons = QHBoxLayout()
        buttons.addWidget(back)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.sign_button)
        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addLayout(tools)
        # The description is the long text, the conclusion a few lines: 3 to 1, and the
        # radiologist may move the line between them.
        self.fields = QSplitter(Qt.Orientation.Vertical)
        self.fields.setChildrenCollapsible(False)
        for title, edit, key, stretch in (("Описание", self.findings, "findings", 3),
                                          ("Заключение", self.conclusion, "conclusion", 1)):  # fmt: skip
            pane = QWidget()
            lay = QVBoxLayout(pane)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.setSpacing(2)
            lay.addWidget(self._caption(title, edit))
            lay.addWidget(self.errors.wrap(edit, key), 1)
            self.fields.addWidget(pane)
            self.fields.setStretchFactor(self.fields.count() - 1, stretch)
        self.fields.setSizes([300, 100])
        body.addWidget(self.fields, 1)
        body.addWidget(self._conflict_box)
        body.addWidget(self.summary)
        body.addWidget(self.errors.wrap(buttons, "amend_reason", outline=self.sign_button))
        head = QFrame()
        head.setObjectName("studyHeader")
        head.setStyleSheet("#studyHeader { background: #f4f7fb; border: 1px solid #c9d4e0; }")
        state = QHBoxLayout()
        state.addWidget(self.status_label)
        state.addWidget(self.note, 1)
        lay_head = QVBoxLayout(head)
        lay_head.setContentsMargins(8, 6, 8, 6)
        lay_head.setSpacing(2)
        lay_head.addWidget(self.header)
        lay_head.addLayout(state)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(head)
        layout.addWidget(self.body, 1)
        self._conflict_box.hide()
        self.body.setEnabled(False)
        self.setFocusProxy(self.findings)

        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.autosave)
        self.save_button.clicked.connect(self.save_draft)
        self.sign_button.clicked.connect(self.sign)
        self.take_button.clicked.connect(self.take_stored)
        self.template_menu.triggered.connect(self._template_chosen)
        ctx = Qt.ShortcutContext.WidgetWithChildrenShortcut
        for keys, slot in (
            ("Ctrl+S", self.save_draft),
            ("Ctrl+Return", self.sign),
            ("Ctrl+Enter", self.sign),
            ("Ctrl+T", self.choose_template),
            ("F3", self.next_blank),
            ("Shift+F3", lambda: self.next_blank(backward=True)),
        ):
            QShortcut(QKeySequence(keys), self, slot, context=ctx)
        self._enable()

    def _focus(self, widget: QWidget) -> None:
        """The keyboard to ``widget`` — also back from a dialog, whose closing leaves our
        window inactive for a moment (and keys would go nowhere)."""
        self.window().activateWindow()
        widget.setFocus()

    def _focus_later(self, widget: QWidget) -> None:
        """:meth:`_focus` once a closing dialog's own window events are through."""
        QTimer.singleShot(0, widget, lambda: self._focus(widget))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Esc as a key, not a shortcut: the text fields leave it to us, and a second «Esc»
        # shortcut anywhere in the window (the search's) would make both ambiguous.
        if event.key() == Qt.Key.Key_Escape and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self.sig_back_requested.emit()
            return
        super().keyPressEvent(event)

    def _text_field(self, title: str) -> QPlainTextEdit:
        edit = QPlainTextEdit()
        edit.setAccessibleName(title)
        edit.setTabChangesFocus(True)
        edit.setMinimumHeight(70)
        edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        edit.textChanged.connect(self._typed)
        return edit

    @staticmethod
    def _caption(title: str, buddy: QWidget) -> QLabel:
        label = QLabel(title)
        label.setStyleSheet("font-weight: 600; margin-top: 4px;")
        label.setBuddy(buddy)
        return label

    # --- what is on screen -------------------------------------------------------------------
    @property
    def study_uid(self) -> str | None:
        return self.row.study_uid if self.row is not None else None

    def texts(self) -> tuple[str, str]:
        return self.findings.toPlainText(), self.conclusion.toPlainText()

    def changed(self) -> bool:
        """Typed since the database last had this study's text."""
        return self.row is not None and self.texts() != self._saved

    def _enable(self) -> None:
        on = self.row is not None and not self.busy
        for b in (self.save_button, self.sign_button, self.template_button, self.take_button):
            b.setEnabled(on)

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self._enable()
        if not busy and self._pending is not None:
            uid, then = self._pending
            self._pending = None
            self.open(uid, then)

    # --- opening a study -----------------------------------------------------------------------
    def open(self, study_uid: str, then: Then | None = None) -> None:
        """Show this study (read afresh); ``then`` runs once it is on screen.

        The study on screen with changes is saved first; if that fails it stays, and ``then``
        does not run (the caller opens the images only for the study the text belongs to).
        """
        if self.busy:
            self._pending = (study_uid, then)
            return
        row = self.row
        if row is not None and row.study_uid == study_uid:
            self.findings.setFocus()
            if then is not None:
                then(row)
            return
        if self.changed():
            if self._conflict:
                self.conflict_bar.setText(
                    self.conflict_bar.text().split("\n")[0]
                    + "\nСначала возьмите сохранённую версию или перенесите свой текст — "
                    "иначе он будет потерян."
                )
                self.take_button.setFocus()
                return
            self._pending = (study_uid, then)  # opened when the save is done
            self._save(quiet=False)
            return
        self._read(study_uid, then)

    def _read(self, study_uid: str, then: Then | None) -> None:
        self._request += 1
        token = self._request
        self._set_busy(True)

        def got(row: StudyRow) -> None:
            if token != self._request:
                return
            self._show_row(row)
            self.findings.setFocus()
            self.sig_opened.emit(row)
            if self._pending is not None:  # another study was asked for meanwhile
                self._set_busy(False)
                return
            self._set_busy(False)
            if then is not None:
                then(row)

        def failed(exc: BaseException) -> None:
            if token == self._request:
                self._set_busy(False)
                self._show_error(self, exc, lambda: self.open(study_uid, then))

        run_for(
            self, self._runner, lambda: self._desk.get(study_uid), on_success=got, on_failure=failed
        )

    def _show_row(self, row: StudyRow) -> None:
        self._autosave.stop()
        self._loading = True
        try:
            self.findings.setPlainText(row.findings)  # a new study: a new undo history
            self.conclusion.setPlainText(row.conclusion)
        finally:
            self._loading = False
        self._adopt(row)
        self._restore_correction(row)
        self._conflict = False
        self._conflict_box.hide()
        self.errors.clear()
        self.body.setEnabled(True)
        self._load_templates(row.modality)

    def _restore_correction(self, row: StudyRow) -> None:
        """A correction of a signed study saved as a draft, back on screen.

        The service answers a signed study with its signed text, not the correction's draft
        (which it does keep); until it says more, the editor remembers the corrections it saved
        in this session and puts them back — undoably, so Ctrl+Z shows the signed text.
        """
        kept = self._corrections.get(row.study_uid)
        if kept is None or row.status != ReadingStatus.SIGNED:
            return
        if (
            row.draft_saved_at is None
            or row.signed_at is None
            or row.draft_saved_at < row.signed_at
        ):
            return  # signed again since, elsewhere
        self._loading = True
        try:
            replace_text(self.findings, kept[0])
            replace_text(self.conclusion, kept[1])
        finally:
            self._loading = False
        self._saved = kept
        self.note.setText("· неподписанное исправление; Ctrl+Z в поле — подписанный текст")

    def _adopt(self, row: StudyRow) -> None:
        """The database's state of the study on screen (after a read, a save or a signature)."""
        self.row = row
        self._saved = (row.findings, row.conclusion)
        self.header.setText(header_html(row))
        self.status_label.setText(status_html(row))
        amend = row.status == ReadingStatus.SIGNED
        self.sign_button.setText("Исправить  Ctrl+Enter" if amend else "Подписать  Ctrl+Enter")
        self.sign_button.setToolTip(
            "Подписанное заключение исправляется с указанием причины; прежнее остаётся в ЭМК"
            if amend
            else "Подписать заключение в ЭМК пациента"
        )
        self.note.clear()

    def _load_templates(self, modality: str) -> None:
        if modality in self._templates:
            self._fill_menu(modality)
            return

        def got(items: list[ConclusionTemplate]) -> None:
            self._templates[modality] = list(items)
            if self.row is not None and self.row.modality == modality:
                self._fill_menu(modality)

        run_for(
            self,
            self._runner,
            lambda: self._desk.templates(modality),
            lane="io",
            on_success=got,
            on_failure=self._failed,
        )

    def _failed(self, exc: BaseException) -> None:
        self._show_error(self, exc, None)

    def _fill_menu(self, modality: str) -> None:
        mods = set(modality.split("\\")) - {""}
        menu = self.template_menu
        menu.clear()
        items = self._templates.get(modality, [])
        mine = sum(1 for t in items if mods & set(t.modalities))
        for i, t in enumerate(items):
            if i == mine and 0 < i:
                menu.addSeparator()  # the study's modality above, the others below
            action = QAction(t.title, menu)
            action.setData(t)
            menu.addAction(action)

    # --- typing ------------------------------------------------------------------------------
    def _typed(self) -> None:
        if self._loading or self.row is None:
            return
        self._autosave.start()  # (re)started: 30 s after the last keystroke
        if self.changed() and not self.busy and not self._conflict:
            self.note.setText(_UNSAVED)

    def next_blank(self, *, backward: bool = False) -> None:
        """Select the next «___» after the cursor: in this field, then the other, then round."""
        if self.row is None:
            return
        here = self.conclusion if self.conclusion.hasFocus() else self.findings
        other = self.findings if here is self.conclusion else self.conclusion
        if find_blank(here, here.textCursor(), backward=backward):
            return
        edge = QTextCursor(other.document())
        if backward:
            edge.movePosition(QTextCursor.MoveOperation.End)
        if find_blank(other, edge, backward=backward):
            other.setFocus()
            return
        edge = QTextCursor(here.document())
        if backward:
            edge.movePosition(QTextCursor.MoveOperation.End)
        if not find_blank(here, edge, backward=backward):
            self.note.setText("· пропусков «___» в тексте нет")

    # --- templates ---------------------------------------------------------------------------
    def choose_template(self) -> None:
        if self.row is None or self.busy:
            return
        if self.template_menu.isEmpty():
            self.note.setText("· шаблоны ещё загружаются")
            return
        where = self.template_button.mapToGlobal(self.template_button.rect().bottomLeft())
        self.template_menu.popup(where)
        self.template_menu.setActiveAction(self.template_menu.actions()[0])

    def _template_chosen(self, action: QAction) -> None:
        t = action.data()
        if isinstance(t, ConclusionTemplate):
            self.apply_template(t)

    def apply_template(self, t: ConclusionTemplate) -> None:
        """Put the template in both fields; typed text is replaced only when the user agrees."""
        if self.row is None:
            return
        if not any(s.strip() for s in self.texts()):
            self._insert_template(t)
            return
        box = replace_box(self, t.title)
        uid = self.study_uid
        self.confirm_box = box

        def decided(result: int) -> None:
            box.deleteLater()
            self.confirm_box = None
            if result == QMessageBox.StandardButton.Yes and uid == self.study_uid:
                self._insert_template(t)
            self._focus_later(self.findings)

        box.finished.connect(decided)
        box.open()

    def _insert_template(self, t: ConclusionTemplate) -> None:
        replace_text(self.findings, t.findings)
        replace_text(self.conclusion, t.conclusion)
        self._focus_later(self.findings)
        self.errors.clear()

    # --- saving ------------------------------------------------------------------------------
    def save_draft(self) -> None:
        """Ctrl+S: the draft to the database now."""
        if self.row is None or self.busy:
            return
        if not self.changed():
            self.note.setText("· изменений нет")
            return
        self._save(quiet=False)

    def autosave(self) -> None:
        """The timer's save: only when something changed, never while another call runs."""
        if self.row is None or self._conflict or not self.changed():
            return
        if self.busy:
            self._autosave.start()
            return
        self._save(quiet=True)

    def save_if_changed(self) -> None:
        """The screen is left: keep what was typed."""
        if not self.busy:
            self.autosave()

    def _save(self, *, quiet: bool) -> None:
        """The draft to the database; a study asked for meanwhile (``_pending``) opens after
        a success, and is given up after a failure: the text stays where it was typed."""
        row = self.row
        if row is None:
            return
        uid, version = row.study_uid, row.version_id
        findings, conclusion = self.texts()
        self._autosave.stop()
        self.errors.clear()
        self._set_busy(True)

        def done(stored: StudyRow) -> None:
            self._adopt(stored)
            self._saved = (findings, conclusion)  # a signed study shows its document's text
            if stored.status == ReadingStatus.SIGNED:
                self._corrections[uid] = self._saved
            self.note.setText(f"· черновик сохранён в {clock()}")
            if self.changed():  # typed while it was being saved
                self._autosave.start()
                self.note.setText(_UNSAVED)
            self.sig_draft_saved.emit(stored)
            self._set_busy(False)

        def failed(exc: BaseException) -> None:
            self._pending = None
            self._set_busy(False)
            if quiet and isinstance(exc, PeerUnavailable):
                self.note.setText(f"· черновик не сохранён: {exc}. Повторю через 30 с.")
                self._autosave.start()
                return
            self._refused(exc, retry=None if quiet else self.save_draft)

        run_for(
            self,
            self._runner,
            lambda: self._desk.save_draft(uid, findings, conclusion, version),
            on_success=done,
            on_failure=failed,
        )

    def _refused(self, exc: BaseException, retry: Callable[[], None] | None) -> None:
        """A refusal or a conflict: shown; the fields keep every character."""
        if isinstance(exc, ValidationErrors | ValidationError):
            errors = exc.errors if isinstance(exc, ValidationErrors) else [exc]
            self.errors.show(errors)
            w = self.errors.first_widget()
            if w is not None:
                self._focus(w)
            return
        if isinstance(exc, ConflictError):
            self._conflict = True
            self.conflict_bar.setText(
                "Заключение изменено в другом месте — ваш текст не сохранён, он остаётся в полях."
            )
            self._conflict_box.show()
        self._show_error(self, exc, retry)

    def take_stored(self) -> None:
        """After a conflict: the stored version into the fields, undoably, and its version."""
        row = self.row
        if row is None or self.busy:
            return
        uid = row.study_uid
        self._set_busy(True)

        def got(stored: StudyRow) -> None:
            self._set_busy(False)
            if uid != self.study_uid:
                return
            replace_text(self.findings, stored.findings)
            replace_text(self.conclusion, stored.conclusion)
            self._adopt(stored)
            self._conflict = False
            self._conflict_box.hide()
            self.errors.clear()
            self.note.setText("· взята сохранённая версия; Ctrl+Z в поле вернёт ваш текст")
            self._focus(self.findings)

        def failed(exc: BaseException) -> None:
            self._set_busy(False)
            self._show_error(self, exc, self.take_stored)

        run_for(self, self._runner, lambda: self._desk.get(uid), on_success=got, on_failure=failed)

    # --- signing -----------------------------------------------------------------------------
    def sign(self) -> None:
        """Ctrl+Enter: confirm and sign; a signed study is corrected with a reason."""
        row = self.row
        if row is None or self.busy:
            return
        self.errors.clear()
        blanks = blank_errors(*self.texts())
        if blanks:
            self.errors.show(blanks)
            first = self.findings if blanks[0].key == "findings" else self.conclusion
            self._focus(first)
            find_blank(first, QTextCursor(first.document()), backward=False)
            return
        if row.status == ReadingStatus.SIGNED:
            if self.texts() == (row.findings, row.conclusion):
                self.note.setText("· текст не изменён — исправлять нечего")
                return
            self._ask_reason(row)
            return
        box = sign_box(self, row)
        self.confirm_box = box
        uid = row.study_uid

        def decided(result: int) -> None:
            box.deleteLater()
            self.confirm_box = None
            self._focus_later(self.conclusion)
            if result == QMessageBox.StandardButton.Yes and uid == self.study_uid:
                self._sign("")

        box.finished.connect(decided)
        box.open()

    def _ask_reason(self, row: StudyRow) -> None:
        dlg = reason_dialog(self, row)
        self.reason_dialog = dlg
        uid = row.study_uid

        def decided(result: int) -> None:
            self.reason_dialog = None
            dlg.deleteLater()
            reason = dlg.textValue().strip()
            self._focus_later(self.conclusion)
            if result and reason and uid == self.study_uid:
                self._sign(reason)

        dlg.finished.connect(decided)
        dlg.open()

    def _sign(self, reason: str) -> None:
        row = self.row
        if row is None or self.busy:
            return
        uid, version = row.study_uid, row.version_id
        findings, conclusion = self.texts()
        self._autosave.stop()
        self._set_busy(True)

        def done(stored: StudyRow) -> None:
            if self.texts() == (findings, conclusion):  # nothing typed meanwhile
                self._loading = True
                try:
                    self.findings.setPlainText(stored.findings)
                    self.conclusion.setPlainText(stored.conclusion)
                finally:
                    self._loading = False
            self._adopt(stored)
            self._corrections.pop(uid, None)
            self.note.setText(f"· подписано в {clock()}, заключение в ЭМК пациента")
            self._set_busy(False)
            self.sig_signed.emit(stored)

        def failed(exc: BaseException) -> None:
            self._pending = None
            self._set_busy(False)
            self._refused(exc, retry=None)

        run_for(
            self,
            self._runner,
            lambda: self._desk.sign(uid, findings, conclusion, version, amend_reason=reason),
            on_success=done,
            on_failure=failed,
        )
