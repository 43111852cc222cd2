"""Studies on screen: the EMK's «Исследования» tab and a study's viewer window."""
