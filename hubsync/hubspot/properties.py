"""HubSpot's property endpoints and the scope check: the generic `PropertyDefinition`, reading a portal's groups
and properties, creating a group or a property (setup), archiving them (teardown), and probing every scope hubsync
needs.

What hubsync's own properties are lives with the use cases (`hubsync.jobs.properties`); this module only speaks to
HubSpot.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

import structlog

from hubsync.errors import AuthenticationFailed, FatalHubSpotError, MissingScopes
from hubsync.hubspot.answers import results_page
from hubsync.hubspot.classify import SCOPES_WHERE

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from hubsync.hubspot.client import HubSpotClient

log = structlog.get_logger(__name__)

CONTACTS: Final = "contacts"
COMPANIES: Final = "companies"
OBJECT_TYPES: Final = (CONTACTS, COMPANIES)
# HubSpot's bool properties are enumerations of these two values, shown as a checkbox.
BOOL_OPTIONS: Final = (("true", "Yes"), ("false", "No"))


@dataclass(frozen=True, slots=True)
class PropertyDefinition:
    """One property as HubSpot's properties API takes it."""

    object_type: str
    name: str
    label: str
    description: str
    type: str  # number, string, enumeration, bool
    field_type: str  # number, text, textarea, select, booleancheckbox
    group: str
    # (value, label) pairs for enumerations and bools.
    options: tuple[tuple[str, str], ...] = ()
    display_order: int = -1

    def create_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "type": self.type,
            "fieldType": self.field_type,
            "groupName": self.group,
            "displayOrder": self.display_order,
            "formField": False,
        }
        if self.options:
            body["options"] = [
                {"value": value, "label": label, "displayOrder": i, "hidden": False}
                for i, (value, label) in enumerate(self.options)
            ]
        return body


# -- scopes ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScopeProbe:
    scope: str
    purpose: str
    method: str
    path: str
    qs: Mapping[str, Any] | None = None
    body: Any = None


