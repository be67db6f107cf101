"""The hubsync CRM properties, and `hubsync setup`: check the token and scopes, then create the property group and
every property on contacts and companies.

The definitions and the set-up plan are pure (`definitions`, `plan_setup`); `check_scopes` and `setup` are the thin
I/O around them. Set-up is idempotent: what exists with a compatible definition is left alone, what exists with a
conflicting one is reported and never overwritten (an admin may have built reports on it).

No property holds a timestamp that changes every run: it would make every record differ from the last push.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

import structlog

from hubsync.errors import AuthenticationFailed, FatalHubSpotError, MissingScopes
from hubsync.hubspot.classify import SCOPES_WHERE
from hubsync.scoring import FitLight, LeadStatus, Tier
from hubsync.scoring.segments import SEGMENTS

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from hubsync.hubspot.client import HubSpotClient
    from hubsync.settings import PushConfig

log = structlog.get_logger(__name__)

CONTACTS: Final = "contacts"
COMPANIES: Final = "companies"
OBJECT_TYPES: Final = (CONTACTS, COMPANIES)
# HubSpot's bool properties are enumerations of these two values, shown as a checkbox.
BOOL_OPTIONS: Final = (("true", "Yes"), ("false", "No"))


class Prop(StrEnum):
    """What each hubsync property holds; the property name is the configured prefix + the value."""

    ENGAGEMENT = "engagement_score"
    PROFILE = "profile_score"
    COMPLETENESS = "data_completeness"
    SEGMENT = "segment"
    LEAD_STATUS = "lead_status"
    FIT_LIGHT = "fit_light"
    TIER = "tier"
    SURGE = "surge"
    REASON = "reason"
    ACCOUNT_ENGAGEMENT = "account_engagement"
    ACCOUNT_PROFILE = "account_profile"
    ACCOUNT_SEGMENT = "account_segment"
    BUYING_CENTER_ACTIVE = "buying_center_active"
    ENGAGED_CONTACTS = "engaged_contacts"
    ACCOUNT_REASON = "account_reason"


@dataclass(frozen=True, slots=True)
class PropertyDefinition:
    """One hubsync property as HubSpot's properties API takes it."""

    object_type: str
    prop: Prop
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


def _labelled(values: Iterable[str], labels: Mapping[str, str] | None = None) -> tuple[tuple[str, str], ...]:
    return tuple((v, (labels or {}).get(v, v.replace("_", " ").capitalize())) for v in values)


_STATUS_LABELS: Final = {"nurture": "Nurture", "mql": "MQL (marketing qualified)", "sales_ready": "Sales ready"}
_TIER_LABELS: Final = {"mid_market": "Mid-market", "smb": "SMB", "enterprise": "Enterprise", "unknown": "Unknown"}
_SCALE: Final = "0-100, recomputed by hubsync on every sync; do not edit (hubsync overwrites it)."

