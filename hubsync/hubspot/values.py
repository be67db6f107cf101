"""Reading HubSpot values: ids, times and texts as HubSpot sends them, odd ones included. Pure, never raises.

An unparseable optional value becomes None; a record that cannot be used at all is a `Skip` naming the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

# Below this an epoch number cannot be milliseconds of a plausible HubSpot time (it would be before 1973).
_MIN_EPOCH_MS: Final = 100_000_000_000
_MAX_EPOCH_MS: Final = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


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
    """A HubSpot numeric id from an int or a string of digits; None for anything else ("", "abc", -1, 1.5)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value >= 0 else None
    if isinstance(value, str):
        text = value.strip()
        return int(text) if text.isdigit() else None
    return None


def text(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if text.strip() else None


def properties_of(obj: Mapping[str, Any]) -> dict[str, str]:
    props = obj.get("properties")
    if not isinstance(props, Mapping):
        return {}
    # Properties HubSpot sends as null carry nothing; everything else is kept raw, as a string.
    return {
        str(key): value if isinstance(value, str) else str(value) for key, value in props.items() if value is not None
    }


def created_at(obj: Mapping[str, Any], props: Mapping[str, str], name: str = "createdate") -> datetime | None:
    """The create date: the property (`createdate`; `hs_createdate` on engagements), else the record's `createdAt`."""
    return parse_timestamp(props.get(name)) or parse_timestamp(obj.get("createdAt"))


def engagement_created_at(raw: Any) -> datetime | None:
    obj = as_json(raw)
    return created_at(obj, properties_of(obj), "hs_createdate")


def nested(obj: Mapping[str, Any], *keys: str) -> Any:
    current: Any = obj
    for key in keys:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def id_text(obj: Mapping[str, Any], key: str = "id") -> str | None:
    return text(obj.get(key))
