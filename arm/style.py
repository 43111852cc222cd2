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
"""
