"""The 4 × 4 segment matrix as text, for status, the demo and the score command."""

from __future__ import annotations

from collections.abc import Mapping

from hubsync.scoring.segments import DIGITS, LETTERS


def segment_matrix(counts: Mapping[str, int], title: str = "contacts per segment") -> str:
    """The 4×4 matrix: rows are profile letters (A best fit), columns engagement digits (1 most engaged)."""
    width = max([5, *(len(f"{n:,}") for n in counts.values())])
    header = f"{'':>10}" + "".join(f"{d:>{width + 2}}" for d in DIGITS)
    lines = [
        f"{title} (letter = profile fit, digit = engagement; A1 best)",
        header + "   ← engagement (1 = most engaged)",
    ]
    for letter in LETTERS:
        cells = "".join(f"{counts.get(letter + d, 0):>{width + 2},}" for d in DIGITS)
        lines.append(f"{'profile ' + letter:>10}{cells}")
    lines.append(f"{'total':>10}{sum(counts.values()):>{width + 2},}")
    return "\n".join(lines)
