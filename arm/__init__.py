"""ARM — the polyclinic doctor's workstation (АРМ врача): the application shell."""

# The single source of the version (pyproject reads it); a constant, not importlib.metadata,
# because that lookup costs ~40 ms of every cold start.
__version__ = "0.1.0"
