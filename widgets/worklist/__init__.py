"""The radiologist's worklist (issue «Рабочий список рентгенолога»).

``WorklistView`` is the screen: the period's studies and, beside them, the ``ConclusionEditor``
the radiologist types the description and conclusion in.  Modules: ``view`` the list and its
filters, ``conclusion`` the editor (templates, blanks, drafts, signing), ``model`` the rows;
``_text`` the editor's text helpers, ``_asks`` its three questions, ``_guard`` the background
calls that must not outlive their widget.
"""

from widgets.worklist.conclusion import AUTOSAVE_MS, ConclusionEditor
from widgets.worklist.view import WorklistView

__all__ = ["AUTOSAVE_MS", "ConclusionEditor", "WorklistView"]
