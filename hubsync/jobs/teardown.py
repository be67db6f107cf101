"""`hubsync teardown`: remove what hubsync created in a portal — its properties and property group on contacts and
companies, and, as the admin chooses, its open sales tasks. Plan, then apply: `plan_teardown` is pure (from what
the portal has), `read_plan` reads the portal and plans, `apply_teardown` carries a plan out; a dry run stops after
the plan.

What is removed:
* every property hubsync defines (named with the configured prefix) whose definition is compatible with hubsync's:
  a property of that name with another type or options was never hubsync's (`hubsync setup` left it alone and
  reported it), so teardown leaves it too and says so. Properties in hubsync's group that carry the prefix and are
  not HubSpot's own are an earlier hubsync's and go as well;
* hubsync's property group, unless something teardown keeps still sits in it;
* open hubsync tasks (subject marker, not completed), by `--tasks`: `keep` (the default) leaves them in the reps'
  queues, since they are work a rep may be doing; `close` marks them COMPLETED (they leave the queues and stay on
  the contact's timeline); `delete` archives them.
HubSpot archives properties, groups and tasks into its recycling bin, where they can be restored for 90 days.
Properties go before their group; every call is safe to repeat (a 404 means done already), so a teardown stopped
halfway is finished by running it again, and one run after another writes nothing.

In the local database, what hubsync remembers having pushed is forgotten for each object type whose properties
went, so a later `hubsync setup` and push write every value again instead of believing HubSpot still holds them;
tasks closed or deleted are "done". Scores and the pulled copy stay: the database is hubsync's own (delete it to
remove them). A `lifecyclestage` that hubsync moved forward is not moved back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy.engine import Engine

from hubsync.hubspot import properties as properties_api
from hubsync.hubspot import tasks_api
from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.properties import OBJECT_TYPES
from hubsync.jobs.open_tasks import is_hubsync_open
from hubsync.jobs.properties import definitions
from hubsync.jobs.setup import conflict_of
from hubsync.render.task_text import MARKER
from hubsync.settings import PushConfig
from hubsync.store import tasks as task_store
from hubsync.store.db import transaction
from hubsync.store.pushed import forget_pushed

log = structlog.get_logger(__name__)


class TaskAction(StrEnum):
    KEEP = "keep"
    CLOSE = "close"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Kept:
    object_type: str
    name: str
    why: str


@dataclass(frozen=True, slots=True)
class TeardownPlan:
    # (object type, name) of each property and group to archive, properties first.
    properties: tuple[tuple[str, str], ...]
    groups: tuple[tuple[str, str], ...]
    # Properties and groups left in the portal, and why.
    kept: tuple[Kept, ...]
    # Open hubsync tasks (HubSpot ids) and what happens to them.
    tasks: tuple[int, ...]
    task_action: TaskAction

    @property
    def tasks_removed(self) -> tuple[int, ...]:
        return () if self.task_action is TaskAction.KEEP else self.tasks

    @property
    def empty(self) -> bool:
        """Nothing to write: a teardown run again after a finished one."""
        return not (self.properties or self.groups or self.tasks_removed)


@dataclass(frozen=True, slots=True)
class TeardownResult:
    plan: TeardownPlan
    properties_archived: int
    groups_archived: int
    tasks_removed: int
    # Records whose pushed values the local database forgot.
    pushed_forgotten: int


# -- the plan (pure) ------------------------------------------------------------------------------------------


def plan_teardown(
    config: PushConfig,
    existing_groups: Mapping[str, Iterable[str]],
    existing_properties: Mapping[str, Mapping[str, Mapping[str, Any]]],
    open_tasks: Iterable[int],
    task_action: TaskAction,
) -> TeardownPlan:
    """What teardown does, from what the portal has: group names and property JSON (by name) per object type."""
    mine = {(d.object_type, d.name): d for d in definitions(config)}
    archive: list[tuple[str, str]] = []
    kept: list[Kept] = []
    groups: list[tuple[str, str]] = []
    for object_type in OBJECT_TYPES:
        staying = []  # what keeps hubsync's group in place: properties of others inside it
        for name, found in sorted(existing_properties.get(object_type, {}).items()):
            definition = mine.get((object_type, name))
            conflict = conflict_of(definition, found) if definition is not None else ""
            in_group = found.get("groupName") == config.property_group
            if definition is not None and not conflict:
                archive.append((object_type, name))
            elif in_group and name.startswith(config.property_prefix) and not found.get("hubspotDefined"):
                archive.append((object_type, name))  # an earlier hubsync's, no longer defined
            elif definition is not None or in_group:
                kept.append(Kept(object_type, name, f"not hubsync's ({conflict or 'in its group'})"))
                staying += [name] if in_group else []
        if config.property_group not in set(existing_groups.get(object_type, ())):
            continue
        if staying:
            why = f"the group still holds {', '.join(staying)}"
            kept.append(Kept(object_type, config.property_group, why))
        else:
            groups.append((object_type, config.property_group))
    return TeardownPlan(tuple(archive), tuple(groups), tuple(kept), tuple(sorted(set(open_tasks))), task_action)


# -- reading and applying -------------------------------------------------------------------------------------


def read_plan(client: HubSpotClient, engine: Engine, config: PushConfig, task_action: TaskAction) -> TeardownPlan:
    """The plan for the portal as it is now: its groups and properties, and hubsync's open tasks. Reads only."""
    groups, properties = properties_api.read_portal_schema(client)
    return plan_teardown(config, groups, properties, open_hubsync_tasks(client, engine), task_action)


