"""The sign-in and lock screen, and the demo's card tray."""
