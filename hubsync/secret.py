"""A secret value (the access token) that never shows itself in a repr, a str(), a log line or a traceback."""

from __future__ import annotations

import re

# Token-shaped text, wherever it turns up (an error body, a URL, a log value): HubSpot private app tokens look like
# "pat-na1-1a2b3c4d-…"; also whatever follows "Bearer " and hapikey= (the legacy API key).
TOKEN_SHAPES = (
    re.compile(r"\bpat-[A-Za-z0-9-]+", re.IGNORECASE),
    re.compile(r"(?<=Bearer )[^\s'\",}]+", re.IGNORECASE),
    re.compile(r"(?<=hapikey=)[^\s&'\"]+", re.IGNORECASE),
)


def redact_tokens(text: str, replacement: str) -> str:
    for pattern in TOKEN_SHAPES:
        text = pattern.sub(replacement, text)
    return text


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value itself: call this only where it is sent to HubSpot."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)
