"""HubSpot's task endpoints as hubsync uses them: search open tasks by a subject marker (or those changed since a
date), read tasks by id, task ↔ contact and task ↔ company associations, the association type ids, the batch
create, the update of an open task's body and priority, and (for teardown) completing or archiving tasks in
batches.

Which tasks are hubsync's is the caller's word (`marker`, the prefix of every subject hubsync writes). A task is
created on a contact or (an account task) on a company. The batch create correlates each input with the caller's
`objectWriteTraceId`, which HubSpot echoes on the created object; it is sent without automatic retry, because a
timeout may hide tasks HubSpot did create (the caller looks for them first, through the associations).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any, Final

from hubspot.crm.associations.v4 import (
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.objects.tasks import (
    AssociationSpec,
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicAssociationsForObject,
    PublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectId,
    SimplePublicObjectInput,
)

from hubsync.errors import FatalHubSpotError
from hubsync.hubspot.answers import created_object, results_page
from hubsync.hubspot.batch_update import BATCH_MAX
from hubsync.hubspot.paging import next_after
from hubsync.hubspot.streams import crm
from hubsync.hubspot.values import parse_id

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from hubsync.hubspot.client import HubSpotClient

COMPLETED: Final = "COMPLETED"
# Search pages (HubSpot allows 200 per page) and association reads (1,000 ids).
SEARCH_PAGE: Final = 200
ASSOCIATION_BATCH: Final = 1000
TASK_PROPERTIES: Final = (
    "hs_task_subject", "hs_task_status", "hubspot_owner_id", "hs_timestamp", "hs_createdate",
    # When a rep completed it: the sales acceptance and the first response of the calibration report.
    "hs_task_completion_date",
)  # fmt: skip


def is_open(properties: Mapping[str, Any], marker: str) -> bool:
    """An open task whose subject starts with `marker`."""
    subject = str(properties.get("hs_task_subject") or "")
    return subject.startswith(marker) and properties.get("hs_task_status") != COMPLETED


def hubspot_instant(at: datetime) -> str:
    """A UTC ISO 8601 instant with milliseconds, the form HubSpot's datetime properties use."""
    utc = at.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


# What a task is created on: a contact, or (an account task) a company.
CONTACTS: Final = "contacts"
COMPANIES: Final = "companies"


def association_type_id(client: HubSpotClient, to_type: str) -> int:
    """HubSpot's type id for an unlabeled task → `to_type` association ("contacts", "companies"), from the v4
    labels endpoint."""
    api = client.api("crm.associations.v4.schema.definitions_api")
    answer = client.call(api.get_all, "tasks", to_type, operation="push.task_association_labels", expect=results_page)
    specs = list(answer.results)
    for spec in specs:
        if spec.category == "HUBSPOT_DEFINED" and not spec.label:
            return int(spec.type_id)
    if specs:
        return int(specs[0].type_id)
    raise FatalHubSpotError(f"HubSpot lists no association type from tasks to {to_type}")


def search_open_tasks(client: HubSpotClient, marker: str) -> dict[int, dict[str, Any]]:
    """Open tasks whose subject starts with `marker` (by task id: their properties), from the tasks search."""
    status = Filter(property_name="hs_task_status", operator="NEQ", value=COMPLETED)
    found = _search_marked(client, marker, status, operation="push.tasks_search")
    return {task_id: props for task_id, props in found.items() if is_open(props, marker)}


def search_changed_tasks(client: HubSpotClient, marker: str, since: datetime) -> dict[int, dict[str, Any]]:
    """Tasks whose subject carries `marker`'s word, modified at or after `since`, whatever their status (completed
    and reopened ones move the modified date; a deleted one is in no search), by task id: their properties."""
    modified = Filter(property_name="hs_lastmodifieddate", operator="GTE", value=str(round(since.timestamp() * 1000)))
    return _search_marked(client, marker, modified, operation="push.tasks_changed")


