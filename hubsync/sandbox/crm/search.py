"""CRM search: filter groups, operators, one sort, `after` as an offset, and HubSpot's limits on all of them."""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

from hubsync.sandbox import responses, schema
from hubsync.sandbox.crm.answers import object_json, prop_value
from hubsync.sandbox.crm.parsing import is_number, name_list, object_type, to_ms
from hubsync.sandbox.responses import Reply

if TYPE_CHECKING:
    from collections.abc import Callable

    from hubsync.sandbox.catalog import PropertyDef
    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.records import CrmObject
    from hubsync.sandbox.routing import Request

SEARCH_MAX = 200
SEARCH_RESULTS_MAX = 10_000
SEARCH_GROUPS_MAX = 5
SEARCH_FILTERS_PER_GROUP_MAX = 6
SEARCH_FILTERS_MAX = 18

_OPERATORS = frozenset(
    {
        "EQ",
        "NEQ",
        "LT",
        "LTE",
        "GT",
        "GTE",
        "BETWEEN",
        "IN",
        "NOT_IN",
        "HAS_PROPERTY",
        "NOT_HAS_PROPERTY",
        "CONTAINS_TOKEN",
        "NOT_CONTAINS_TOKEN",
    }
)
_QUERY_PROPERTIES = ("email", "firstname", "lastname", "name", "domain", "dealname", "hs_task_subject", "phone")


def search(portal: Portal, req: Request) -> Reply:
    t = object_type(portal, req)
    body = req.json_object()
    limit = _int_field(body, "limit", 10)
    if limit > SEARCH_MAX or limit < 0:
        raise responses.validation(
            f"limit must be between 0 and {SEARCH_MAX}, got {limit}", sub_category="LIMIT_EXCEEDED"
        )
    offset = _int_field(body, "after", 0)
    if offset >= SEARCH_RESULTS_MAX:
        raise responses.validation(
            f"The search API returns at most {SEARCH_RESULTS_MAX} results per query; after={offset} is past it.",
            sub_category="SEARCH_RESULTS_LIMIT_EXCEEDED",
        )
    catalog = portal.catalogs[t].properties
    groups = _filter_groups(body, catalog)
    sort_key = _sort(body, catalog)
    query = str(body.get("query") or "").lower()
    names = name_list(body.get("properties"))
    tests = [[_compile(t, f, catalog) for f in group] for group in groups]
    with portal.lock:
        indexed = (portal.search_version(t, o) for o in portal.stores[t].by_id.values() if o.archived_at is None)
        matches = [
            o
            for o in indexed
            if o is not None
            and (not tests or any(all(test(o) for test in group) for group in tests))
            and (not query or _query_matches(t, o, query))
        ]
        if sort_key is None:
            matches.sort(key=lambda o: o.id)
        else:
            name, descending = sort_key
            dated = catalog[name].type in ("date", "datetime", "number") if name in catalog else False
            matches.sort(key=lambda o: o.id)
            matches.sort(key=lambda o: _sortable(t, o, name, dated=dated), reverse=descending)
        end = min(offset + limit, SEARCH_RESULTS_MAX, len(matches))
        results = [object_json(portal, t, o, names) for o in matches[offset:end]]
    body_out: dict[str, Any] = {"total": len(matches), "results": results}
    if end < len(matches):
        body_out["paging"] = {"next": {"after": str(end)}}
    return Reply(200, body_out)


def _int_field(body: dict[str, Any], name: str, default: int) -> int:
    raw = body.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise responses.validation(f"Unable to parse {name}={raw!r}") from None


def _filter_groups(body: dict[str, Any], catalog: dict[str, PropertyDef]) -> list[list[dict[str, Any]]]:
    """The request's filter groups (any one must match); a top-level `filters` list is one more group, its filters
    ANDed, as HubSpot takes it."""
    groups = body.get("filterGroups") or []
    top = body.get("filters") or []
    if not isinstance(groups, list) or not isinstance(top, list):
        raise responses.validation("filterGroups and filters must be lists")
    filters = [g.get("filters") or [] if isinstance(g, dict) else [] for g in groups]
    if top:
        groups, filters = [*groups, {"filters": top}], [*filters, top]
    if (
        len(groups) > SEARCH_GROUPS_MAX
        or any(len(f) > SEARCH_FILTERS_PER_GROUP_MAX for f in filters)
        or (sum(len(f) for f in filters) > SEARCH_FILTERS_MAX)
    ):
        raise responses.validation(
            f"Too many filters: at most {SEARCH_GROUPS_MAX} filterGroups with at most "
            f"{SEARCH_FILTERS_PER_GROUP_MAX} filters each and {SEARCH_FILTERS_MAX} filters in all are allowed.",
            sub_category="TOO_MANY_FILTERS",
        )
    for group in filters:
        for f in group:
            if not isinstance(f, dict) or f.get("operator") not in _OPERATORS:
                raise responses.validation(f"Invalid filter {f!r}: unknown operator")
            if f.get("propertyName") not in catalog:
                raise responses.validation(f"Invalid filter: property {f.get('propertyName')!r} does not exist")
    return [g for g in filters if g]


