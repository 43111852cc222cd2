"""Qt views, dialogs and item models. No SQL, no sockets: everything goes through services/ via the task runner."""