def _search_marked(
    client: HubSpotClient, marker: str, condition: Filter, *, operation: str
) -> dict[int, dict[str, Any]]:
    """Every task the search finds with `marker`'s word in its subject and `condition`, sorted and keyset-paged by
    id (so HubSpot's 10,000-result cap never applies)."""
    api = client.api("crm.objects.tasks.search_api")
    # CONTAINS_TOKEN matches whole words: the marker's word, without its brackets.
    token = Filter(property_name="hs_task_subject", operator="CONTAINS_TOKEN", value=re.sub(r"\W", "", marker))
    found: dict[int, dict[str, Any]] = {}
    after_id = 0
    while True:
        request = PublicObjectSearchRequest(
            filter_groups=[
                FilterGroup(
                    filters=[token, condition, Filter(property_name="hs_object_id", operator="GT", value=str(after_id))]
                )
            ],
            sorts=["hs_object_id"],
            properties=list(TASK_PROPERTIES),
            limit=SEARCH_PAGE,
        )
        page = client.call(api.do_search, request, kind="search", operation=operation, expect=results_page)
        for task in page.results:
            found[int(task.id)] = dict(task.properties or {})
        after_id = max((int(task.id) for task in page.results), default=after_id)
        if next_after(page) is None or not page.results:
            return found


