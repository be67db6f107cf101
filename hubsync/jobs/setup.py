"""`hubsync setup`: check the token and scopes, then create the property group and every hubsync property on
contacts and companies.

The set-up plan is pure (`plan_setup`, from what the portal has); `setup` reads the portal, plans, and applies the
plan (a dry run returns it unapplied). Set-up is idempotent: what exists with a compatible definition is left alone,
what exists with a conflicting one is reported and never overwritten (an admin may have built reports on it).

A create can be processed by HubSpot while its answer is lost; the client's retry then gets 409. Set-up reads the
property back and judges it as the plan would have: hubsync's own definition counts as created, another compatible
one as existing, anything else as a conflict. A group that answers 409 exists, which is all set-up needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

import structlog

from hubsync.errors import SetupRequired
from hubsync.hubspot import properties as properties_api
from hubsync.hubspot.properties import OBJECT_TYPES
from hubsync.jobs.properties import definitions

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from hubsync.hubspot.client import HubSpotClient
    from hubsync.hubspot.properties import PropertyDefinition
    from hubsync.jobs.properties import HubsyncProperty
    from hubsync.settings import PushConfig

log = structlog.get_logger(__name__)


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
    definition: HubsyncProperty
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


def is_own(definition: PropertyDefinition, existing: Mapping[str, Any]) -> bool:
    """Whether an existing property is exactly what hubsync creates: type, field type, group and option values."""
    values = {str(o.get("value")) for o in existing.get("options") or [] if isinstance(o, dict)}
    return (
        existing.get("type") == definition.type
        and existing.get("fieldType") == definition.field_type
        and existing.get("groupName") == definition.group
        and values == {value for value, _ in definition.options}
    )


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


def setup(client: HubSpotClient, config: PushConfig, *, dry_run: bool = False) -> SetupResult:
    """Check scopes, then create what is missing. Raises MissingScopes naming every missing scope before it
    changes anything."""
    missing = properties_api.check_scopes(client)
    if missing:
        raise properties_api.missing_scopes_error(missing)
    groups, properties = properties_api.read_portal_schema(client)
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
    return apply_setup(client, plan)


def verify_setup(client: HubSpotClient, config: PushConfig) -> None:
    """Before a run that writes: hubsync's properties exist in the portal. One call per object type, contacts
    first, so a portal nobody set up fails at the first call instead of after a whole pull."""
    wanted = definitions(config)
    for object_type in OBJECT_TYPES:
        held = properties_api.read_properties(client, object_type)
        missing = [d.name for d in wanted if d.object_type == object_type and d.name not in held]
        if missing:
            shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")  # noqa: PLR2004  (a readable line)
            raise SetupRequired(
                f"this portal has no {shown} on {object_type}: run `hubsync setup` once to create hubsync's "
                "properties, then run this again",
                status=None,
                category="SETUP_REQUIRED",
            )


def apply_setup(client: HubSpotClient, plan: SetupPlan) -> SetupResult:
    """Create the groups and properties the plan marks CREATE."""
    created_groups = []
    for g in plan.groups:
        if g.action is Action.CREATE:
            fresh = properties_api.create_group(client, g.object_type, g.name, g.label)
            created_groups.append(f"{g.object_type}.{g.name}")
            # Not fresh: it answered 409, it exists; most likely this very create, its first answer lost.
            log.info("setup.group_created", object_type=g.object_type, group=g.name, answered_conflict=not fresh)
    created = []
    conflicts = list(plan.conflicts)
    for p in plan.properties:
        if p.action is not Action.CREATE:
            continue
        d = p.definition
        existing = properties_api.create_property(client, d)
        if existing is None or is_own(d, existing):
            created.append(f"{d.object_type}.{d.name}")
            log.info(
                "setup.property_created",
                object_type=d.object_type,
                property=d.name,
                answered_conflict=existing is not None,
            )
            continue
        # Someone else's property of that name appeared between the read and the create.
        conflict = conflict_of(d, existing)
        if conflict:
            conflicts.append(PlannedProperty(d, Action.CONFLICT, conflict))
            log.warning("setup.property_conflict", object_type=d.object_type, property=d.name, conflict=conflict)
        else:
            log.info("setup.property_exists", object_type=d.object_type, property=d.name)
    return SetupResult(
        plan,
        dry_run=False,
        groups_created=tuple(created_groups),
        properties_created=tuple(created),
        conflicts=tuple(conflicts),
    )
