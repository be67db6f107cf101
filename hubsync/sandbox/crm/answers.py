"""What CRM endpoints answer: a record as JSON, the paging link, and batch results with their errors."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from hubsync.sandbox import schema
from hubsync.sandbox.catalog import DEFAULT_LIST_PROPERTIES
from hubsync.sandbox.responses import Reply, iso

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.records import CrmObject


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
    wanted = list(names) if names else list(DEFAULT_LIST_PROPERTIES[object_type])
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
