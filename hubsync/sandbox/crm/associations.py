"""Associations v4: batch read (ids without associations come back as errors), labels, per-record pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubsync.sandbox import responses, schema
from hubsync.sandbox.crm.answers import batch_reply, paging
from hubsync.sandbox.crm.parsing import batch_inputs, object_type, parse_id
from hubsync.sandbox.responses import Reply

if TYPE_CHECKING:
    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.routing import Request

ASSOCIATION_BATCH_MAX = 1000


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
