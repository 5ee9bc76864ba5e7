"""Sections of ``RESULTS.md`` written by other runs than ``run.py``, each between two markers:
the PostgreSQL run (``run.py``) rewrites the file and keeps them; each other run replaces only its
own. ``mariadb`` is ``benchmarks/mariadb.py``'s, ``peer`` is ``benchmarks/peer/run.py``'s (the
side-by-side with Prismiq)."""

from __future__ import annotations

import re
from pathlib import Path

BEGIN = "<!-- mariadb:begin -->"
END = "<!-- mariadb:end -->"
NAMES = ("mariadb", "peer")


def markers(name: str) -> tuple[str, str]:
    """The begin and end markers of section ``name``."""
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def _pattern(name: str) -> re.Pattern[str]:
    begin, end = markers(name)
    return re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", re.S)


def write_section(path: Path, section: str, name: str = "mariadb") -> None:
    """Replace section ``name`` of ``path`` with ``section`` (or append it); ``section``
    includes its markers."""
    text = path.read_text() if path.exists() else ""
    pattern = _pattern(name)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def kept_section(path: Path) -> str:
    """Every marked section of ``path``, each with a leading newline ("" when it has none)."""
    if not path.exists():
        return ""
    text = path.read_text()
    kept = ""
    for name in NAMES:
        found = _pattern(name).search(text)
        if found:
            kept += "\n" + found.group(0)
    return kept
