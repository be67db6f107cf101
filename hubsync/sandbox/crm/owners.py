"""CRM owners: list (by email, archived) and read by id; and the account's users and teams (settings API), which the
owners are."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubsync.sandbox import responses
from hubsync.sandbox.crm.answers import paging
from hubsync.sandbox.crm.parsing import parse_id
from hubsync.sandbox.responses import Reply, iso

if TYPE_CHECKING:
    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.routing import Request

USERS_MAX = 100
OWNERS_MAX = 500  # HubSpot's documented page size limit; public clients ask for 500


def _team_id(team: str) -> str:
    return str(4_000 + sum(map(ord, team)))


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
        "teams": [{"id": _team_id(owner.team), "name": owner.team, "primary": True}],
    }


def _start(req: Request) -> int:
    return int(req.q("after") or 0) if (req.q("after") or "0").isdigit() else 0


def list_owners(portal: Portal, req: Request) -> Reply:
    limit = req.q_int("limit", 100, OWNERS_MAX)
    start = _start(req)
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


def list_users(portal: Portal, req: Request) -> Reply:
    """`GET /settings/v3/users`: the active owners as the account's users."""
    limit = req.q_int("limit", 100, USERS_MAX)
    start = _start(req)
    with portal.lock:
        users = [o for o in portal.owners if not o.archived]
        page = [
            {
                "id": str(o.user_id),
                "email": o.email,
                "firstName": o.first_name,
                "lastName": o.last_name,
                "roleIds": [],
                "primaryTeamId": _team_id(o.team),
                "secondaryTeamIds": [],
                "superAdmin": False,
            }
            for o in users[start : start + limit]
        ]
        following = str(start + limit) if start + limit < len(users) else None
    return Reply(200, {"results": page, **paging(following, req.path)})


def list_teams(portal: Portal, req: Request) -> Reply:
    """`GET /settings/v3/users/teams`: every team an active owner is in, with its users."""
    del req
    with portal.lock:
        teams: dict[str, list[str]] = {}
        for o in portal.owners:
            if not o.archived:
                teams.setdefault(o.team, []).append(str(o.user_id))
    results = [
        {"id": _team_id(name), "name": name, "userIds": users, "secondaryUserIds": []} for name, users in teams.items()
    ]
    return Reply(200, {"results": results})
