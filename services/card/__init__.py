"""The doctor's smart card: its applet protocol, the host side, the PC/SC link and the emulator.

Qt-free.  ``apdu`` defines the applet; ``session`` speaks it over any ``transmit``;
``pcsc`` is the production link and the reader watcher; ``applet``/``vpcd``/``pcscd`` are the
virtual card and a private pcscd for tests and the demo.
"""
