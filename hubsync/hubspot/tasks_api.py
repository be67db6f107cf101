"""HubSpot's task endpoints as hubsync uses them: search open tasks by a subject marker, read tasks by id, task ↔
contact associations, the association type id, the create, and the update of an open task's body and priority.

Which tasks are hubsync's is the caller's word (`marker`, the prefix of every subject hubsync writes); the create is
sent without automatic retry, because a timeout may hide a task HubSpot did create (the caller looks first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any, Final

import structlog
from hubspot.crm.associations.v4 import (
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.objects.tasks import (
    AssociationSpec,
    Filter,
    FilterGroup,
    PublicAssociationsForObject,
    PublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)

from hubsync.errors import FatalHubSpotError
from hubsync.hubspot.answers import created_object, results_page
from hubsync.hubspot.paging import next_after
from hubsync.hubspot.streams import crm
from hubsync.hubspot.values import parse_id

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from hubsync.hubspot.client import HubSpotClient

log = structlog.get_logger(__name__)

COMPLETED: Final = "COMPLETED"
# Search pages (HubSpot allows 200 per page) and association reads (1,000 ids).
SEARCH_PAGE: Final = 200
SEARCH_RESULTS_MAX: Final = 10_000
ASSOCIATION_BATCH: Final = 1000
TASK_PROPERTIES: Final = ("hs_task_subject", "hs_task_status", "hubspot_owner_id", "hs_timestamp", "hs_createdate")


def is_open(properties: Mapping[str, Any], marker: str) -> bool:
    """An open task whose subject starts with `marker`."""
    subject = str(properties.get("hs_task_subject") or "")
    return subject.startswith(marker) and properties.get("hs_task_status") != COMPLETED


def hubspot_instant(at: datetime) -> str:
    """A UTC ISO 8601 instant with milliseconds, the form HubSpot's datetime properties use."""
    utc = at.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def association_type_id(client: HubSpotClient) -> int:
    """HubSpot's type id for an unlabeled task → contact association, from the v4 labels endpoint."""
    api = client.api("crm.associations.v4.schema.definitions_api")
    answer = client.call(
        api.get_all, "tasks", "contacts", operation="push.task_association_labels", expect=results_page
    )
    specs = list(answer.results)
    for spec in specs:
        if spec.category == "HUBSPOT_DEFINED" and not spec.label:
            return int(spec.type_id)
    if specs:
        return int(specs[0].type_id)
    raise FatalHubSpotError("HubSpot lists no association type from tasks to contacts")


def search_open_tasks(client: HubSpotClient, marker: str) -> dict[int, dict[str, Any]]:
    """Open tasks whose subject starts with `marker` (by task id: their properties), from the tasks search."""
    api = client.api("crm.objects.tasks.search_api")
    # CONTAINS_TOKEN matches whole words: the marker's word, without its brackets.
    token = re.sub(r"\W", "", marker)
    found: dict[int, dict[str, Any]] = {}
    after: str | None = None
    while True:
        request = PublicObjectSearchRequest(
            filter_groups=[
                FilterGroup(
                    filters=[
                        Filter(property_name="hs_task_subject", operator="CONTAINS_TOKEN", value=token),
                        Filter(property_name="hs_task_status", operator="NEQ", value=COMPLETED),
                    ]
                )
            ],
            sorts=["hs_object_id"],
            properties=list(TASK_PROPERTIES),
            limit=SEARCH_PAGE,
            after=after,
        )
        page = client.call(api.do_search, request, kind="search", operation="push.tasks_search", expect=results_page)
        for task in page.results:
            props = dict(task.properties or {})
            if is_open(props, marker):
                found[int(task.id)] = props
        after = next_after(page)
        if after is None:
            return found
        if int(after) >= SEARCH_RESULTS_MAX:
            # Paging past HubSpot's 10,000 results per query is refused; that many open hubsync tasks means the
            # capacity settings are far off, and the local "open" rows still count what hubsync created.
            log.warning("push.tasks_search_capped", found=len(found))
            return found


