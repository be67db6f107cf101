"""Contact lists and workflows: a sandbox portal has none, and says so in HubSpot's shapes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubsync.sandbox.responses import Reply

if TYPE_CHECKING:
    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.routing import Request


def search_lists(portal: Portal, req: Request) -> Reply:
    """`POST /crm/v3/lists/search`."""
    del portal
    offset = req.json_object().get("offset") or 0 if isinstance(req.body, dict) else 0
    return Reply(200, {"lists": [], "hasMore": False, "offset": offset, "total": 0})


def list_workflows(portal: Portal, req: Request) -> Reply:
    """`GET /automation/v3/workflows`."""
    del portal, req
    return Reply(200, {"workflows": []})