# One cheap call per scope hubsync needs. The write probes send an empty batch (or an empty property definition):
# HubSpot checks scopes before it validates a body, so a 403 MISSING_SCOPES means the scope is missing and any other
# answer (200, 400) means it is granted; nothing is written either way.
SCOPE_PROBES: Final[tuple[ScopeProbe, ...]] = (
    ScopeProbe("crm.objects.contacts.read", "reading contacts, tasks and other activities", "GET",
               "/crm/v3/objects/contacts", {"limit": 1}),
    ScopeProbe("crm.objects.contacts.write", "writing scores to contacts and creating sales tasks", "POST",
               "/crm/v3/objects/contacts/batch/update", None, {"inputs": []}),
    ScopeProbe("crm.objects.companies.read", "reading companies", "GET", "/crm/v3/objects/companies", {"limit": 1}),
    ScopeProbe("crm.objects.companies.write", "writing account scores to companies", "POST",
               "/crm/v3/objects/companies/batch/update", None, {"inputs": []}),
    ScopeProbe("crm.objects.deals.read", "reading deals (closed-won feedback)", "GET", "/crm/v3/objects/deals",
               {"limit": 1}),
    ScopeProbe("crm.objects.owners.read", "reading owners (task routing and sales capacity)", "GET",
               "/crm/v3/owners", {"limit": 1}),
    ScopeProbe("crm.schemas.contacts.write", "creating the hubsync contact properties", "POST",
               "/crm/v3/properties/contacts", None, {}),
    ScopeProbe("crm.schemas.companies.write", "creating the hubsync company properties", "POST",
               "/crm/v3/properties/companies", None, {}),
    ScopeProbe("content", "reading marketing email events", "GET", "/email/public/v1/events", {"limit": 1}),
    ScopeProbe("forms", "reading forms and form submissions", "GET", "/marketing/v3/forms", {"limit": 1}),
    ScopeProbe("crm.objects.marketing_events.read", "reading webinar registrations and attendance", "GET",
               "/marketing/v3/marketing-events", {"limit": 1}),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class MissingScope:
    scope: str
    purpose: str
    # What HubSpot named as acceptable (any one of them is enough).
    accepted: tuple[str, ...]


def check_scopes(client: HubSpotClient, probes: Sequence[ScopeProbe] = SCOPE_PROBES) -> tuple[MissingScope, ...]:
    """Probe every scope once; the missing ones, or () when all are granted. A rejected token raises
    AuthenticationFailed at the first probe."""
    missing = []
    for probe in probes:
        try:
            client.request(probe.method, probe.path, probe.qs, probe.body, operation=f"setup.probe {probe.scope}")
        except MissingScopes as err:
            missing.append(MissingScope(probe.scope, probe.purpose, err.scopes))
            log.warning("setup.scope_missing", scope=probe.scope, accepted=list(err.scopes))
        except AuthenticationFailed:
            raise
        except FatalHubSpotError as err:
            # A 400 for the empty body (or a 404): HubSpot got past the scope check, so the scope is granted.
            log.debug("setup.scope_granted", scope=probe.scope, status=err.status)
    return tuple(missing)


def missing_scopes_error(missing: Sequence[MissingScope]) -> MissingScopes:
    listed = "; ".join(f"{m.scope} (for {m.purpose})" for m in missing)
    return MissingScopes(
        f"the private app lacks {len(missing)} scope(s): {listed}. Add them in {SCOPES_WHERE}, save, and run "
        "`hubsync setup` again",
        scopes=tuple(m.scope for m in missing),
    )


# -- properties and groups ------------------------------------------------------------------------------------


def read_portal_schema(
    client: HubSpotClient,
) -> tuple[dict[str, list[str]], dict[str, dict[str, dict[str, Any]]]]:
    """Group names and property JSON (by name) of contacts and companies: four calls."""
    groups: dict[str, list[str]] = {}
    properties: dict[str, dict[str, dict[str, Any]]] = {}
    for t in OBJECT_TYPES:
        g = client.request("GET", f"/crm/v3/properties/{t}/groups", operation="setup.read_groups", expect=results_page)
        groups[t] = [str(x.get("name")) for x in (g or {}).get("results", [])]
        properties[t] = read_properties(client, t)
    return groups, properties


def read_properties(client: HubSpotClient, object_type: str) -> dict[str, dict[str, Any]]:
    """Every property of an object type, as JSON by name: one call."""
    p = client.request(
        "GET", f"/crm/v3/properties/{object_type}", operation="setup.read_properties", expect=results_page
    )
    return {str(x.get("name")): x for x in (p or {}).get("results", [])}


def create_group(client: HubSpotClient, object_type: str, name: str, label: str) -> bool:
    """Create a property group. False when HubSpot answers 409: a group of that name exists, most likely made by an
    earlier attempt of this very call whose answer was lost (the retry then conflicts)."""
    try:
        client.request(
            "POST",
            f"/crm/v3/properties/{object_type}/groups",
            body={"name": name, "label": label, "displayOrder": -1},
            operation="setup.create_group",
        )
    except FatalHubSpotError as err:
        if err.status != HTTPStatus.CONFLICT:
            raise
        return False
    return True


def create_property(client: HubSpotClient, definition: PropertyDefinition) -> dict[str, Any] | None:
    """Create a property: None when created. When HubSpot answers 409 (the name exists: an earlier attempt was
    processed but its answer lost, or someone created it meanwhile), the existing property as HubSpot has it, for
    the caller to judge."""
    try:
        client.request(
            "POST",
            f"/crm/v3/properties/{definition.object_type}",
            body=definition.create_body(),
            operation="setup.create_property",
        )
    except FatalHubSpotError as err:
        if err.status != HTTPStatus.CONFLICT:
            raise
        found = client.request(
            "GET",
            f"/crm/v3/properties/{definition.object_type}/{definition.name}",
            operation="setup.read_property",
        )
        return found if isinstance(found, dict) else {}
    return None


def archive_property(client: HubSpotClient, object_type: str, name: str) -> bool:
    """Archive a property (HubSpot keeps it in the recycling bin for 90 days, values included). False when HubSpot
    answers 404: it is gone already, most likely archived by an earlier attempt of this call whose answer was lost."""
    return _archive(client, f"/crm/v3/properties/{object_type}/{quote(name, safe='')}", "teardown.archive_property")


def archive_group(client: HubSpotClient, object_type: str, name: str) -> bool:
    """Archive a property group (to the recycling bin); False when it is gone already (404)."""
    path = f"/crm/v3/properties/{object_type}/groups/{quote(name, safe='')}"
    return _archive(client, path, "teardown.archive_group")


def _archive(client: HubSpotClient, path: str, operation: str) -> bool:
    try:
        client.request("DELETE", path, operation=operation)
    except FatalHubSpotError as err:
        if err.status != HTTPStatus.NOT_FOUND:
            raise
        return False
    return True
