from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from hubsync.store.db import open_database
from hubsync.store.tables import activity_t, company_t, contact_score_t, contact_t
from hubsync.store.upsert import upsert
from tests.support.cli import cli_env, run_hubsync

DAY0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _cli(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_hubsync(cli_env(db), *args, timeout=120)


def _jan(db: str) -> None:
    engine = open_database(db)
    with engine.begin() as conn:
        company = {
            "id": 10,
            "name": "Kowalski Software GmbH",
            "numberofemployees": "500",
            "industry": "COMPUTER_SOFTWARE",
            "properties": {},
        }
        upsert(conn, company_t, [company])
        jan = {
            "id": 1,
            "email": "jan@kowalski.example",
            "firstname": "Jan",
            "lastname": "Kowalski",
            "jobtitle": "CEO",
            "company_id": 10,
            "properties": {},
        }
        upsert(conn, contact_t, [jan])
        rows = [
            ("form_submission", 0, {"form_name": "E-Book: Lead Scoring"}),
            ("marketing_event", 7, {"event_type": "attended", "event_name": "Webinar"}),
            ("page_view", 14, {"url": "https://www.acme.example/preise"}),
            ("form_submission", 16, {"form_name": "Beratung vereinbaren"}),
        ]
        blank = {"form_name": None, "event_type": None, "event_name": None, "url": None}
        activities = [
            {"id": f"t:{i}", "contact_id": 1, "kind": kind, "occurred_at": DAY0 + timedelta(days=day), **blank, **attrs}
            for i, (kind, day, attrs) in enumerate(rows)
        ]
        upsert(conn, activity_t, activities)
    engine.dispose()


def test_score_as_of_reproduces_a_past_day_and_stores_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    _jan(db)
    day14 = _cli(db, "score", "--as-of", (DAY0 + timedelta(days=14)).date().isoformat())
    assert day14.returncode == 0, day14.stderr
    assert "mql: 1" in day14.stdout
    assert "not stored" in day14.stdout
    engine = open_database(db)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(contact_score_t)).scalar_one() == 0
    engine.dispose()


def test_score_then_explain_by_email(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    _jan(db)
    day16 = (DAY0 + timedelta(days=16)).date().isoformat()
    assert _cli(db, "score").returncode == 0
    result = _cli(db, "explain", "JAN@kowalski.example", "--as-of", day16)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "engagement 95" in out
    assert "sales_ready" in out
    # The four dated activities, each on its own line of the history.
    for day in (0, 7, 14, 16):
        assert f"{(DAY0 + timedelta(days=day)):%Y-%m-%d}" in out
    assert "account:" in out


def test_explain_unknown_contact_is_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    result = _cli(db, "explain", "nobody@example.com")
    assert result.returncode == 11  # not in the local database (issue 18)
    # Log events share standard error; the error itself is the last line, whole, with no traceback.
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("hubsync: no contact 'nobody@example.com'")
    assert "Traceback" not in result.stderr
