"""CRM objects: list, read, create, update, archive, contact merge, and the batch read / create / update / archive."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubsync.sandbox import responses, schema
from hubsync.sandbox.crm.answers import batch_error, batch_reply, object_json, paging
from hubsync.sandbox.crm.parsing import (
    BATCH_MAX,
    batch_inputs,
    invalid_properties,
    name_list,
    normalise,
    object_type,
    parse_id,
    property_errors,
)
from hubsync.sandbox.responses import ApiError, Reply

if TYPE_CHECKING:
    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.records import CrmObject
    from hubsync.sandbox.routing import Request

LIST_MAX = 100
LIST_WITH_HISTORY_MAX = 50
BATCH_WITH_HISTORY_MAX = 50


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
    history = name_list(body.get("propertiesWithHistory"))
    inputs = batch_inputs(req, BATCH_WITH_HISTORY_MAX if history else BATCH_MAX)
    names = name_list(body.get("properties"))
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
            # HubSpot echoes an input's `objectWriteTraceId` on what it created (and names it in an error), so a
            # client can tell which result is which input.
            trace = item.get("objectWriteTraceId") if isinstance(item, dict) else None
            traced = {"objectWriteTraceId": str(trace)} if trace is not None else {}
            try:
                obj = _create_one(portal, t, item if isinstance(item, dict) else {})
            except ApiError as exc:
                message = str(exc.reply.body.get("message", "invalid input"))
                context = {"index": [str(index)], **{k: [v] for k, v in traced.items()}}
                errors.append(batch_error("VALIDATION_ERROR", message, context))
                continue
            results.append({**object_json(portal, t, obj, list(item["properties"])), **traced})
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
