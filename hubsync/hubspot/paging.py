"""HubSpot's cursor paging: a list or search answer names the page after it in `paging.next.after`."""

from __future__ import annotations

from collections.abc import Mapping


def next_after(answer: object) -> str | None:
    """The token of the page after `answer` (JSON as HubSpot sends it, or an SDK model); None on the last page."""
    if isinstance(answer, Mapping):
        after = ((answer.get("paging") or {}).get("next") or {}).get("after")
    else:
        after = getattr(getattr(getattr(answer, "paging", None), "next", None), "after", None)
    return str(after) if after else None
