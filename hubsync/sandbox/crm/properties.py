"""CRM properties and property groups: list, read, create (409 on an existing name)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubsync.sandbox import responses
from hubsync.sandbox.catalog import GroupDef, PropertyDef
from hubsync.sandbox.crm.parsing import object_type
from hubsync.sandbox.responses import Reply, iso

if TYPE_CHECKING:
    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.routing import Request


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
        created = PropertyDef(
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
        group = GroupDef(name, str(body["label"]), int(body.get("displayOrder") or -1))
        catalog.groups[name] = group
        return Reply(201, group.to_json())
