"""A small scanner that splits compiled SQL into quoted identifiers, string literals and words.

Used by the property tests to prove that compiled SQL contains nothing from the request except
catalog identifiers and validated output aliases (as quoted identifiers).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Scan:
    identifiers: list[str] = field(default_factory=list)
    literals: list[str] = field(default_factory=list)
    rest: list[str] = field(default_factory=list)  # text outside quotes, split on whitespace


def scan(sql: str) -> Scan:
    """Split ``sql`` (with ``%%``-escaped percent signs) into its parts; raise on bad quoting."""
    out = Scan()
    i = 0
    plain: list[str] = []
    while i < len(sql):
        ch = sql[i]
        if ch == '"':
            j = i + 1
            buf: list[str] = []
            while True:
                if j >= len(sql):
                    raise ValueError("unterminated identifier")
                if sql[j] == '"':
                    if j + 1 < len(sql) and sql[j + 1] == '"':
                        buf.append('"')
                        j += 2
                        continue
                    break
                buf.append(sql[j])
                j += 1
            text = "".join(buf)
            if "%" in text.replace("%%", ""):
                raise ValueError("undoubled % in identifier")
            out.identifiers.append(text.replace("%%", "%"))
            plain.append(" ")
            i = j + 1
        elif ch == "'":
            j = sql.index("'", i + 1)
            out.literals.append(sql[i + 1 : j])
            plain.append(" ")
            i = j + 1
        else:
            plain.append(ch)
            i += 1
    out.rest = "".join(plain).replace("(", " ( ").replace(")", " ) ").replace(",", " , ").split()
    return out