# (object type, field, label, description, type, field type, options)
_SPECS: Final[tuple[tuple[str, Prop, str, str, str, str, tuple[tuple[str, str], ...]], ...]] = (
    (CONTACTS, Prop.ENGAGEMENT, "Engagement score",
     (f"How actively this person is moving toward a purchase now (visits, downloads, webinars, requests), with "
      f"older activity counting less. {_SCALE}"), "number", "number", ()),
    (CONTACTS, Prop.PROFILE, "Profile (fit) score",
     f"How well this person and their company fit the ideal customer profile (size, industry, role). {_SCALE}",
     "number", "number", ()),
    (CONTACTS, Prop.COMPLETENESS, "Data completeness (%)",
     "Share of the profile rules whose property is filled in; a low value means the profile score may be too low.",
     "number", "number", ()),
    (CONTACTS, Prop.SEGMENT, "Lead segment",
     "Profile letter (A best fit … D) and engagement digit (1 most engaged … 4). A1, A2 and B1 go to sales.",
     "enumeration", "select", _labelled(SEGMENTS)),
    (CONTACTS, Prop.LEAD_STATUS, "Lead status (hubsync)",
     "nurture (0-30), MQL (31-70) or sales ready (71+) on the engagement score.",
     "enumeration", "select", _labelled((s.value for s in LeadStatus), _STATUS_LABELS)),
    (CONTACTS, Prop.FIT_LIGHT, "ICP fit light",
     "Ideal customer profile fit: red (below 50), yellow (50-79), green (80+). Red leads are not handed to sales.",
     "enumeration", "select", _labelled(f.value for f in FitLight)),
    (CONTACTS, Prop.TIER, "ICP tier",
     "Company size class: SMB (under 200 employees), mid-market (200-999), enterprise (1,000+), unknown.",
     "enumeration", "select", _labelled((t.value for t in Tier), _TIER_LABELS)),
    (CONTACTS, Prop.SURGE, "Activity surge",
     "Checked when this person's activity in the last week jumped well above their usual level.",
     "bool", "booleancheckbox", BOOL_OPTIONS),
    (CONTACTS, Prop.REASON, "Score reason",
     "Why the scores are what they are, largest contributions first. The sales task has the dated history.",
     "string", "textarea", ()),
    (COMPANIES, Prop.ACCOUNT_ENGAGEMENT, "Account engagement score",
     f"The most engaged contact at this company, plus points for every further engaged contact. {_SCALE}",
     "number", "number", ()),
    (COMPANIES, Prop.ACCOUNT_PROFILE, "Account profile (fit) score",
     f"How well this company fits the ideal customer profile (size, industry, region). {_SCALE}",
     "number", "number", ()),
    (COMPANIES, Prop.COMPLETENESS, "Data completeness (%)",
     "Share of the company profile rules whose property is filled in.",
     "number", "number", ()),
    (COMPANIES, Prop.ACCOUNT_SEGMENT, "Account segment",
     "Profile letter (A best fit … D) and account engagement digit (1 most engaged … 4).",
     "enumeration", "select", _labelled(SEGMENTS)),
    (COMPANIES, Prop.FIT_LIGHT, "ICP fit light",
     "Ideal customer profile fit: red (below 50), yellow (50-79), green (80+).",
     "enumeration", "select", _labelled(f.value for f in FitLight)),
    (COMPANIES, Prop.TIER, "ICP tier",
     "Company size class: SMB (under 200 employees), mid-market (200-999), enterprise (1,000+), unknown.",
     "enumeration", "select", _labelled((t.value for t in Tier), _TIER_LABELS)),
    (COMPANIES, Prop.BUYING_CENTER_ACTIVE, "Buying center active",
     "Checked when several people from this company were active recently: a strong buying signal.",
     "bool", "booleancheckbox", BOOL_OPTIONS),
    (COMPANIES, Prop.ENGAGED_CONTACTS, "Engaged contacts",
     "Number of contacts at this company whose engagement score is at least MQL level.",
     "number", "number", ()),
    (COMPANIES, Prop.ACCOUNT_REASON, "Account score reason",
     "Why the account scores are what they are, including which buying-center roles are not engaged yet.",
     "string", "textarea", ()),
)  # fmt: skip


def definitions(config: PushConfig) -> tuple[PropertyDefinition, ...]:
    """Every hubsync property, named with the configured prefix, in the configured group."""
    return tuple(
        PropertyDefinition(
            object_type=object_type,
            prop=fld,
            name=config.property_prefix + fld.value,
            label=f"{label} (hubsync)",
            description=description,
            type=kind,
            field_type=field_type,
            group=config.property_group,
            options=options,
            display_order=i,
        )
        for i, (object_type, fld, label, description, kind, field_type, options) in enumerate(_SPECS)
    )


def property_names(config: PushConfig, object_type: str) -> dict[Prop, str]:
    return {d.prop: d.name for d in definitions(config) if d.object_type == object_type}


# -- the set-up plan (pure) -----------------------------------------------------------------------------------


class Action(StrEnum):
    CREATE = "create"
    EXISTS = "exists"
    CONFLICT = "conflict"


@dataclass(frozen=True, slots=True)
class PlannedGroup:
    object_type: str
    name: str
    label: str
    action: Action


@dataclass(frozen=True, slots=True)
class PlannedProperty:
    definition: PropertyDefinition
    action: Action
    # What differs from hubsync's definition (CONFLICT only).
    conflict: str = ""


@dataclass(frozen=True, slots=True)
class SetupPlan:
    groups: tuple[PlannedGroup, ...]
    properties: tuple[PlannedProperty, ...]

    @property
    def conflicts(self) -> tuple[PlannedProperty, ...]:
        return tuple(p for p in self.properties if p.action is Action.CONFLICT)

    def lines(self) -> list[str]:
        out = [f"{g.object_type}: property group {g.name!r}: {g.action}" for g in self.groups]
        for p in self.properties:
            d = p.definition
            text = f"{d.object_type}: {d.name} ({d.type}): {p.action}"
            if p.conflict:
                text += f" - {p.conflict}; left unchanged, hubsync will not write it until this is resolved"
            out.append(text)
        return out


def conflict_of(definition: PropertyDefinition, existing: Mapping[str, Any]) -> str:
    """Why an existing property cannot hold what hubsync writes ("" when it can). Label, description and group
    are the admin's to change; type, field type and the enumeration values are what the writes depend on."""
    problems = []
    if existing.get("type") != definition.type:
        problems.append(f"type is {existing.get('type')!r}, hubsync needs {definition.type!r}")
    if definition.type in ("enumeration", "bool"):
        values = {str(o.get("value")) for o in existing.get("options") or [] if isinstance(o, dict)}
        missing = [value for value, _ in definition.options if value not in values]
        if missing and definition.type == "enumeration":
            problems.append(f"options lack {', '.join(missing)}")
    elif existing.get("fieldType") not in _COMPATIBLE_FIELD_TYPES[definition.field_type]:
        problems.append(f"field type is {existing.get('fieldType')!r}, hubsync needs {definition.field_type!r}")
    return "; ".join(problems)


