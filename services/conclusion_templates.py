"""Templates for the radiologist's description and conclusion (``resources/conclusions``).

A template is a starting text the radiologist edits; the blanks are ``___``, which the editor
selects one after another (F3), so nothing left unfilled reaches the record unnoticed.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources

__all__ = ["BLANK", "ConclusionTemplate", "templates", "templates_for"]

BLANK = "___"


@dataclass(frozen=True)
class ConclusionTemplate:
    title: str
    modalities: tuple[str, ...]
    findings: str
    conclusion: str


@functools.cache
def templates() -> tuple[ConclusionTemplate, ...]:
    text = resources.files("resources").joinpath("conclusions/templates.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return tuple(
        ConclusionTemplate(
            str(t["title"]),
            tuple(str(m) for m in t.get("modality", ())),
            str(t["findings"]).strip(),
            str(t["conclusion"]).strip(),
        )
        for t in data.get("template", [])
    )


def templates_for(modality: str) -> list[ConclusionTemplate]:
    """Templates of the study's modalities first (``"CT\\SR"`` → CT's), then the rest."""
    mods = set(modality.split("\\")) - {""}
    every = templates()
    mine = [t for t in every if mods & set(t.modalities)]
    return mine + [t for t in every if t not in mine]
