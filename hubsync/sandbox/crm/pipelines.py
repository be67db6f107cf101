"""Pipelines of deals and tickets: the v3 API and the legacy v1 one (`/crm-pipelines/v1`), both from the stages the
property catalog defines (one pipeline per object type, as a portal that never added one has)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubsync.sandbox import responses, schema
from hubsync.sandbox.catalog import DEAL_STAGES, TICKET_STAGES
from hubsync.sandbox.crm.parsing import object_type
from hubsync.sandbox.responses import Reply, iso

if TYPE_CHECKING:
    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.routing import Request

# object type -> (pipeline id, label, stage ids); ticket stages are HubSpot's numbered defaults.
PIPELINES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    schema.DEALS: ("default", "Sales Pipeline", DEAL_STAGES),
    schema.TICKETS: ("0", "Support Pipeline", TICKET_STAGES),
}
_TICKET_STAGE_LABELS = ("New", "Waiting on contact", "Waiting on us", "Closed")


def _stage_metadata(t: str, index: int, stage: str, count: int) -> dict[str, str]:
    if t == schema.TICKETS:
        return {"ticketState": "CLOSED" if index == count - 1 else "OPEN"}
    closed = stage in ("closedwon", "closedlost")
    probability = "1.0" if stage == "closedwon" else "0.0" if closed else f"{0.2 * (index + 1):.1f}"
    return {"isClosed": str(closed).lower(), "probability": probability}


def _pipeline(portal: Portal, req: Request) -> tuple[str, str, str, tuple[str, ...]]:
    t = object_type(portal, req)
    if t not in PIPELINES:
        raise responses.validation(f"{t} have no pipelines")
    return (t, *PIPELINES[t])


def _created(portal: Portal) -> int:
    """When the pipelines were made: with the portal, before its first user."""
    return min((o.created for o in portal.owners), default=portal.now)


def _label(t: str, index: int, stage: str) -> str:
    return _TICKET_STAGE_LABELS[index] if t == schema.TICKETS else stage


def list_pipelines(portal: Portal, req: Request) -> Reply:
    """`GET /crm/v3/pipelines/{objectType}`."""
    t, pipeline_id, label, stages = _pipeline(portal, req)
    stamp = iso(_created(portal))
    body = {
        "id": pipeline_id,
        "label": label,
        "displayOrder": 0,
        "archived": False,
        "createdAt": stamp,
        "updatedAt": stamp,
        "stages": [
            {
                "id": stage,
                "label": _label(t, i, stage),
                "displayOrder": i,
                "metadata": _stage_metadata(t, i, stage, len(stages)),
                "archived": False,
                "createdAt": stamp,
                "updatedAt": stamp,
                "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
            }
            for i, stage in enumerate(stages)
        ],
    }
    return Reply(200, {"results": [body]})


def list_pipelines_legacy(portal: Portal, req: Request) -> Reply:
    """`GET /crm-pipelines/v1/pipelines/{objectType}`: times in milliseconds, closed flags as booleans."""
    t, pipeline_id, label, stages = _pipeline(portal, req)
    created = _created(portal)
    body: dict[str, Any] = {
        "pipelineId": pipeline_id,
        "objectType": schema.SINGULAR[t].upper(),
        "objectTypeId": schema.TYPE_IDS[t],
        "label": label,
        "displayOrder": 0,
        "active": True,
        "default": True,
        "createdAt": created,
        "updatedAt": created,
        "stages": [
            {
                "stageId": stage,
                "label": _label(t, i, stage),
                "displayOrder": i,
                "active": True,
                "metadata": _stage_metadata(t, i, stage, len(stages)),
                "createdAt": created,
                "updatedAt": created,
            }
            for i, stage in enumerate(stages)
        ],
    }
    return Reply(200, {"results": [body]})
