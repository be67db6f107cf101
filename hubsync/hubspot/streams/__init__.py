"""One small adapter per HubSpot stream: each knows its endpoint, its paging and its mapping to records, and
nothing else, so replacing a legacy endpoint (email events, form submissions are v1) is a change to one file."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Final

import structlog

from hubsync.hubspot.values import Skip

log = structlog.get_logger(__name__)

_EXAMPLES: Final = 3


def log_skips(stream: str, skips: Sequence[Skip]) -> int:
    """Log the records of one page that could not be used (one event per page, counted by reason, with a few source
    ids to look up); returns how many there were, for the stream's count."""
    if skips:
        log.info(
            "pull.records_skipped",
            stream=stream,
            count=len(skips),
            reasons=dict(Counter(skip.reason for skip in skips)),
            examples=[skip.source_id for skip in skips if skip.source_id is not None][:_EXAMPLES],
        )
    return len(skips)