def read_tasks(client: HubSpotClient, task_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Properties of the given tasks by id; tasks HubSpot does not know (deleted) are absent."""
    found = crm.read_live(client, "tasks", task_ids, TASK_PROPERTIES, operation="push.tasks_read")
    return {i: dict(task.get("properties") or {}) for task in found if (i := parse_id(task.get("id"))) is not None}


def task_contacts(client: HubSpotClient, task_ids: Sequence[int]) -> dict[int, list[int]]:
    """The contacts each task is associated with (tasks without any are absent)."""
    api = client.api("crm.associations.v4.batch_api")
    out: dict[int, list[int]] = {}
    for start in range(0, len(task_ids), ASSOCIATION_BATCH):
        chunk = task_ids[start : start + ASSOCIATION_BATCH]
        body = BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[PublicFetchAssociationsBatchRequest(id=str(i)) for i in chunk]
        )
        answer = client.call(
            api.get_page, "tasks", "contacts", body, operation="push.task_contacts", expect=results_page
        )
        for row in answer.results:
            out[int(row._from.id)] = [int(to.to_object_id) for to in row.to or []]  # noqa: SLF001 -- the SDK's name for "from"
    return out


def contact_task_ids(client: HubSpotClient, contact_id: int) -> list[int]:
    """The tasks associated with a contact (the associations endpoint: unlike search, it does not lag behind)."""
    api = client.api("crm.associations.v4.basic_api")
    ids: list[int] = []
    after: str | None = None
    while True:
        kwargs: dict[str, Any] = {"limit": 500}
        if after:
            kwargs["after"] = after
        page = client.call(
            api.get_page,
            "contacts",
            str(contact_id),
            "tasks",
            operation="push.contact_tasks",
            expect=results_page,
            **kwargs,
        )
        ids.extend(int(row.to_object_id) for row in page.results)
        after = next_after(page)
        if after is None:
            return ids


def find_open_task(client: HubSpotClient, contact_id: int, marker: str) -> tuple[int, dict[str, Any]] | None:
    """The newest open task on a contact whose subject starts with `marker`, read through the contact's task
    associations (not search: it lags)."""
    tasks = read_tasks(client, contact_task_ids(client, contact_id))
    mine = sorted((i, p) for i, p in tasks.items() if is_open(p, marker))
    return mine[-1] if mine else None


@dataclass(frozen=True, slots=True)
class NewTask:
    """A task to create on a contact."""

    contact_id: int
    owner_id: int
    subject: str
    # Rich text (HubSpot shows `<br>` line breaks in a task's notes).
    body: str
    due_at: datetime
    priority: str
    type: str


def _create_body(task: NewTask, type_id: int) -> SimplePublicObjectInputForCreate:
    return SimplePublicObjectInputForCreate(
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
                to=PublicObjectId(id=str(task.contact_id)),
                types=[AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=type_id)],
            )
        ],
    )


def create_task(client: HubSpotClient, task: NewTask, type_id: int) -> int:
    """Create the task, associated to its contact; its id. Sent once: on a RetriableHubSpotError the task may or may
    not exist, so the caller looks for it before it tries again."""
    api = client.api("crm.objects.tasks.basic_api")
    created = client.call(
        api.create, _create_body(task, type_id), retry=False, operation="push.task_create", expect=created_object
    )
    return int(created.id)


def update_task(client: HubSpotClient, task_id: str, *, body: str, priority: str) -> None:
    """Replace an open task's body and set its priority. It sets values, so sending it twice does no harm: retried
    like a read."""
    api = client.api("crm.objects.tasks.basic_api")
    client.call(
        api.update,
        task_id,
        SimplePublicObjectInput(properties={"hs_task_body": body, "hs_task_priority": priority}),
        operation="push.task_update",
        expect=created_object,
    )
