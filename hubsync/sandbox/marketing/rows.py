"""Rows of the portal's activity logs as the marketing endpoints serve them: a stable UUID per row, and the
offset at which a page of rows starts."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from hubsync.sandbox import responses

if TYPE_CHECKING:
    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.routing import Request


def row_uuid(portal: Portal, row_id: int) -> str:
    return str(uuid.UUID(int=(portal.portal_id << 64) | row_id))


def row_offset(req: Request, name: str) -> int:
    raw = req.q(name)
    if not raw:
        return 0
    if not raw.isdigit():
        raise responses.validation(f"Invalid {name} {raw!r}")
    return int(raw)
