"""The DICOM study viewer (issue 8): one patient's study, progressively loaded.

``StudyViewer`` is the widget; ``ViewerSubject`` says whom it is opened for.  Modules:
``viewer`` the widget and its keys, ``canvas`` the slice painter (zoom, pan, ruler, overlay),
``series_strip`` the thumbnails, ``state`` the Qt-free stacks and the patient check,
``loader`` the I/O-lane feeding, ``decode`` the work function.
"""

from widgets.viewer.canvas import SliceCanvas, Tool
from widgets.viewer.state import DEFAULT_PIXEL_BUDGET, ViewerSubject
from widgets.viewer.viewer import PRESET_KEYS, StudyViewer, fmt_window

__all__ = [
    "DEFAULT_PIXEL_BUDGET",
    "PRESET_KEYS",
    "SliceCanvas",
    "StudyViewer",
    "Tool",
    "ViewerSubject",
    "fmt_window",
]
