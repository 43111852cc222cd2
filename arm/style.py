"""The application's look: calm, dense, readable on a 1366×768 all-in-one."""

STYLE_SHEET = """
QWidget { font-size: 10.5pt; }
QLabel#cardTitle { font-size: 17pt; font-weight: 600; }
QLabel#cardSubtitle { color: #333; }
QLabel#fieldError { color: #b00020; font-size: 9.5pt; }
QLabel#banner { background: #fff4ce; border: 1px solid #e0c060; padding: 6px; }
QLabel#startupMessage { font-size: 12pt; }
QListWidget#nav { background: #f3f5f8; border: none; font-size: 11.5pt; }
QListWidget#nav::item { padding: 10px 14px; }
QListWidget#nav::item:selected { background: #dbe7f7; color: #0b3d91; }
QLineEdit#registrySearch { font-size: 13pt; padding: 5px; }
QTableView { gridline-color: #e3e3e3; }
QTableView::item:selected { background: #cfe0f7; color: black; }
QGroupBox { font-weight: 600; }
QLabel#scheduleDate { font-size: 12.5pt; font-weight: 600; padding: 0 6px; }
QLabel#scheduleCounters { color: #3c4a58; }
QLabel#panelTitle { font-weight: 600; padding: 2px 0; }
QToolButton { padding: 3px 6px; }
QToolButton:disabled { color: #9aa5b1; }
QWidget#gate { background: #e9edf2; }
QFrame#gatePanel { background: white; border: 1px solid #c9d2dc; border-radius: 6px; }
QLabel#gateProduct { color: #5a6b7d; font-size: 10pt; }
QLabel#gateHeadline { font-size: 18pt; font-weight: 600; color: #0b3d91; }
QLabel#gateDetail { font-size: 11.5pt; }
QLabel#gateWho { font-size: 12.5pt; }
QLineEdit#gatePin { font-size: 14pt; padding: 4px; }
QLabel#gateError { color: #b00020; font-size: 11.5pt; }
QLabel#gateReaders { color: #5a6b7d; font-size: 9.5pt; border-top: 1px solid #e3e3e3;
                     padding-top: 8px; }
"""
