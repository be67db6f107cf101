"""What a CRM request sends: object types, ids, dates, batch inputs, and the property values a write carries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hubsync.sandbox import responses, schema
from hubsync.sandbox.responses import ApiError, iso

if TYPE_CHECKING:
    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.routing import Request

BATCH_MAX = 100


def object_type(portal: Portal, req: Request, key: str = "objectType") -> str:
    raw = req.params[key]
    resolved = schema.TYPE_ALIASES.get(raw)
    if resolved is None:
        raise ApiError(responses.error(400, "VALIDATION_ERROR", f"Unable to infer object type from: {raw}"))
    del portal
    return resolved


def to_ms(value: str) -> int | None:
    """A HubSpot date value: milliseconds since the epoch, an ISO instant, or a date."""
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def parse_id(raw: object) -> int | None:
    text = str(raw)
    return int(text) if text.isdigit() else None


def property_errors(  # noqa: C901  # one branch per HubSpot validation rule reads best as one list
    portal: Portal, object_type: str, props: dict[str, Any]
) -> list[dict[str, Any]]:
    """HubSpot's per-property validation results for a write (empty when every value is acceptable)."""
    catalog = portal.catalogs[object_type].properties
    problems: list[dict[str, Any]] = []
    for name, raw in props.items():
        value = "" if raw is None else str(raw)
        definition = catalog.get(name)
        code, message = "", ""
        if definition is None:
            code, message = "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'
        elif definition.read_only and name != "hs_timestamp":
            code, message = "READ_ONLY_VALUE", f'"{name}" is a read only property; its value cannot be set.'
        elif value == "":
            continue
        elif definition.type == "number" and not is_number(value):
            code, message = "INVALID_FLOAT", f"{value} was not a valid number."
        elif definition.type in ("date", "datetime") and to_ms(value) is None:
            code, message = "INVALID_DATE", f"{value} was not a valid long or ISO 8601 date."
        elif definition.type == "bool" and value.lower() not in ("true", "false"):
            code, message = "INVALID_BOOLEAN", f"{value} was not a valid boolean."
        elif definition.type == "enumeration" and definition.external_options:
            if name == "hubspot_owner_id" and (not value.isdigit() or portal.owner(int(value)) is None):
                code, message = "INVALID_OWNER_ID", f"{value} is not a valid owner id"
        elif definition.type == "enumeration" and definition.options:
            bad = [part for part in value.split(";") if part not in definition.options]
            if bad:
                code = "INVALID_OPTION"
                message = f"{bad[0]} was not one of the allowed options: [{', '.join(definition.options)}]"
        if code:
            problems.append(
                {"isValid": False, "message": message, "error": code, "name": name, "localizedErrorMessage": message}
            )
    return problems


def is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def normalise(portal: Portal, object_type: str, props: dict[str, Any]) -> dict[str, str | None]:
    """Values as HubSpot stores them: strings, dates as ISO instants."""
    catalog = portal.catalogs[object_type].properties
    out: dict[str, str | None] = {}
    for name, raw in props.items():
        value = None if raw is None else str(raw)
        definition = catalog.get(name)
        if value and definition is not None and definition.type in ("date", "datetime"):
            ms = to_ms(value)
            value = iso(ms) if ms is not None else value
        out[name] = value
    return out


def invalid_properties(problems: list[dict[str, Any]]) -> str:
    return "Property values were not valid: " + json.dumps(problems, separators=(",", ":"), ensure_ascii=False)


def batch_inputs(req: Request, maximum: int = BATCH_MAX) -> list[Any]:
    inputs = req.json_object().get("inputs")
    if not isinstance(inputs, list):
        raise responses.validation("Invalid input JSON: inputs is required")
    if len(inputs) > maximum:
        raise responses.validation(
            f"Batch input size ({len(inputs)}) exceeds the maximum of {maximum}", sub_category="BATCH_TOO_LARGE"
        )
    return inputs


def name_list(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return []
