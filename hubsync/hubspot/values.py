"""Reading HubSpot values: ids, times and texts as HubSpot sends them, odd ones included. Pure, never raises.

An unparseable optional value becomes None; a record that cannot be used at all is a `Skip` naming the reason.
What comes out always fits the store: ids are 1 … 2**63 - 1 (a 64-bit BIGINT), and texts hold no character that
a database text column refuses (NUL, which PostgreSQL rejects; a lone UTF-16 surrogate, which no UTF-8 encoder
writes): those are removed on the way in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

# Below this an epoch number cannot be milliseconds of a plausible HubSpot time (it would be before 1973).
_MIN_EPOCH_MS: Final = 100_000_000_000
_MAX_EPOCH_MS: Final = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
# Ids are stored as 64-bit signed integers (BIGINT); HubSpot's ids start at 1.
MAX_ID: Final = 2**63 - 1
_UNSTORABLE: Final = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Skip:
    """A source record that was not mapped, and why."""

    reason: str
    source_id: str | None = None


# -- value parsing --------------------------------------------------------------------------------------------


def as_json(raw: Any) -> Mapping[str, Any]:
    """A record as HubSpot's JSON: dicts pass through, SDK models serialise to their wire keys."""
    if isinstance(raw, Mapping):
        return raw
    to_dict = getattr(raw, "to_dict", None)
    if callable(to_dict):
        try:
            converted = to_dict(serialize=True)
        except TypeError:
            # Models of other generator versions take no argument (and then use snake_case keys).
            converted = to_dict()
        if isinstance(converted, Mapping):
            return converted
    return {}


def parse_timestamp(value: Any) -> datetime | None:  # noqa: PLR0911 -- one return per input shape reads best
    """A UTC datetime from what HubSpot sends: ms epoch (int or digits), ISO 8601 with or without millis / 'Z',
    a date, or a datetime (SDK models). Anything else is None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float):
        return _from_epoch_ms(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if text.lstrip("-").isdigit():
        return _from_epoch_ms(int(text))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _from_epoch_ms(value: float) -> datetime | None:
    if not math.isfinite(value) or not _MIN_EPOCH_MS <= value <= _MAX_EPOCH_MS:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def parse_id(value: Any) -> int | None:
    """A HubSpot numeric id from an int or a string of digits; None for anything else ("", "abc", 0, -1, 1.5) and
    for a number beyond 64 bits, which no id column can hold (a record with such an id becomes a Skip)."""
    if isinstance(value, bool):
        return None
    number: int | None = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        number = int(value) if value.is_integer() else None
    elif isinstance(value, str):
        text = value.strip()
        # isdigit alone accepts other digits ("²", "١٢"): ids are ASCII. More than 19 significant digits is past 64
        # bits; not converting those spares int() a string of any length.
        ascii_digits = text.isascii() and text.isdigit()
        number = int(text) if ascii_digits and len(text.lstrip("0")) <= len(str(MAX_ID)) else None
    return number if number is not None and 1 <= number <= MAX_ID else None


def clean(value: str) -> str:
    """`value` without the characters a database text column refuses (NUL, lone surrogates)."""
    if value.isascii():
        return value.replace("\x00", "") if "\x00" in value else value
    return _UNSTORABLE.sub("", value)


def text(value: Any) -> str | None:
    if value is None:
        return None
    text = clean(value if isinstance(value, str) else str(value))
    return text if text.strip() else None


def properties_of(obj: Mapping[str, Any]) -> dict[str, str]:
    props = obj.get("properties")
    if not isinstance(props, Mapping):
        return {}
    # Properties HubSpot sends as null carry nothing; everything else is kept raw, as a string (cleaned).
    return {
        clean(str(key)): clean(value if isinstance(value, str) else str(value))
        for key, value in props.items()
        if value is not None
    }


def created_at(obj: Mapping[str, Any], props: Mapping[str, str], name: str = "createdate") -> datetime | None:
    """The create date: the property (`createdate`; `hs_createdate` on engagements), else the record's `createdAt`."""
    return parse_timestamp(props.get(name)) or parse_timestamp(obj.get("createdAt"))


def engagement_created_at(raw: Any) -> datetime | None:
    obj = as_json(raw)
    return created_at(obj, properties_of(obj), "hs_createdate")


def engagement_owner_id(raw: Any) -> int | None:
    """Who logged an engagement (its `hubspot_owner_id`), None when nobody is named."""
    return parse_id(properties_of(as_json(raw)).get("hubspot_owner_id"))


def nested(obj: Mapping[str, Any], *keys: str) -> Any:
    current: Any = obj
    for key in keys:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def id_text(obj: Mapping[str, Any], key: str = "id") -> str | None:
    return text(obj.get(key))
