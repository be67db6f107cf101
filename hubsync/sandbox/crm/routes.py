"""The CRM route table: each endpoint's path template, handler and the scopes that admit it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubsync.sandbox import schema
from hubsync.sandbox.crm.associations import association_batch_read, association_labels, object_associations
from hubsync.sandbox.crm.engagements_v1 import paged, recent
from hubsync.sandbox.crm.lists import list_workflows, search_lists
from hubsync.sandbox.crm.objects import (
    archive_object,
    batch_archive,
    batch_create,
    batch_read,
    batch_update,
    create_object,
    get_object,
    list_objects,
    merge_contacts,
    update_object,
)
from hubsync.sandbox.crm.owners import get_owner, list_owners, list_teams, list_users
from hubsync.sandbox.crm.pipelines import list_pipelines, list_pipelines_legacy
from hubsync.sandbox.crm.properties import (
    archive_group,
    archive_property,
    create_group,
    create_property,
    get_property,
    list_groups,
    list_properties,
    list_properties_legacy,
    list_schemas,
)
from hubsync.sandbox.crm.search import search
from hubsync.sandbox.routing import Route

if TYPE_CHECKING:
    from collections.abc import Callable


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


def _scope(*names: str) -> Callable[[dict[str, str]], tuple[str, ...]]:
    return lambda _params: names


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
        Route("DELETE", "/crm/v3/properties/{objectType}/groups/{groupName}", archive_group, _schema_write),
        Route("DELETE", "/crm/v3/properties/{objectType}/{propertyName}", archive_property, _schema_write),
        Route("GET", "/properties/v2/{objectType}/properties", list_properties_legacy, _schema_read),
        Route("GET", "/crm/v3/schemas", list_schemas, _scope("crm.schemas.custom.read")),
        Route("GET", "/crm-object-schemas/v3/schemas", list_schemas, _scope("crm.schemas.custom.read")),
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
        Route("GET", "/crm/v3/pipelines/{objectType}", list_pipelines, _read),
        Route("GET", "/crm-pipelines/v1/pipelines/{objectType}", list_pipelines_legacy, _read),
        Route("GET", "/settings/v3/users", list_users, _scope("settings.users.read")),
        Route("GET", "/settings/v3/users/teams", list_teams, _scope("settings.users.teams.read")),
        Route("POST", "/crm/v3/lists/search", search_lists, _scope("crm.lists.read")),
        Route("GET", "/automation/v3/workflows", list_workflows, _scope("automation")),
        Route("GET", "/engagements/v1/engagements/paged", paged, _read),
        Route("GET", "/engagements/v1/engagements/recent/modified", recent, _read),
    ]
