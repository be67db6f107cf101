"""Issue 18: text for people. One number format, reasons cut at a word (or an item) with "…", records and owners by
name, and a pull that tells what changed apart from what it only re-checked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hubsync.jobs.handoff import TaskResult
from hubsync.jobs.pull import PullResult, StreamCounts
from hubsync.jobs.push import PushResult, RecordChange
from hubsync.render.cycle import pull_line
from hubsync.render.names import Names
from hubsync.render.push import push_lines
from hubsync.render.text import counted, shorten

REASON = "demo / consultation request (+50), pricing page 2× (+30), webinar attended (+20), comparison page (+5)"


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (len(REASON), REASON),
        (82, "demo / consultation request (+50), pricing page 2× (+30), webinar attended (+20) …"),
        (81, "demo / consultation request (+50), pricing page 2× (+30) …"),
        (60, "demo / consultation request (+50), pricing page 2× (+30) …"),
        (20, "demo / …"),  # no whole item fits: whole words
        (5, "demo…"),  # not even a word: cut inside it
    ],
)
def test_shorten_cuts_after_an_item_else_a_word(width: int, expected: str) -> None:
    assert shorten(REASON, width) == expected
    assert len(shorten(REASON, width)) <= width


def test_shorten_keeps_indentation_and_joins_lines() -> None:
    assert shorten("  A1 lead  Anna", 40) == "  A1 lead  Anna"
    assert shorten("first line\nsecond", 40) == "first line second"


def test_counts_have_thousands_separators_and_their_noun() -> None:
    assert counted(1_968, "association") == "1,968 associations"
    assert counted(1, "company", "companies") == "1 company"


def _pull(counts: dict[str, StreamCounts], contacts: int = 0, companies: int = 0) -> PullResult:
    return PullResult(
        counts=counts,
        touched_contacts=frozenset(range(contacts)),
        touched_companies=frozenset(range(companies)),
        api_calls=3,
        started_at=datetime(2026, 3, 1, tzinfo=UTC),
    )


def test_a_quiet_pull_says_it_only_rechecked() -> None:
    quiet = _pull({"owners": StreamCounts(stored=8), "contacts": StreamCounts(), "associations": StreamCounts(1_968)})
    assert pull_line(quiet) == "pulled 0 records (none new or changed); re-checked 1,968 associations and 8 owners"
    assert quiet.records == 0


def test_a_busy_pull_says_what_changed() -> None:
    busy = _pull(
        {"contacts": StreamCounts(stored=2_400, deleted=2), "associations": StreamCounts(stored=5)},
        contacts=2_080,
        companies=1,
    )
    assert pull_line(busy) == (
        "pulled 2,400 records (2,080 contacts and 1 company new or changed), 2 deleted in HubSpot; "
        "re-checked 5 associations"
    )


def test_push_samples_and_planned_tasks_name_people() -> None:
    change = RecordChange("contacts", 101, {"hubsync_reason": REASON, "hubsync_segment": "A1"}, {})
    result = PushResult(
        dry_run=True,
        records_changed=1_250,
        records_pushed=0,
        updates_sent=0,
        properties_changed={"hubsync_reason": 1_250},
        failures=(),
        sample=(change, RecordChange("companies", 7, {"hubsync_tier": "smb"}, {})),
        tasks=TaskResult(dry_run=True, planned=((101, 70000000, "[hubsync] A1 lead, engagement 95: Anna Schmidt"),)),
    )
    names = Names(contacts={101: "Anna Schmidt <anna@acme.example>"}, owners={70000000: "Mehmet Fischer"})
    text = "\n".join(push_lines(result, names))
    assert "records would change: 1,250;" in text
    assert "  hubsync_reason: 1,250" in text
    assert (
        "  contact Anna Schmidt <anna@acme.example>: hubsync_reason='demo / consultation request (+50), "
        "pricing page 2× (+30) …', hubsync_segment='A1'"
    ) in text
    assert "  company 7: hubsync_tier='smb'" in text, "a record hubsync holds no name for keeps its id"
    assert "  Anna Schmidt <anna@acme.example> → Mehmet Fischer: [hubsync] A1 lead" in text
