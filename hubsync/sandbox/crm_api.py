"""CRM endpoints: objects (list, read, create, update, archive, batch, search), properties, owners, associations."""

from __future__ import annotations

import functools
import json
import operator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hubsync.sandbox import responses, schema
from hubsync.sandbox.portal import CrmObject, Portal
from hubsync.sandbox.responses import ApiError, Reply, iso
from hubsync.sandbox.routing import Request, Route

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

LIST_MAX = 100
LIST_WITH_HISTORY_MAX = 50
BATCH_MAX = 100
BATCH_WITH_HISTORY_MAX = 50
SEARCH_MAX = 200
SEARCH_RESULTS_MAX = 10_000
SEARCH_GROUPS_MAX = 5
SEARCH_FILTERS_PER_GROUP_MAX = 6
SEARCH_FILTERS_MAX = 18
ASSOCIATION_BATCH_MAX = 1000
OWNERS_MAX = 100

# ---- shared helpers -----------------------------------------------------------------------------------------


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


def prop_value(object_type: str, obj: CrmObject, name: str) -> str | None:
    if name == "hs_object_id":
        return str(obj.id)
    if name in ("createdate", "hs_createdate") and name in (schema.created_property(object_type), "hs_createdate"):
        return iso(obj.created)
    if name == schema.modified_property(object_type):
        return iso(obj.updated)
    return obj.props.get(name)


