"""CRM properties and property groups: list, read, create (409 on an existing name), archive (404 when unknown)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubsync.sandbox import responses
from hubsync.sandbox.catalog import FORM_PROPERTIES, GroupDef, PropertyDef
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


def list_properties_legacy(portal: Portal, req: Request) -> Reply:
    """`GET /properties/v2/{objectType}/properties`: the same definitions as a bare list in the legacy shape (Airbyte's
    connector reads every stream's schema from it), forms' too."""
    if req.params["objectType"] in ("form", "forms", "0-28"):
        return Reply(200, [p.to_legacy_json() for p in FORM_PROPERTIES])
    t = object_type(portal, req)
    with portal.lock:
        return Reply(200, [p.to_legacy_json() for p in portal.catalogs[t].properties.values()])


def list_schemas(portal: Portal, req: Request) -> Reply:
    """`GET /crm/v3/schemas`: the portal's custom object types; a sandbox portal has none."""
    del portal, req
    return Reply(200, {"results": []})


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


def archive_property(portal: Portal, req: Request) -> Reply:
    """HubSpot refuses to archive its own properties; an archived property is gone from reads (the values records
    hold for it stay, hidden, as HubSpot keeps them with the archived property)."""
    t = object_type(portal, req)
    name = req.params["propertyName"]
    with portal.lock:
        catalog = portal.catalogs[t]
        found = catalog.properties.get(name)
        if found is None:
            raise responses.not_found(f"Unable to find property {name}")
        if found.hubspot_defined:
            raise responses.validation(f"{name} is a HubSpot-defined property and cannot be archived")
        del catalog.properties[name]
    return Reply(204)


def archive_group(portal: Portal, req: Request) -> Reply:
    """A group that still holds properties is refused: the sandbox is strict where HubSpot's behaviour is not
    documented, so a client must archive the properties first."""
    t = object_type(portal, req)
    name = req.params["groupName"]
    with portal.lock:
        catalog = portal.catalogs[t]
        if name not in catalog.groups:
            raise responses.not_found(f"Unable to find property group {name}")
        held = sorted(p.name for p in catalog.properties.values() if p.group == name)
        if held:
            raise responses.validation(f"Property group {name} still holds properties: {', '.join(held)}")
        del catalog.groups[name]
    return Reply(204)


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
