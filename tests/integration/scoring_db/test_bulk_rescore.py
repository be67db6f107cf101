"""The full rescore's bulk path (only the columns scoring needs, the engagement of a whole batch computed at once
over arrays: scoring/bulk.py) stores exactly what the per-contact path stores, scores, reasons and history, on a
generated database with the awkward cases: every activity kind, times with microseconds, activities after the
scoring instant, contacts without create date, archived contacts inside the id range, contacts without activity
or company, an archived company, and contacts whose stories reach the sequence patterns, the caps, a surge and
inactivity. `bench/score.py` makes the same comparison on 100,000 contacts."""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.errors import Interrupted
from hubsync.jobs import rescore as rescore_job
from hubsync.jobs.rescore import rescore, stored_contact_score, stored_episode
from hubsync.scoring import ContactScore, advance, score_company, score_contact
from hubsync.store.db import open_database
from hubsync.store.reads import activities_by_contact, companies_by_id, contacts_by_id, live_contact_ids
from hubsync.store.scores import SCORE_COLUMNS
from hubsync.store.tables import activity_t, company_score_t, company_t, contact_score_t, contact_t, history_t
from hubsync.store.upsert import upsert
from tests.unit.scoring.scoring_builders import default_model, load_variant

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PAGES = ["/", "/preise", "/pricing", "/vergleich/a", "/case-studies/b", "/blog/c", "/jobs"]
FORMS = ["E-Book: Lead Scoring", "Demo anfragen", "Newsletter", "Beratung vereinbaren", "Checkliste CRM"]
TITLES = ["CEO", "Head of Marketing", "Werkstudent", "Marketing Manager", "", None]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def _activity(rng: random.Random, n: int, contact_id: int) -> dict[str, Any]:
    # Up to two years back, a few after the scoring instant; microseconds throughout.
    at = NOW - timedelta(days=rng.uniform(-3, 730), microseconds=rng.randint(0, 999_999))
    row: dict[str, Any] = {"id": f"t:{n}", "contact_id": contact_id, "occurred_at": at}
    roll = rng.random()
    if roll < 0.4:
        row |= {"kind": "page_view", "url": "https://www.acme.example" + rng.choice(PAGES)}
    elif roll < 0.6:
        event = rng.choice(["open", "click", "delivered", "unsubscribe", "bounce"])
        row |= {"kind": "email_event", "event_type": event, "status": "hard" if event == "bounce" else None}
    elif roll < 0.75:
        row |= {"kind": "form_submission", "form_name": rng.choice(FORMS), "url": "https://www.acme.example/demo"}
    elif roll < 0.85:
        row |= {"kind": "marketing_event", "event_type": rng.choice(["registered", "attended", "no_show", "cancelled"])}
    elif roll < 0.9:
        row |= {"kind": "profile_change", "event_type": rng.choice(["jobtitle", "company"]), "title": "A → B"}
    else:
        kind = rng.choice(["email", "call", "meeting", "note"])
        row |= {
            "kind": "crm_engagement",
            "event_type": kind,
            "direction": rng.choice(["INCOMING", "OUTGOING", "INBOUND", None]),
            "status": rng.choice(["COMPLETED", "", None]),
        }
    return row


