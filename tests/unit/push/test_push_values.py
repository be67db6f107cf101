"""Pure parts of the property push: values from real scores, the diff, batches, the lifecycle rule; and the split
of a batch HubSpot refuses as a whole (a fake HubSpot at the client boundary, a real SQLite database)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.batching import batches
from hubsync.errors import FatalHubSpotError
from hubsync.hubspot.batch_update import BATCH_MAX
from hubsync.hubspot.properties import COMPANIES, CONTACTS
from hubsync.jobs.properties import company_values, contact_values, lifecycle_advance, property_names
from hubsync.jobs.push import RecordChange, diff, send_changes
from hubsync.jobs.rescore import _company_row, _contact_row
from hubsync.records import Activity, ActivityKind, Company, Contact
from hubsync.scoring import HandoffState, score_company, score_contact
from hubsync.settings import PushConfig, load_settings
from hubsync.store.db import open_database
from hubsync.store.scores import SCORE_COLUMNS
from hubsync.store.tables import pushed_t
from tests.support.paths import DEFAULT_CONFIG

NOW = datetime(2025, 3, 19, 9, tzinfo=UTC)
NAMES = property_names(PushConfig(), CONTACTS)


def _jan() -> tuple[dict[str, Any], dict[str, Any]]:
    """Jan Kowalski's stored score rows (worked example 1), as rescore writes them."""
    model = load_settings({}, str(DEFAULT_CONFIG)).config.scoring
    jan = Contact(id=1, email="jan@acme.example", jobtitle="CEO", company_id=500)
    acme = Company(id=500, numberofemployees="500", industry="COMPUTER_SOFTWARE")
    acts = [
        Activity("a", 1, ActivityKind.FORM_SUBMISSION, datetime(2025, 3, 3, 9, tzinfo=UTC), form_name="E-Book: X"),
        Activity("b", 1, ActivityKind.FORM_SUBMISSION, NOW, form_name="Beratung vereinbaren", url="/beratung"),
    ]
    score = score_contact(jan, acme, acts, model, now=NOW)
    contact = _contact_row(score, episode=HandoffState(), now=NOW)
    company = _company_row(score_company(acme, [score], model, now=NOW), now=NOW)
    return dict(zip(SCORE_COLUMNS["contact"], contact, strict=True)), dict(
        zip(SCORE_COLUMNS["company"], company, strict=True)
    )


def test_contact_values_are_the_strings_hubspot_stores() -> None:
    row, _ = _jan()
    values = contact_values(row, NAMES)
    assert values["hubsync_engagement_score"] == str(row["engagement"])
    assert values["hubsync_segment"] == row["segment"]
    assert values["hubsync_lead_status"] == row["status"]
    assert values["hubsync_surge"] in {"true", "false"}
    assert values["hubsync_data_completeness"] == str(row["completeness"])
    assert len(values["hubsync_reason"]) <= 500
    assert all(isinstance(v, str) for v in values.values())


def test_company_values_carry_engaged_contacts_and_the_account_reason() -> None:
    _, row = _jan()
    values = company_values(row, property_names(PushConfig(), COMPANIES))
    assert values["hubsync_engaged_contacts"] == str(row["engaged_contacts"]) == "1"
    assert values["hubsync_buying_center_active"] == "false"
    assert values["hubsync_account_reason"] == row["reason"]


def test_diff_sends_only_what_changed() -> None:
    new = {"a": "1", "b": "x", "c": "true"}
    assert diff(new, None) == new
    assert diff(new, new) == {}
    assert diff(new, {"a": "1", "b": "y", "c": "true", "gone": "z"}) == {"b": "x"}


def test_batches_hold_at_most_100() -> None:
    changes = [RecordChange(CONTACTS, i, {"a": "1"}, {"a": "1"}) for i in range(250)]
    assert [len(b) for b in batches(changes, BATCH_MAX)] == [100, 100, 50]
    assert list(batches([], BATCH_MAX)) == []


@pytest.mark.parametrize(
    ("status", "current", "expected"),
    [
        ("mql", None, "marketingqualifiedlead"),
        ("mql", "lead", "marketingqualifiedlead"),
        ("sales_ready", "marketingqualifiedlead", "salesqualifiedlead"),
        ("mql", "salesqualifiedlead", None),  # never backward
        ("sales_ready", "customer", None),
        ("nurture", "lead", None),
        ("sales_ready", "other", None),  # a stage hubsync cannot place
        ("sales_ready", "12345678", None),  # a custom stage id
    ],
)
def test_lifecycle_moves_only_forward(status: str, current: str | None, expected: str | None) -> None:
    assert lifecycle_advance(status, current) == expected


# -- a batch refused as a whole ------------------------------------------------------------------------------


@dataclass
class _Answer:
    results: list[Any]
    errors: list[Any]


@dataclass
class _Obj:
    id: str


class RefusingHubSpot:
    """HubSpot as it answers a batch with one invalid value: 400 for the whole batch, whatever else is in it."""

    def __init__(self, bad: set[int]) -> None:
        self.bad = bad
        self.sent: list[list[int]] = []

    def api(self, _dotted: str) -> RefusingHubSpot:
        return self

    def update(self, body: Any) -> _Answer:
        ids = [int(i.id) for i in body.inputs]
        self.sent.append(ids)
        if self.bad & set(ids):
            raise FatalHubSpotError("HubSpot rejected the request (400 VALIDATION_ERROR): bad value", status=400)
        return _Answer([_Obj(str(i)) for i in ids], [])

    def call(self, fn: Any, *args: Any, **_kwargs: Any) -> Any:
        return fn(*args)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(f"sqlite:///{tmp_path / 'push.db'}")
    yield engine
    engine.dispose()


def _pushed_ids(engine: Engine) -> set[int]:
    table = pushed_t
    with engine.connect() as conn:
        return set(conn.execute(sa.select(table.c.object_id)).scalars())


def test_a_refused_batch_is_split_until_the_bad_record_stands_alone(engine: Engine) -> None:
    changes: Sequence[RecordChange] = [RecordChange(CONTACTS, i, {"a": str(i)}, {"a": str(i)}) for i in range(16)]
    fake = RefusingHubSpot(bad={5})
    result = send_changes(fake, engine, changes, now=NOW)  # type: ignore[arg-type]  # a fake at the client boundary
    assert [(f.object_id, "bad value" in f.error) for f in result.failures] == [(5, True)]
    assert _pushed_ids(engine) == set(range(16)) - {5}
    assert result.records_pushed == 15
    # 16 → 8 + 8 → 4 + 4 → 2 + 2 → 1 + 1: log2(16) + 1 levels on the bad record's side, one call on each other.
    assert len(fake.sent) == 9