def _sort(body: dict[str, Any], catalog: dict[str, PropertyDef]) -> tuple[str, bool] | None:
    sorts = body.get("sorts") or []
    if not isinstance(sorts, list):
        raise responses.validation("sorts must be a list")
    if len(sorts) > 1:
        raise responses.validation("Only one sort is allowed per search request")
    if not sorts:
        return None
    first = sorts[0]
    if isinstance(first, str):
        name, descending = first.lstrip("-"), first.startswith("-")
    elif isinstance(first, dict):
        name, descending = str(first.get("propertyName")), first.get("direction") == "DESCENDING"
    else:
        raise responses.validation(f"Invalid sort {first!r}")
    if name not in catalog:
        raise responses.validation(f"Invalid sort: property {name!r} does not exist")
    return name, descending


def _sortable(t: str, obj: CrmObject, name: str, *, dated: bool) -> tuple[int, float, str]:
    if dated:
        number = _numeric(t, obj, name)
        return (1, 0.0, "") if number is None else (0, number, "")
    value = prop_value(t, obj, name)
    return (1, 0.0, "") if value is None else (0, 0.0, value.lower())


def _numeric(t: str, obj: CrmObject, name: str) -> float | None:
    """A number or date property as a number; the built-in ones straight from the record (search runs hot)."""
    if name == "hs_object_id":
        return float(obj.id)
    if name == schema.modified_property(t):
        return float(obj.updated)
    if name in ("createdate", "hs_createdate") and name in (schema.created_property(t), "hs_createdate"):
        return float(obj.created)
    value = obj.props.get(name)
    return None if value is None else _number(value)


def _number(value: str) -> float | None:
    ms = to_ms(value)
    if ms is not None and not is_number(value):
        return float(ms)
    try:
        return float(value)
    except ValueError:
        return None if ms is None else float(ms)


def _compile(t: str, f: dict[str, Any], catalog: dict[str, PropertyDef]) -> Callable[[CrmObject], bool]:
    """One filter as a test on a record; values are parsed once per request, not once per record."""
    name, op = str(f["propertyName"]), str(f["operator"])
    if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        wanted = op == "HAS_PROPERTY"
        return lambda o: (prop_value(t, o, name) not in (None, "")) == wanted
    missing = op in ("NEQ", "NOT_IN", "NOT_CONTAINS_TOKEN")
    if op in ("IN", "NOT_IN"):
        values = {str(v).lower() for v in f.get("values") or []}
        inside = op == "IN"

        def test_in(o: CrmObject) -> bool:
            value = prop_value(t, o, name)
            return missing if value is None else (value.lower() in values) == inside

        return test_in
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(f.get("value", "")).lower().strip("*")
        contains = op == "CONTAINS_TOKEN"

        def test_token(o: CrmObject) -> bool:
            value = prop_value(t, o, name)
            return missing if value is None else (token in value.lower()) == contains

        return test_token
    if catalog[name].type in ("number", "date", "datetime"):
        right = _number(str(f.get("value", "")))
        high = _number(str(f.get("highValue", ""))) if op == "BETWEEN" else None

        def test_number(o: CrmObject) -> bool:
            left = _numeric(t, o, name)
            if left is None:
                return missing
            return op == "NEQ" if right is None else _compare(op, left, right, high)

        return test_number
    text, high_text = str(f.get("value", "")).lower(), str(f.get("highValue", "")).lower()

    def test_text(o: CrmObject) -> bool:
        value = prop_value(t, o, name)
        return missing if value is None else _compare(op, value.lower(), text, high_text)

    return test_text


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "EQ": operator.eq,
    "NEQ": operator.ne,
    "LT": operator.lt,
    "LTE": operator.le,
    "GT": operator.gt,
    "GTE": operator.ge,
}


def _compare(op: str, left: Any, right: Any, high: Any) -> bool:
    if op == "BETWEEN":  # inclusive at both ends, as HubSpot's is
        return high is not None and bool(right <= left <= high)
    return bool(_COMPARISONS[op](left, right))


def _query_matches(t: str, obj: CrmObject, query: str) -> bool:
    return any(query in (prop_value(t, obj, n) or "").lower() for n in _QUERY_PROPERTIES)
