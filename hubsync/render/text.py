"""Small pieces of text every rendering shares: one number format, a count with its noun, a text cut to a width."""

from __future__ import annotations

from typing import Final

ELLIPSIS: Final = "…"


def number(n: int) -> str:
    """Every count hubsync prints, with thousands separators: 1,968."""
    return f"{n:,}"


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """A count with its noun: "1 company", "2,080 contacts"."""
    return f"{number(n)} {singular if n == 1 else plural or singular + 's'}"


def shorten(text: str, width: int) -> str:
    """`text` on one line within `width` characters: cut after a whole item (", " or "; "), else after a whole word,
    and marked with "…"; a single word longer than the width is cut inside. Line breaks become spaces; other
    spacing (an indentation, aligned columns) is kept."""
    flat = " ".join(line.strip() for line in text.splitlines()) if "\n" in text else text
    if len(flat) <= width:
        return flat
    limit = max(width - 2, 1)  # room for " …"
    indent = len(flat) - len(flat.lstrip())
    for separator in (", ", "; ", " "):
        # The separator may begin at the limit: what comes before it still fits.
        at = flat.rfind(separator, indent, limit + len(separator))
        if at >= max(width // 3, indent + 1):
            return f"{flat[:at].rstrip()} {ELLIPSIS}"
    return flat[: width - 1] + ELLIPSIS