def open_hubsync_tasks(client: HubSpotClient, engine: Engine) -> list[int]:
    """hubsync's open tasks in HubSpot: the search, plus the local open rows it does not show yet (search lags
    behind writes) that are still open when read by id."""
    found = tasks_api.search_open_tasks(client, MARKER)
    with transaction(engine) as conn:
        local = [i for t in task_store.live_tasks(conn) if (i := _hubspot_id(t)) is not None]
    unseen = [t for t in local if t not in found]
    read = tasks_api.read_tasks(client, unseen) if unseen else {}
    return sorted({*found, *(t for t, props in read.items() if is_hubsync_open(props))})


def apply_teardown(client: HubSpotClient, engine: Engine, plan: TeardownPlan) -> TeardownResult:
    """Tasks first (a rep's queue empties before the properties the task text refers to go), then properties, then
    their groups; then the local database."""
    removed = _remove_tasks(client, plan)
    archived = 0
    for object_type, name in plan.properties:
        done = properties_api.archive_property(client, object_type, name)
        archived += done
        log.info("teardown.property_archived", object_type=object_type, property=name, already_gone=not done)
    groups = 0
    for object_type, name in plan.groups:
        done = properties_api.archive_group(client, object_type, name)
        groups += done
        log.info("teardown.group_archived", object_type=object_type, group=name, already_gone=not done)
    with transaction(engine) as conn:
        rows = [t.id for t in task_store.live_tasks(conn) if _hubspot_id(t) in removed]
        task_store.mark_done(conn, rows)
        forgotten = forget_pushed(conn, sorted({object_type for object_type, _ in plan.properties}))
    log.info(
        "teardown.done",
        properties_archived=archived,
        groups_archived=groups,
        tasks_removed=len(removed),
        task_action=plan.task_action.value,
        pushed_forgotten=forgotten,
    )
    return TeardownResult(plan, archived, groups, len(removed), forgotten)


def _remove_tasks(client: HubSpotClient, plan: TeardownPlan) -> set[int]:
    tasks: Sequence[int] = plan.tasks_removed
    if not tasks:
        return set()
    if plan.task_action is TaskAction.CLOSE:
        return tasks_api.complete_tasks(client, tasks)
    tasks_api.archive_tasks(client, tasks)
    return set(tasks)


def _hubspot_id(task: task_store.LocalTask) -> int | None:
    text = task.hubspot_task_id
    return int(text) if task.state == "open" and text is not None and text.isdigit() else None