def read_tasks(client: HubSpotClient, task_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Properties of the given tasks by id; tasks HubSpot does not know (deleted) are absent."""
    found = crm.read_live(client, "tasks", task_ids, TASK_PROPERTIES, operation="push.tasks_read")
    return {i: dict(task.get("properties") or {}) for task in found if (i := parse_id(task.get("id"))) is not None}


def task_links(client: HubSpotClient, task_ids: Sequence[int], to_type: str) -> dict[int, list[int]]:
    """The records of `to_type` ("contacts", "companies") each task is associated with (tasks without any are
    absent)."""
    return _associated(client, "tasks", task_ids, to_type, operation=f"push.task_{to_type}")


def _associated(
    client: HubSpotClient, from_type: str, ids: Sequence[int], to_type: str, *, operation: str
) -> dict[int, list[int]]:
    """v4 batch association read, 1,000 ids a request: the `to_type` records of each id that has any."""
    api = client.api("crm.associations.v4.batch_api")
    out: dict[int, list[int]] = {}
    for start in range(0, len(ids), ASSOCIATION_BATCH):
        chunk = ids[start : start + ASSOCIATION_BATCH]
        body = BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[PublicFetchAssociationsBatchRequest(id=str(i)) for i in chunk]
        )
        answer = client.call(api.get_page, from_type, to_type, body, operation=operation, expect=results_page)
        for row in answer.results:
            out[int(row._from.id)] = [int(to.to_object_id) for to in row.to or []]  # noqa: SLF001 -- the SDK's name for "from"
    return out


def open_tasks_on(
    client: HubSpotClient, object_type: str, object_ids: Sequence[int], marker: str
) -> dict[int, tuple[int, dict[str, Any]]]:
    """The newest open task whose subject starts with `marker` on each of these contacts or companies that has
    one (task id, properties), read through their task associations (not search: it lags behind writes)."""
    links = _associated(client, object_type, object_ids, "tasks", operation=f"push.{object_type}_tasks")
    task_ids = sorted({t for linked in links.values() for t in linked})
    tasks = read_tasks(client, task_ids) if task_ids else {}
    found: dict[int, tuple[int, dict[str, Any]]] = {}
    for object_id, linked in links.items():
        mine = sorted((t, tasks[t]) for t in linked if t in tasks and is_open(tasks[t], marker))
        if mine:
            found[object_id] = mine[-1]
    return found


@dataclass(frozen=True, slots=True)
class NewTask:
    """A task to create on a contact or (an account task) on a company."""

    # "contacts" or "companies", and the record's id.
    object_type: str
    object_id: int
    owner_id: int
    subject: str
    # Rich text (HubSpot shows `<br>` line breaks in a task's notes).
    body: str
    due_at: datetime
    priority: str
    type: str


@dataclass(frozen=True, slots=True)
class BatchCreated:
    """What a batch create answered, by the caller's trace id: the new task ids, and the inputs HubSpot refused
    (with its error). An input in neither was not confirmed: it may or may not exist."""

    created: dict[str, int]
    failed: dict[str, str]


def _create_input(trace_id: str, task: NewTask, type_id: int) -> SimplePublicObjectBatchInputForCreate:
    return SimplePublicObjectBatchInputForCreate(
        object_write_trace_id=trace_id,
        properties={
            "hs_task_subject": task.subject,
            "hs_task_body": task.body,
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": task.priority,
            "hs_task_type": task.type,
            "hs_timestamp": hubspot_instant(task.due_at),
            "hubspot_owner_id": str(task.owner_id),
        },
        associations=[
            PublicAssociationsForObject(
                to=PublicObjectId(id=str(task.object_id)),
                types=[AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=type_id)],
            )
        ],
    )


def create_tasks(
    client: HubSpotClient, tasks: Sequence[tuple[str, NewTask]], type_ids: Mapping[str, int]
) -> BatchCreated:
    """Create up to 100 tasks in one request, each (trace id, task) associated to its record with the type id of
    its object type. Sent once: on a RetriableHubSpotError the tasks may or may not exist, so the caller looks for
    them before it tries again. A 207 names the refused inputs; a request HubSpot refuses as a whole raises."""
    if len(tasks) > BATCH_MAX:
        raise ValueError(f"at most {BATCH_MAX} tasks per batch create, not {len(tasks)}")
    api = client.api("crm.objects.tasks.batch_api")
    body = BatchInputSimplePublicObjectBatchInputForCreate(
        inputs=[_create_input(trace, task, type_ids[task.object_type]) for trace, task in tasks]
    )
    answer = client.call(api.create, body, retry=False, operation="push.tasks_batch_create", expect=results_page)
    traces = [trace for trace, _ in tasks]
    created = {
        str(r.object_write_trace_id): int(r.id) for r in answer.results if r.object_write_trace_id in set(traces)
    }
    failed: dict[str, str] = {}
    for error in getattr(answer, "errors", None) or []:
        context = error.context or {}
        message = f"{error.category or 'ERROR'}: {error.message or 'no message'}"
        named = [str(t) for t in context.get("objectWriteTraceId") or []]
        # Without a trace id, an input is named by its position in the request.
        named += [traces[int(i)] for i in context.get("index") or [] if str(i).isdigit() and int(i) < len(traces)]
        for trace in named:
            if trace not in created:
                failed.setdefault(trace, message)
    return BatchCreated(created, failed)


def update_task(client: HubSpotClient, task_id: str, *, body: str, priority: str | None = None) -> None:
    """Replace an open task's body, and set its priority if given. It sets values, so sending it twice does no
    harm: retried like a read."""
    api = client.api("crm.objects.tasks.basic_api")
    properties = {"hs_task_body": body, **({"hs_task_priority": priority} if priority is not None else {})}
    client.call(
        api.update,
        task_id,
        SimplePublicObjectInput(properties=properties),
        operation="push.task_update",
        expect=created_object,
    )


# -- teardown -------------------------------------------------------------------------------------------------


def complete_tasks(client: HubSpotClient, task_ids: Sequence[int]) -> set[int]:
    """Mark tasks COMPLETED, up to 100 per request; the ids HubSpot confirmed. It sets a value, so sending it twice
    does no harm: retried like a read."""
    api = client.api("crm.objects.tasks.batch_api")
    done: set[int] = set()
    for start in range(0, len(task_ids), BATCH_MAX):
        body = BatchInputSimplePublicObjectBatchInput(
            inputs=[
                SimplePublicObjectBatchInput(id=str(i), properties={"hs_task_status": COMPLETED})
                for i in task_ids[start : start + BATCH_MAX]
            ]
        )
        answer = client.call(api.update, body, operation="teardown.tasks_complete", expect=results_page)
        done |= {int(r.id) for r in answer.results}
    return done


def archive_tasks(client: HubSpotClient, task_ids: Sequence[int]) -> None:
    """Archive tasks (HubSpot's delete: to the recycling bin), up to 100 per request. Archiving a task that is gone
    does nothing, so a lost answer is simply retried."""
    api = client.api("crm.objects.tasks.batch_api")
    for start in range(0, len(task_ids), BATCH_MAX):
        body = BatchInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=str(i)) for i in task_ids[start : start + BATCH_MAX]]
        )
        client.call(api.archive, body, operation="teardown.tasks_archive")