@functools.lru_cache(maxsize=256)
def _wanted(object_type: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """The properties an answer carries: those asked for (or the defaults) plus the three HubSpot always adds."""
    wanted = list(names) if names else list(schema.DEFAULT_LIST_PROPERTIES[object_type])
    for always in ("hs_object_id", schema.created_property(object_type), schema.modified_property(object_type)):
        if always not in wanted:
            wanted.append(always)
    return tuple(wanted)


def object_json(
    portal: Portal,
    object_type: str,
    obj: CrmObject,
    names: Sequence[str],
    *,
    history: Sequence[str] = (),
    associations: Sequence[str] = (),
) -> dict[str, Any]:
    # Lists serve thousands of records a second: the computed values are made once per record, not per name.
    created, updated = iso(obj.created), iso(obj.updated)
    computed = {
        "hs_object_id": str(obj.id),
        "hs_createdate": created,
        schema.created_property(object_type): created,
        schema.modified_property(object_type): updated,
    }
    get = obj.props.get
    out: dict[str, Any] = {
        "id": computed["hs_object_id"],
        "properties": {n: computed[n] if n in computed else get(n) for n in _wanted(object_type, tuple(names))},
        "createdAt": created,
        "updatedAt": updated,
        "archived": obj.archived_at is not None,
    }
    if obj.archived_at is not None:
        out["archivedAt"] = iso(obj.archived_at)
    if history:
        out["propertiesWithHistory"] = {
            n: [{"value": v, "timestamp": iso(obj.updated), "sourceType": "CRM_UI"}]
            for n in history
            if (v := prop_value(object_type, obj, n)) is not None
        }
    if associations:
        linked: dict[str, Any] = {}
        for to_raw in associations:
            to_type = schema.TYPE_ALIASES.get(to_raw)
            if to_type is None or (object_type, to_type) not in schema.ASSOCIATION_TYPES:
                continue
            results = [
                {"id": str(to_id), "type": _v3_type_name(object_type, to_type, label)}
                for to_id in portal.assoc.of(object_type, obj.id, to_type)
                for _, label in portal.assoc.type_ids(object_type, obj.id, to_type, to_id)
            ]
            if results:
                linked[to_type] = {"results": results}
        if linked:
            out["associations"] = linked
    return out


def _v3_type_name(from_type: str, to_type: str, label: str | None) -> str:
    base = f"{schema.SINGULAR[from_type]}_to_{schema.SINGULAR[to_type]}"
    return base if label == "Primary" else f"{base}_unlabeled"


def paging(after: str | None, path: str) -> dict[str, Any]:
    if after is None:
        return {}
    return {"paging": {"next": {"after": after, "link": f"https://api.hubapi.com{path}?after={after}"}}}


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
        elif definition.type == "number" and not _is_number(value):
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


def _is_number(value: str) -> bool:
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


def batch_error(category: str, message: str, context: dict[str, list[str]], code: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "error",
        "category": category,
        "message": message,
        "context": context,
        "errors": [],
        "links": {},
    }
    if code is not None:
        body["errors"] = [{"message": message, "code": code, "context": context}]
    return body


def batch_reply(portal: Portal, results: list[dict[str, Any]], errors: list[dict[str, Any]], ok: int) -> Reply:
    stamp = iso(portal.now)
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": stamp, "completedAt": stamp}
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
        return Reply(207, body)
    return Reply(ok, body)


def batch_inputs(req: Request, maximum: int = BATCH_MAX) -> list[Any]:
    inputs = req.json_object().get("inputs")
    if not isinstance(inputs, list):
        raise responses.validation("Invalid input JSON: inputs is required")
    if len(inputs) > maximum:
        raise responses.validation(
            f"Batch input size ({len(inputs)}) exceeds the maximum of {maximum}", sub_category="BATCH_TOO_LARGE"
        )
    return inputs


def _names(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


# ---- objects ------------------------------------------------------------------------------------------------


def list_objects(portal: Portal, req: Request) -> Reply:
    t = object_type(portal, req)
    history = req.q_list("propertiesWithHistory")
    limit = req.q_int("limit", 10, LIST_WITH_HISTORY_MAX if history else LIST_MAX)
    raw_after = req.q("after")
    after = 0
    if raw_after:
        parsed = parse_id(raw_after)
        if parsed is None:
            raise responses.validation(f"Unable to parse after={raw_after!r}")
        after = parsed
    names, assoc = req.q_list("properties"), req.q_list("associations")
    with portal.lock:
        page, following = portal.stores[t].page(after, limit, archived=req.q_bool("archived"))
        results = [object_json(portal, t, o, names, history=history, associations=assoc) for o in page]
    return Reply(200, {"results": results, **paging(None if following is None else str(following), req.path)})


def get_object(portal: Portal, req: Request) -> Reply:
    t = object_type(portal, req)
    with portal.lock:
        obj = _find(portal, t, req.params["objectId"], req.q("idProperty"), archived=req.q_bool("archived"))
        return Reply(
            200,
            object_json(
                portal,
                t,
                obj,
                req.q_list("properties"),
                history=req.q_list("propertiesWithHistory"),
                associations=req.q_list("associations"),
            ),
        )


def _find(portal: Portal, t: str, raw: str, id_property: str | None, *, archived: bool = False) -> CrmObject:
    store = portal.stores[t]
    if id_property and id_property != "hs_object_id":
        for obj in store.by_id.values():
            if obj.props.get(id_property) == raw and (obj.archived_at is not None) == archived:
                return obj
        raise responses.not_found()
    object_id = parse_id(raw)
    if object_id is None:
        raise responses.not_found()
    if t == schema.CONTACTS:
        object_id = portal.resolve_contact(object_id)
    found = store.get(object_id, archived=archived)
    if found is None:
        raise responses.not_found()
    return found


def _associations_for_create(portal: Portal, t: str, specs: object) -> list[tuple[str, int]]:
    if specs is None:
        return []
    if not isinstance(specs, list):
        raise responses.validation("associations must be a list")
    by_type_id = {ids[0]: to for (frm, to), ids in schema.ASSOCIATION_TYPES.items() if frm == t}
    by_type_id.update({ids[1]: to for (frm, to), ids in schema.ASSOCIATION_TYPES.items() if frm == t and ids[1]})
    out: list[tuple[str, int]] = []
    for spec in specs:
        to_id = parse_id((spec.get("to") or {}).get("id", "")) if isinstance(spec, dict) else None
        types = spec.get("types") if isinstance(spec, dict) else None
        if to_id is None or not isinstance(types, list) or not types:
            raise responses.validation("Each association needs to.id and types")
        for kind in types:
            to_type = by_type_id.get(int(kind.get("associationTypeId", -1))) if isinstance(kind, dict) else None
            if to_type is None or kind.get("associationCategory") != "HUBSPOT_DEFINED":
                raise responses.validation(
                    f"{kind} is not a valid association type for {t}", sub_category="crm.associations.INVALID_TYPE"
                )
            if portal.stores[to_type].get(to_id) is None:
                raise responses.validation(f"No {to_type} with id {to_id} exists", sub_category="OBJECT_NOT_FOUND")
            out.append((to_type, to_id))
    return out


def _create_one(portal: Portal, t: str, item: dict[str, Any]) -> CrmObject:
    props = item.get("properties")
    if not isinstance(props, dict):
        raise responses.validation("properties is required")
    problems = property_errors(portal, t, props)
    if t in schema.ENGAGEMENT_TYPES and not props.get("hs_timestamp"):
        message = "hs_timestamp is required"
        problems.append(
            {
                "isValid": False,
                "message": message,
                "error": "REQUIRED_PROPERTY",
                "name": "hs_timestamp",
                "localizedErrorMessage": message,
            }
        )
    if problems:
        raise responses.validation(invalid_properties(problems))
    links = _associations_for_create(portal, t, item.get("associations"))
    values = {k: v for k, v in normalise(portal, t, props).items() if v is not None and v != ""}
    return portal.create(t, values, associations=links)


def create_object(portal: Portal, req: Request) -> Reply:
    t = object_type(portal, req)
    with portal.lock:
        obj = _create_one(portal, t, req.json_object())
        return Reply(201, object_json(portal, t, obj, list(req.json_object()["properties"])))


def update_object(portal: Portal, req: Request) -> Reply:
    t = object_type(portal, req)
    props = req.json_object().get("properties")
    if not isinstance(props, dict):
        raise responses.validation("properties is required")
    with portal.lock:
        obj = _find(portal, t, req.params["objectId"], req.q("idProperty"))
        problems = property_errors(portal, t, props)
        if problems:
            raise responses.validation(invalid_properties(problems))
        portal.update(t, obj.id, normalise(portal, t, props))
        return Reply(200, object_json(portal, t, obj, list(props)))


def archive_object(portal: Portal, req: Request) -> Reply:
    t = object_type(portal, req)
    with portal.lock:
        object_id = parse_id(req.params["objectId"])
        if object_id is not None and portal.stores[t].get(object_id) is not None:
            portal.archive(t, object_id)
    return Reply(204)


def merge_contacts(portal: Portal, req: Request) -> Reply:
    body = req.json_object()
    primary, merged = parse_id(body.get("primaryObjectId", "")), parse_id(body.get("objectIdToMerge", ""))
    if primary is None or merged is None:
        raise responses.validation("primaryObjectId and objectIdToMerge are required")
    with portal.lock:
        for object_id in (primary, merged):
            if portal.stores[schema.CONTACTS].get(object_id) is None:
                raise responses.not_found(f"Contact {object_id} does not exist")
        if primary == merged:
            raise responses.validation("A contact cannot be merged with itself")
        survivor = portal.merge(primary, merged)
        return Reply(200, object_json(portal, schema.CONTACTS, survivor, ["email", "hs_merged_object_ids"]))


def batch_read(portal: Portal, req: Request) -> Reply:
    t = object_type(portal, req)
    body = req.json_object()
    history = _names(body.get("propertiesWithHistory"))
    inputs = batch_inputs(req, BATCH_WITH_HISTORY_MAX if history else BATCH_MAX)
    names = _names(body.get("properties"))
    id_property = body.get("idProperty")
    results, missing = [], []
    with portal.lock:
        for item in inputs:
            raw = str(item.get("id", "")) if isinstance(item, dict) else ""
            try:
                obj = _find(
                    portal,
                    t,
                    raw,
                    id_property if isinstance(id_property, str) else None,
                    archived=req.q_bool("archived"),
                )
            except ApiError:
                missing.append(raw)
                continue
            results.append(object_json(portal, t, obj, names, history=history))
        return batch_reply(portal, results, _not_found(t, missing), 200)


def _not_found(t: str, missing: list[str]) -> list[dict[str, Any]]:
    """HubSpot's batch error for ids that do not exist (none when all do)."""
    if not missing:
        return []
    message = f"Could not get some {t.upper()} objects, they may be deleted or not exist. Check that ids are valid."
    return [batch_error("OBJECT_NOT_FOUND", message, {"ids": missing})]


def batch_create(portal: Portal, req: Request) -> Reply:
    t = object_type(portal, req)
    inputs = batch_inputs(req)
    results, errors = [], []
    with portal.lock:
        for index, item in enumerate(inputs):
            try:
                obj = _create_one(portal, t, item if isinstance(item, dict) else {})
            except ApiError as exc:
                message = str(exc.reply.body.get("message", "invalid input"))
                errors.append(batch_error("VALIDATION_ERROR", message, {"index": [str(index)]}))
                continue
            results.append(object_json(portal, t, obj, list(item["properties"])))
        return batch_reply(portal, results, errors, 201)


def batch_update(portal: Portal, req: Request) -> Reply:
    t = object_type(portal, req)
    inputs = batch_inputs(req)
    results, errors = [], []
    missing: list[str] = []
    with portal.lock:
        for item in inputs:
            raw = str(item.get("id", "")) if isinstance(item, dict) else ""
            props = item.get("properties") if isinstance(item, dict) else None
            if not isinstance(props, dict):
                raise responses.validation("Each input needs id and properties")
            try:
                obj = _find(portal, t, raw, item.get("idProperty"))
            except ApiError:
                missing.append(raw)
                continue
            problems = property_errors(portal, t, props)
            if problems:
                errors.append(
                    batch_error(
                        "VALIDATION_ERROR",
                        invalid_properties(problems),
                        {"ids": [raw], "propertyName": [p["name"] for p in problems]},
                        code=problems[0]["error"],
                    )
                )
                continue
            portal.update(t, obj.id, normalise(portal, t, props))
            results.append(object_json(portal, t, obj, list(props)))
        return batch_reply(portal, results, errors + _not_found(t, missing), 200)


def batch_archive(portal: Portal, req: Request) -> Reply:
    t = object_type(portal, req)
    inputs = batch_inputs(req)
    with portal.lock:
        for item in inputs:
            object_id = parse_id(item.get("id", "")) if isinstance(item, dict) else None
            if object_id is not None and portal.stores[t].get(object_id) is not None:
                portal.archive(t, object_id)
    return Reply(204)


# ---- search -------------------------------------------------------------------------------------------------

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
    names = _names(body.get("properties"))
    tests = [[_compile(t, f, catalog) for f in group] for group in groups]
    with portal.lock:
        matches = [
            o
            for o in portal.stores[t].by_id.values()
            if o.archived_at is None
            and portal.visible_to_search(o)
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


def _filter_groups(body: dict[str, Any], catalog: dict[str, schema.PropertyDef]) -> list[list[dict[str, Any]]]:
    groups = body.get("filterGroups") or []
    if not isinstance(groups, list):
        raise responses.validation("filterGroups must be a list")
    filters = [g.get("filters") or [] if isinstance(g, dict) else [] for g in groups]
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


def _sort(body: dict[str, Any], catalog: dict[str, schema.PropertyDef]) -> tuple[str, bool] | None:
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
    if ms is not None and not _is_number(value):
        return float(ms)
    try:
        return float(value)
    except ValueError:
        return None if ms is None else float(ms)


def _compile(t: str, f: dict[str, Any], catalog: dict[str, schema.PropertyDef]) -> Callable[[CrmObject], bool]:
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


# ---- properties ---------------------------------------------------------------------------------------------


def list_properties(portal: Portal, req: Request) -> Reply:
    t = object_type(portal, req)
    with portal.lock:
        catalog = portal.catalogs[t]
        results = [p.to_json(iso(p.created_at)) for p in catalog.properties.values()]
    return Reply(200, {"results": [] if req.q_bool("archived") else results})


def get_property(portal: Portal, req: Request) -> Reply:
    t = object_type(portal, req)
    with portal.lock:
        found = portal.catalogs[t].properties.get(req.params["propertyName"])
        if found is None:
            raise responses.not_found(f"Unable to find property {req.params['propertyName']}")
        return Reply(200, found.to_json(iso(found.created_at)))


def create_property(portal: Portal, req: Request) -> Reply:
    t = object_type(portal, req)
    body = req.json_object()
    missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)]
    if missing:
        raise responses.validation(f"Missing required fields: {', '.join(missing)}")
    name = str(body["name"])
    kind = str(body["type"])
    if kind not in ("string", "number", "date", "datetime", "enumeration", "bool"):
        raise responses.validation(f"{kind} is not a valid property type")
    options = tuple(str(o.get("value")) for o in body.get("options") or [] if isinstance(o, dict))
    if kind == "enumeration" and not options:
        raise responses.validation("An enumeration property needs options")
    with portal.lock:
        catalog = portal.catalogs[t]
        if name in catalog.properties:
            raise responses.conflict(
                f"Property named '{name}' already exists.", "PropertyValidationError.PROPERTY_EXISTS"
            )
        if body["groupName"] not in catalog.groups:
            raise responses.validation(f"Property group {body['groupName']} does not exist")
        created = schema.PropertyDef(
            name,
            str(body["label"]),
            kind,
            str(body["fieldType"]),
            str(body["groupName"]),
            options,
            hubspot_defined=False,
            description=str(body.get("description") or ""),
            display_order=int(body.get("displayOrder") or -1),
            created_at=portal.now,
        )
        catalog.properties[name] = created
        return Reply(201, created.to_json(iso(portal.now)))


def list_groups(portal: Portal, req: Request) -> Reply:
    t = object_type(portal, req)
    with portal.lock:
        return Reply(200, {"results": [g.to_json() for g in portal.catalogs[t].groups.values()]})


def create_group(portal: Portal, req: Request) -> Reply:
    t = object_type(portal, req)
    body = req.json_object()
    if not body.get("name") or not body.get("label"):
        raise responses.validation("name and label are required")
    with portal.lock:
        catalog = portal.catalogs[t]
        name = str(body["name"])
        if name in catalog.groups:
            raise responses.conflict(
                f"A property group named '{name}' already exists.", "PropertyGroupError.GROUP_EXISTS"
            )
        group = schema.GroupDef(name, str(body["label"]), int(body.get("displayOrder") or -1))
        catalog.groups[name] = group
        return Reply(201, group.to_json())


# ---- owners -------------------------------------------------------------------------------------------------


def owner_json(owner: Any) -> dict[str, Any]:
    return {
        "id": str(owner.id),
        "email": owner.email,
        "type": "PERSON",
        "firstName": owner.first_name,
        "lastName": owner.last_name,
        "userId": owner.user_id,
        "userIdIncludingInactive": owner.user_id,
        "createdAt": iso(owner.created),
        "updatedAt": iso(owner.updated),
        "archived": owner.archived,
        "teams": [{"id": str(4_000 + sum(map(ord, owner.team))), "name": owner.team, "primary": True}],
    }


def list_owners(portal: Portal, req: Request) -> Reply:
    limit = req.q_int("limit", 100, OWNERS_MAX)
    start = int(req.q("after") or 0) if (req.q("after") or "0").isdigit() else 0
    email = req.q("email")
    archived = req.q_bool("archived")
    with portal.lock:
        owners = [o for o in portal.owners if o.archived == archived and (email is None or o.email == email)]
        page = owners[start : start + limit]
        following = str(start + limit) if start + limit < len(owners) else None
        return Reply(200, {"results": [owner_json(o) for o in page], **paging(following, req.path)})


def get_owner(portal: Portal, req: Request) -> Reply:
    with portal.lock:
        owner_id = parse_id(req.params["ownerId"])
        owner = portal.owner(owner_id) if owner_id is not None else None
        if owner is None:
            raise responses.not_found()
        return Reply(200, owner_json(owner))


# ---- associations v4 ----------------------------------------------------------------------------------------


def _pair(portal: Portal, req: Request) -> tuple[str, str]:
    a = object_type(portal, req, "fromObjectType")
    b = object_type(portal, req, "toObjectType")
    if (a, b) not in schema.ASSOCIATION_TYPES:
        raise responses.validation(f"{a} to {b} associations are not supported")
    return a, b


def _labelled(portal: Portal, a: str, a_id: int, b: str, b_id: int) -> dict[str, Any]:
    return {
        "toObjectId": b_id,
        "associationTypes": [
            {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": label}
            for type_id, label in portal.assoc.type_ids(a, a_id, b, b_id)
        ],
    }


def association_batch_read(portal: Portal, req: Request) -> Reply:
    a, b = _pair(portal, req)
    inputs = batch_inputs(req, ASSOCIATION_BATCH_MAX)
    results, errors = [], []
    with portal.lock:
        for item in inputs:
            raw = str(item.get("id", "")) if isinstance(item, dict) else ""
            a_id = parse_id(raw)
            linked = portal.assoc.of(a, a_id, b) if a_id is not None else []
            if not linked:
                errors.append(
                    {
                        "status": "error",
                        "category": "OBJECT_NOT_FOUND",
                        "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                        "context": {"fromObjectId": [raw]},
                        "message": f"No {b} is associated with {schema.SINGULAR[a]} {raw}.",
                        "errors": [],
                        "links": {},
                    }
                )
                continue
            assert a_id is not None  # linked is non-empty only for a parsed id
            results.append({"from": {"id": raw}, "to": [_labelled(portal, a, a_id, b, x) for x in linked]})
        return batch_reply(portal, results, errors, 200)


def association_labels(portal: Portal, req: Request) -> Reply:
    a, b = _pair(portal, req)
    return Reply(
        200,
        {
            "results": [
                {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": label}
                for type_id, label in schema.association_labels(a, b)
            ]
        },
    )


def object_associations(portal: Portal, req: Request) -> Reply:
    a = object_type(portal, req)
    b = object_type(portal, req, "toObjectType")
    limit = req.q_int("limit", 500, 500)
    start = int(req.q("after") or 0) if (req.q("after") or "0").isdigit() else 0
    with portal.lock:
        a_id = parse_id(req.params["objectId"])
        if a_id is None or portal.stores[a].get(a_id) is None or (a, b) not in schema.ASSOCIATION_TYPES:
            raise responses.not_found()
        linked = portal.assoc.of(a, a_id, b)
        page = [_labelled(portal, a, a_id, b, x) for x in linked[start : start + limit]]
        following = str(start + limit) if start + limit < len(linked) else None
        return Reply(200, {"results": page, **paging(following, req.path)})


# ---- routes -------------------------------------------------------------------------------------------------


def _read(params: dict[str, str]) -> tuple[str, ...]:
    return (schema.read_scope(schema.TYPE_ALIASES.get(params.get("objectType", ""), schema.CONTACTS)),)


def _write(params: dict[str, str]) -> tuple[str, ...]:
    return (schema.write_scope(schema.TYPE_ALIASES.get(params.get("objectType", ""), schema.CONTACTS)),)


def _schema_read(params: dict[str, str]) -> tuple[str, ...]:
    return schema.schema_scopes(schema.TYPE_ALIASES.get(params.get("objectType", ""), schema.CONTACTS))


def _schema_write(params: dict[str, str]) -> tuple[str, ...]:
    base = schema.TYPE_ALIASES.get(params.get("objectType", ""), schema.CONTACTS)
    return (f"crm.schemas.{base if base in (schema.CONTACTS, schema.COMPANIES, schema.DEALS) else 'contacts'}.write",)


def _assoc_read(params: dict[str, str]) -> tuple[str, ...]:
    return (schema.read_scope(schema.TYPE_ALIASES.get(params.get("fromObjectType", ""), schema.CONTACTS)),)


def _owners(_: dict[str, str]) -> tuple[str, ...]:
    return ("crm.objects.owners.read",)


OBJ = "/crm/v3/objects/{objectType}"


def routes() -> list[Route]:
    return [
        Route("POST", f"{OBJ}/search", search, _read, kind="search"),
        Route("POST", f"{OBJ}/batch/read", batch_read, _read),
        Route("POST", f"{OBJ}/batch/create", batch_create, _write),
        Route("POST", f"{OBJ}/batch/update", batch_update, _write),
        Route("POST", f"{OBJ}/batch/archive", batch_archive, _write),
        Route("POST", "/crm/v3/objects/contacts/merge", merge_contacts, lambda _p: ("crm.objects.contacts.write",)),
        Route("GET", OBJ, list_objects, _read),
        Route("POST", OBJ, create_object, _write),
        Route("GET", f"{OBJ}/{{objectId}}", get_object, _read),
        Route("PATCH", f"{OBJ}/{{objectId}}", update_object, _write),
        Route("DELETE", f"{OBJ}/{{objectId}}", archive_object, _write),
        Route("GET", "/crm/v3/properties/{objectType}/groups", list_groups, _schema_read),
        Route("POST", "/crm/v3/properties/{objectType}/groups", create_group, _schema_write),
        Route("GET", "/crm/v3/properties/{objectType}", list_properties, _schema_read),
        Route("POST", "/crm/v3/properties/{objectType}", create_property, _schema_write),
        Route("GET", "/crm/v3/properties/{objectType}/{propertyName}", get_property, _schema_read),
        Route("GET", "/crm/v3/owners", list_owners, _owners),
        Route("GET", "/crm/v3/owners/{ownerId}", get_owner, _owners),
        Route(
            "POST",
            "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read",
            association_batch_read,
            _assoc_read,
        ),
        Route("GET", "/crm/v4/associations/{fromObjectType}/{toObjectType}/labels", association_labels, _assoc_read),
        Route("GET", "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}", object_associations, _read),
    ]