# A text value fits a one-line or a multi-line field; numbers only a number field.
_COMPATIBLE_FIELD_TYPES: Final[dict[str, frozenset[str]]] = {
    "number": frozenset({"number"}),
    "text": frozenset({"text", "textarea"}),
    "textarea": frozenset({"text", "textarea"}),
    "select": frozenset({"select", "radio"}),
    "booleancheckbox": frozenset({"booleancheckbox", "checkbox", "select"}),
}


def plan_setup(
    config: PushConfig,
    existing_groups: Mapping[str, Iterable[str]],
    existing_properties: Mapping[str, Mapping[str, Mapping[Any, Any]]],
) -> SetupPlan:
    """What `setup` does, from what the portal has: group names and property JSON (by name) per object type."""
    groups = tuple(
        PlannedGroup(
            t,
            config.property_group,
            config.property_group_label,
            Action.EXISTS if config.property_group in set(existing_groups.get(t, ())) else Action.CREATE,
        )
        for t in OBJECT_TYPES
    )
    planned = []
    for d in definitions(config):
        found = existing_properties.get(d.object_type, {}).get(d.name)
        if found is None:
            planned.append(PlannedProperty(d, Action.CREATE))
            continue
        conflict = conflict_of(d, found)
        planned.append(PlannedProperty(d, Action.CONFLICT if conflict else Action.EXISTS, conflict))
    return SetupPlan(groups, tuple(planned))


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


# -- setup ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetupResult:
    plan: SetupPlan
    dry_run: bool
    groups_created: tuple[str, ...] = ()
    properties_created: tuple[str, ...] = ()
    conflicts: tuple[PlannedProperty, ...] = field(default=())

    def lines(self) -> list[str]:
        head = "plan (dry run, nothing changed):" if self.dry_run else "done:"
        out = [head, *("  " + line for line in self.plan.lines())]
        if not self.dry_run:
            out.append(
                f"created {len(self.groups_created)} group(s) and {len(self.properties_created)} property(ies); "
                f"{len(self.conflicts)} conflict(s)"
            )
        return out


def read_portal_schema(
    client: HubSpotClient,
) -> tuple[dict[str, list[str]], dict[str, dict[str, dict[str, Any]]]]:
    """Group names and property JSON (by name) of contacts and companies: four calls."""
    groups: dict[str, list[str]] = {}
    properties: dict[str, dict[str, dict[str, Any]]] = {}
    for t in OBJECT_TYPES:
        g = client.request("GET", f"/crm/v3/properties/{t}/groups", operation="setup.read_groups")
        groups[t] = [str(x.get("name")) for x in (g or {}).get("results", [])]
        p = client.request("GET", f"/crm/v3/properties/{t}", operation="setup.read_properties")
        properties[t] = {str(x.get("name")): x for x in (p or {}).get("results", [])}
    return groups, properties


def setup(client: HubSpotClient, config: PushConfig, *, dry_run: bool = False) -> SetupResult:
    """Check scopes, then create what is missing. Raises MissingScopes naming every missing scope before it
    changes anything."""
    missing = check_scopes(client)
    if missing:
        raise missing_scopes_error(missing)
    groups, properties = read_portal_schema(client)
    plan = plan_setup(config, groups, properties)
    for conflict in plan.conflicts:
        log.warning(
            "setup.property_conflict",
            object_type=conflict.definition.object_type,
            property=conflict.definition.name,
            conflict=conflict.conflict,
        )
    if dry_run:
        return SetupResult(plan, dry_run=True, conflicts=plan.conflicts)
    created_groups = []
    for g in plan.groups:
        if g.action is Action.CREATE:
            client.request(
                "POST",
                f"/crm/v3/properties/{g.object_type}/groups",
                body={"name": g.name, "label": g.label, "displayOrder": -1},
                operation="setup.create_group",
            )
            created_groups.append(f"{g.object_type}.{g.name}")
            log.info("setup.group_created", object_type=g.object_type, group=g.name)
    created = []
    for p in plan.properties:
        if p.action is not Action.CREATE:
            continue
        d = p.definition
        client.request(
            "POST", f"/crm/v3/properties/{d.object_type}", body=d.create_body(), operation="setup.create_property"
        )
        created.append(f"{d.object_type}.{d.name}")
        log.info("setup.property_created", object_type=d.object_type, property=d.name)
    return SetupResult(
        plan,
        dry_run=False,
        groups_created=tuple(created_groups),
        properties_created=tuple(created),
        conflicts=plan.conflicts,
    )
