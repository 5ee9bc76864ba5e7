"""The MariaDB section of ``RESULTS.md`` (``benchmarks/mariadb.py``), between two markers: the
PostgreSQL run (``run.py``) rewrites the file and keeps it; the MariaDB run replaces only it."""

from __future__ import annotations

import re
from pathlib import Path

BEGIN = "<!-- mariadb:begin -->"
END = "<!-- mariadb:end -->"
_SECTION = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", re.S)


def write_section(path: Path, section: str) -> None:
    """Replace the MariaDB section of ``path`` with ``section`` (or append it)."""
    text = path.read_text() if path.exists() else ""
    if _SECTION.search(text):
        text = _SECTION.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def kept_section(path: Path) -> str:
    """The MariaDB section of ``path`` with a leading newline ("" when it has none)."""
    if not path.exists():
        return ""
    found = _SECTION.search(path.read_text())
    return "\n" + found.group(0) if found else ""