def _generate(engine: Engine, contacts: int = 400, seed: int = 29) -> None:
    rng = random.Random(seed)  # noqa: S311  (test data, not security)
    companies: list[dict[str, Any]] = [
        {
            "id": i,
            "name": f"Co {i}",
            "domain": f"co{i}.example",
            "industry": rng.choice(["COMPUTER_SOFTWARE", "RETAIL", ""]),
            "numberofemployees": rng.choice(["12", "250", "5000", "", "50-100"]),
            "properties": {},
            "archived_at": NOW if i == 3 else None,
        }
        for i in range(1, 41)
    ]
    people: list[dict[str, Any]] = [
        {
            "id": i,
            "email": f"p{i}@{rng.choice(['co1.example', 'gmail.com', 'co7.example'])}",
            "jobtitle": rng.choice(TITLES),
            "company_id": rng.choice([None, *range(1, 41)]),
            "created_at": NOW - timedelta(days=rng.uniform(0, 800)) if i % 7 else None,
            "properties": {"hs_lead_status": rng.choice(["NEW", "OPEN"])},
            "archived_at": NOW if i % 37 == 0 else None,
        }
        for i in range(1, contacts + 1)
    ]
    # Every tenth contact has no activity at all.
    active = [i for i in range(1, contacts + 1) if i % 10 != 5]
    activities = [_activity(rng, n, rng.choice(active)) for n in range(contacts * 15)]
    activities += _stories(rng, contacts, len(activities))
    columns = ["url", "title", "form_name", "event_type", "direction", "status"]
    activities = [dict.fromkeys(columns) | a for a in activities]
    with engine.begin() as conn:
        upsert(conn, company_t, companies)
        upsert(conn, contact_t, people)
        upsert(conn, activity_t, activities)


def _stories(rng: random.Random, contacts: int, first: int) -> list[dict[str, Any]]:
    """Activities that reach what a random history seldom does: the evaluation sequence (comparison, webinar,
    pricing within 30 days) and pricing three times within two weeks, a burst of hand-raising within the surge
    window after a quiet year (surge, caps), and a last positive activity months ago (inactivity)."""
    site = "https://www.acme.example"
    out: list[dict[str, Any]] = []

    def add(contact_id: int, days_ago: float, **values: Any) -> None:
        at = NOW - timedelta(days=days_ago, microseconds=rng.randint(0, 999_999))
        out.append({"id": f"s:{first + len(out)}", "contact_id": contact_id, "occurred_at": at, **values})

    for contact_id in range(1, contacts + 1):
        story = contact_id % 10
        start = rng.uniform(0, 200)
        if story == 1:
            add(contact_id, start + 20, kind="page_view", url=site + "/vergleich/a")
            add(contact_id, start + 10, kind="marketing_event", event_type="attended")
            for step in range(3):
                add(contact_id, start + step, kind="page_view", url=site + "/preise")
        elif story == 2:
            add(contact_id, 400, kind="email_event", event_type="open")
            for _ in range(rng.randint(3, 12)):
                page = rng.choice(["/pricing", "/preise", "/case-studies/b"])
                add(contact_id, rng.uniform(0, 6), kind="page_view", url=site + page)
                add(contact_id, rng.uniform(0, 6), kind="form_submission", form_name="Demo anfragen")
        elif story == 3:
            add(contact_id, rng.uniform(90, 300), kind="form_submission", form_name="Demo anfragen")
    return out


