"""Whether a CRM stream's window is read faster by listing the whole stream again.

Search answers 200 records a page but has a budget of its own (a few requests a second); the list endpoint answers
100 a page, once per property chunk, from the general 10-second budget, and carries an engagement's contacts inline
where search needs one association call per page. After hubsync wrote scores to most of a stream, its next window
matches most of the stream, and listing it is the faster read. The first search page of a window says how many
records match (HubSpot's `total`); the stream's stored count is what a listing reads (at least what matches).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hubsync.hubspot.client_settings import ClientSettings
from hubsync.hubspot.streams.crm import LIST_LIMIT, SEARCH_LIMIT


@dataclass(frozen=True, slots=True)
class Rates:
    """The request rates hubsync paces itself to, per second: the general budget and search's own."""

    requests: float
    searches: float

    @classmethod
    def of(cls, settings: ClientSettings) -> Rates:
        """What the client paces to: its share of the 10-second budget, and the search rate."""
        return cls(settings.requests_per_10s * settings.pace_fraction / 10, settings.search_per_second)


def window_seconds(matching: int, *, engagement: bool, rates: Rates) -> float:
    """The least time the limits allow to read what is left of a window after its first page: the search pages
    at search's rate; an engagement's association call per page runs on the general budget meanwhile."""
    pages = max(0, math.ceil(matching / SEARCH_LIMIT) - 1)
    seconds = pages / rates.searches
    return max(seconds, pages / rates.requests) if engagement else seconds


def listing_seconds(size: int, *, chunks: int, rates: Rates) -> float:
    """The least time the limits allow to list `size` records, a request per page and property chunk."""
    return math.ceil(size / LIST_LIMIT) * max(1, chunks) / rates.requests


def faster_to_list(matching: int | None, stored: int, *, chunks: int, engagement: bool, rates: Rates) -> bool:
    """After the first search page of a window: whether listing the stream beats reading the window's remaining
    pages. `matching` is the window's total (None: HubSpot gave none, so no reason to switch); a listing reads at
    least what matches, records created since the stream was stored among them."""
    if matching is None:
        return False
    size = max(stored, matching)
    return listing_seconds(size, chunks=chunks, rates=rates) < window_seconds(
        matching, engagement=engagement, rates=rates
    )
