"""Reading HubSpot's free-text property values. Nothing here raises: what cannot be read is unknown (None).

Numbers arrive as "1000", "1,000", "1.000" (German thousands), "1 000", "1'000" (Swiss), "10000+", "50-100",
"ca. 200", or "" and "abc". A range counts as its lower bound: it is what the data supports for certain, and
it maps size brackets such as "51-200" or "1001-5000" onto the bracket they name.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

_NUMBER = r"\d+(?:[.,' \u00a0\u202f]\d+)*"
_VALUE = re.compile(
    rf"(?:ca\.?|approx\.?|about|~|>|>=|≥)?\s*(?P<neg>-)?(?P<low>{_NUMBER})"
    rf"(?:\s*(?:-|\u2013|\u2014|to|bis)\s*(?P<high>{_NUMBER}))?\s*\+?",
    re.IGNORECASE,
)
_GROUPED = re.compile(r"\d{1,3}(?:([.,' \u00a0\u202f])\d{3})(?:\1\d{3})*")


@lru_cache(maxsize=4096)
def parse_number(text: str | None) -> float | None:
    if text is None:
        return None
    found = _VALUE.fullmatch(text.strip())
    if found is None:
        return None
    value = _plain_number(found["low"])
    if value is None or (found["neg"] and found["high"]):
        return None
    value = -value if found["neg"] else value
    return value if math.isfinite(value) else None


def _plain_number(text: str) -> float | None:
    if _GROUPED.fullmatch(text):
        # One separator kind between groups of three digits: thousands ("1,000", "1.000", "1 000").
        return float(re.sub(r"\D", "", text))
    separators = re.sub(r"\d", "", text)
    if not separators:
        return float(text)
    if len(separators) == 1 and separators in ".,":
        # One decimal separator, English or German: "2.5", "2,5".
        return float(text.replace(",", "."))
    if len(separators) >= 2 and separators[-1] in ".," and len(set(separators[:-1])) == 1:  # noqa: PLR2004  (a thousands mark plus a decimal mark)
        # "1.234,5" or "1,234.5": the last separator is the decimal mark, the others group thousands.
        whole, _, fraction = text.rpartition(separators[-1])
        return float(re.sub(r"\D", "", whole) + "." + fraction)
    return None


def email_domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.rpartition("@")[2].strip().lower() or None


def web_domain(domain: str | None) -> str | None:
    """'https://www.Example.com/path' or 'example.com' -> 'example.com'."""
    if not domain:
        return None
    host = domain.strip().lower()
    host = host.split("://", 1)[-1].split("/", 1)[0]
    host = host.removeprefix("www.")
    return host or None