def _stored(engine: Engine) -> dict[str, dict[int, tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            table.name: {row[0]: tuple(row) for row in conn.execute(sa.select(table))}
            for table in (contact_score_t, company_score_t)
        }


def _forget_scores(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in (contact_score_t, company_score_t, history_t):
            conn.execute(sa.delete(table))


def test_the_bulk_path_stores_what_the_per_contact_path_stores(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # Several batches, each with its own keys.
    monkeypatch.setattr(rescore_job, "BATCH", 100)
    model = default_model()
    _generate(engine)
    with engine.connect() as conn:
        live = live_contact_ids(conn)
    # Contact by contact, as an incremental rescore of some of them.
    with monkeypatch.context() as patched:
        patched.setattr(rescore_job, "covers_every_live_contact", lambda *_: False)
        per_contact = rescore(engine, model, now=NOW, contact_ids=live)
    expected = _stored(engine)
    expected_history = _history(engine)
    _forget_scores(engine)
    bulk = rescore(engine, model, now=NOW)
    assert bulk.contacts_scored == per_contact.contacts_scored == len(live)
    assert bulk.segments == per_contact.segments
    assert _stored(engine) == expected
    assert _history(engine) == expected_history
    # An incremental rescore whose contacts include every live one (a first cycle's: all are pending) is read in
    # bulk too, and stores the same.
    _forget_scores(engine)
    with engine.connect() as conn:
        assert rescore_job.covers_every_live_contact(conn, [*live, max(live) + 1])
        assert not rescore_job.covers_every_live_contact(conn, live[1:])
    rescore(engine, model, now=NOW, contact_ids=[*live, max(live) + 1])
    assert _stored(engine) == expected
    assert _history(engine) == expected_history
    # And spread over worker processes, as a full rescore from PARALLEL_FROM contacts on (the companies aggregated
    # from the stored contact scores).
    _forget_scores(engine)
    rescore(engine, model, now=NOW, contact_ids=[*live, max(live) + 1], processes=2)
    assert _stored(engine) == expected
    assert _history(engine) == expected_history
    with engine.connect() as conn:
        # Stored as every other time is (SQLite compares times as text: a row written another way would not match).
        at_now = sa.select(sa.func.count()).where(contact_score_t.c.as_of >= NOW, contact_score_t.c.as_of <= NOW)
        assert conn.execute(at_now).scalar_one() == len(live)
    # The generated data reaches what the comparison is for.
    assert len(set(bulk.segments)) >= 4
    contacts = expected["contact_score"]
    assert len(contacts) > 350
    reasons = [row[_column("reason")] for row in contacts.values()]
    for part in ("comparison → webinar → pricing", "pricing page 3× within two weeks", "inactive since", "faded since"):
        assert sum(part in reason for reason in reasons) >= 5, part
    assert sum(1 for row in contacts.values() if row[_column("surge")]) >= 5
    assert sum(1 for row in contacts.values() if row[_column("hand_raise_at")] is not None) >= 5
    assert sum(1 for row in contacts.values() if row[_column("engagement")] == 0) >= 5
    assert len({row[_column("status")] for row in contacts.values()}) == 3


def _reads_company_properties(data: dict[str, Any]) -> None:
    """A model whose contact scores read more of the company than the default's columns: a rule on a property,
    the tier from a property, a competitor's domain."""
    profile = data["profile"]
    profile["rules"].append(
        {
            "name": "ideal_customer",
            "source": "company",
            "property": "icp_fit",
            "cases": [{"one_of": ["yes"], "points": 20, "label": "ideal customer"}],
        }
    )
    profile["tiers"]["property"] = "staff"
    profile["gates"]["competitor_domains"] = ["co7.example"]


def test_the_bulk_path_reads_of_a_company_all_its_contacts_scores_use(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a model that reads company properties, the tier from a property and the competitor gate, the full
    rescore's bulk path stores what the per-contact path stores."""
    model = load_variant(_reads_company_properties)
    _generate(engine)
    with engine.begin() as conn:
        for i in range(1, 41):
            properties = {"icp_fit": "yes" if i % 3 else "no", "staff": str(i * 60), "unused": "x"}
            conn.execute(sa.update(company_t).where(company_t.c.id == i).values(properties=properties))
        live = live_contact_ids(conn)
    monkeypatch.setattr(rescore_job, "covers_every_live_contact", lambda *_: False)
    per_contact = rescore(engine, model, now=NOW, contact_ids=live)
    expected = _stored(engine)
    _forget_scores(engine)
    rescore(engine, model, now=NOW)
    assert _stored(engine) == expected
    # The data reaches what the comparison is for: the rule, every tier, the gate.
    contacts = expected["contact_score"].values()
    assert sum("ideal customer" in row[_column("reason")] for row in contacts) >= 5
    assert {row[_column("tier")] for row in contacts} >= {"smb", "mid_market", "enterprise"}
    assert any("competitor" in (row[_column("gates")] or []) for row in contacts)
    assert per_contact.contacts_scored == len(live)


def _column(name: str) -> int:
    return list(contact_score_t.c.keys()).index(name)


def test_each_stored_column_holds_the_value_of_its_name(engine: Engine) -> None:
    """Score rows travel to the database as tuples (store.scores.SCORE_COLUMNS order), which both paths build
    alike: read back by column name, every contact row is the score the pure function gives, and every company
    row the account score of those contacts."""
    model = default_model()
    _generate(engine, contacts=120)
    rescore(engine, model, now=NOW)
    with engine.connect() as conn:
        contacts = contacts_by_id(conn, live_contact_ids(conn))
        activities = activities_by_contact(conn, list(contacts), until=NOW)
        contact_rows = conn.execute(sa.select(contact_score_t)).all()
        company_rows = conn.execute(sa.select(company_score_t)).all()
        companies = companies_by_id(conn, range(1, 41))
    members: dict[int, list[ContactScore]] = defaultdict(list)
    for row in contact_rows:
        contact = contacts[row.contact_id]
        company = companies.get(contact.company_id) if contact.company_id is not None else None
        score = score_contact(contact, company, activities.get(contact.id, ()), model, now=NOW)
        assert stored_contact_score(row) == score
        episode = advance(stored_episode(None), score, model, now=NOW)
        assert (row.handoff_armed, row.triggers_held_at) == (episode.armed, episode.triggers_held_at)
        assert (row.as_of, row.push_pending) == (NOW, True)
        if contact.company_id is not None:
            members[contact.company_id].append(score)
    assert len(contact_rows) == len(contacts)
    # Each column of a kind that another could be taken for holds a value somewhere.
    assert any(row.gates and row.last_positive_at and row.hand_raise_at for row in contact_rows)
    assert any(row.handoff_armed and row.triggers_held_at for row in contact_rows)
    for row in company_rows:
        expected = score_company(companies[row.company_id], members[row.company_id], model, now=NOW)
        stored = {name: getattr(row, name) for name in SCORE_COLUMNS["company"]}
        assert stored == {name: _plain(getattr(expected, name, NOW)) for name in SCORE_COLUMNS["company"]}
    assert any(row.personas_missing for row in company_rows)


def _plain(value: Any) -> Any:
    """A score's value as the database hands it back (enums by value, tuples as JSON lists)."""
    if isinstance(value, Enum):
        return value.value
    return list(value) if isinstance(value, tuple) else value


def test_worker_processes_store_what_one_process_stores(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The full rescore spread over worker processes (forced here on a small database: by default only from
    `PARALLEL_FROM` contacts on) stores the same scores, history and counts as in one process, and again the same
    when run a second time over its own scores (status hysteresis and handoff episodes read back). Small batches,
    so that each worker scores several and the results come back out of order."""
    monkeypatch.setattr(rescore_job, "BATCH", 25)
    model = default_model()
    _generate(engine)
    in_process = [rescore(engine, model, now=NOW + timedelta(days=d), processes=1) for d in (0, 40)]
    expected = _stored(engine), _history(engine)
    _forget_scores(engine)
    in_workers = [rescore(engine, model, now=NOW + timedelta(days=d), processes=2) for d in (0, 40)]
    assert in_workers == in_process
    assert (_stored(engine), _history(engine)) == expected
    # The second run changed some scores but not all: the comparison covers both kinds of batch.
    assert 0 < in_workers[1].contacts_changed < in_workers[1].contacts_scored


def _history(engine: Engine) -> Counter[tuple[Any, ...]]:
    columns = [c for c in history_t.c if c.name != "id"]
    with engine.connect() as conn:
        return Counter(tuple(row) for row in conn.execute(sa.select(*columns)))


def test_a_stop_in_worker_processes_keeps_the_batches_stored_in_order(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop between two batches ends the rescore with Interrupted; what is stored is exactly the first batches
    of contacts, in id order (results come back from the workers in order), and no company."""
    monkeypatch.setattr(rescore_job, "BATCH", 25)
    _generate(engine)
    stop = threading.Event()
    finished: list[int] = []

    def progress(n: int) -> None:
        finished.append(n)
        if len(finished) == 3:
            stop.set()

    with pytest.raises(Interrupted):
        rescore(engine, default_model(), now=NOW, processes=2, on_progress=progress, stop=stop)
    with engine.connect() as conn:
        live = live_contact_ids(conn)
        stored = sorted(conn.execute(sa.select(contact_score_t.c.contact_id)).scalars())
        companies = conn.execute(sa.select(sa.func.count()).select_from(company_score_t)).scalar_one()
    first_batches = live[: 3 * 25]
    assert stored == first_batches
    assert sum(finished) == 3 * 25
    assert companies == 0
