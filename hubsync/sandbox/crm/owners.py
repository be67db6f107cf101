"""CRM owners: list (by email, archived) and read by id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubsync.sandbox import responses
from hubsync.sandbox.crm.answers import paging
from hubsync.sandbox.crm.parsing import parse_id
from hubsync.sandbox.responses import Reply, iso

if TYPE_CHECKING:
    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.routing import Request

OWNERS_MAX = 100


def owner_json(owner: Any) -> dict[str, Any]:
    return {
        "id": str(owner.id),
        "email": owner.email,
        "type": "PERSON",
        "firstName": owner.first_name,
        "lastName": owner.last_name,
        "userId": owner.user_id,
        "userIdIncludingInactive": owner.user_id,
        "createdAt": iso(owner.created),
        "updatedAt": iso(owner.updated),
        "archived": owner.archived,
        "teams": [{"id": str(4_000 + sum(map(ord, owner.team))), "name": owner.team, "primary": True}],
    }


def list_owners(portal: Portal, req: Request) -> Reply:
    limit = req.q_int("limit", 100, OWNERS_MAX)
    start = int(req.q("after") or 0) if (req.q("after") or "0").isdigit() else 0
    email = req.q("email")
    archived = req.q_bool("archived")
    with portal.lock:
        owners = [o for o in portal.owners if o.archived == archived and (email is None or o.email == email)]
        page = owners[start : start + limit]
        following = str(start + limit) if start + limit < len(owners) else None
        return Reply(200, {"results": [owner_json(o) for o in page], **paging(following, req.path)})


def get_owner(portal: Portal, req: Request) -> Reply:
    with portal.lock:
        owner_id = parse_id(req.params["ownerId"])
        owner = portal.owner(owner_id) if owner_id is not None else None
        if owner is None:
            raise responses.not_found()
        return Reply(200, owner_json(owner))
