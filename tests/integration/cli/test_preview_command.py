"""`hubsync preview` on a synced sandbox portal, SQLite and PostgreSQL: the contacts it reports as changing segment
are exactly those a test scoring each contact with both models finds (acceptance 1), it makes no HubSpot call and
leaves the database as it was (acceptance 2), its page shows the matrix of --json, the text fits 80 columns with
names, and a bad candidate is one line naming its file and key."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from hubsync.jobs.cycle import run_cycle
from hubsync.jobs.preview import preview
from hubsync.jobs.setup import setup
from hubsync.records import Company
from hubsync.render.text import shorten
from hubsync.sandbox import Sandbox, start_sandbox
from hubsync.scoring import ContactScore, LeadStatus, ScoringModel, score_contact
from hubsync.scoring.segments import SEGMENTS
from hubsync.settings import load_settings
from hubsync.store.db import open_database
from hubsync.store.reads import activities_by_contact, companies_by_id, contacts_by_id, live_contact_ids
from hubsync.store.scores import stored_scores
from tests.support.cli import cli_env, run_hubsync
from tests.support.db_checksum import database_checksum
from tests.support.html_scan import PageScan
from tests.support.paths import DEFAULT_CONFIG
from tests.support.sandbox import fast_client, portal_now, sandbox_settings

PRICING = 'name = "pricing_page_view"\nlabel = "pricing page"\npoints = 15\nmax_points = 45'
DOUBLED = 'name = "pricing_page_view"\nlabel = "pricing page"\npoints = 30\nmax_points = 90'


@dataclass(frozen=True, slots=True)
class Synced:
    sandbox: Sandbox
    database_url: str
    now: datetime


@pytest.fixture
def synced(database_url: str) -> Iterator[Synced]:
    """A small portal, set up and synced once (scores stored, tasks created), its sandbox still serving."""
    with start_sandbox(contacts=200, seed=7, rate_limits=False) as sb:
        settings = sandbox_settings(sb, database_url)
        engine = open_database(database_url)
        try:
            with fast_client(sb) as client:
                setup(client, settings.config.push)
                run_cycle(settings, engine, client, clock=lambda: portal_now(sb.portal))
        finally:
            engine.dispose()
        yield Synced(sb, database_url, portal_now(sb.portal))


def _candidate(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "candidate.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _model(path: Path) -> ScoringModel:
    return load_settings({}, str(path)).config.scoring


def _scored_by_both(
    database_url: str, models: tuple[ScoringModel, ScoringModel], now: datetime, *, hysteresis: bool = True
) -> dict[int, tuple[ContactScore, ContactScore]]:
    """Every live contact scored by this test with both models through the pure scoring API, one contact at a time,
    each with the status stored for it (`hysteresis`; else as a contact never scored)."""
    engine = open_database(database_url)
    try:
        with engine.connect() as conn:
            ids = live_contact_ids(conn)
            contacts = contacts_by_id(conn, ids)
            companies = companies_by_id(conn, {c.company_id for c in contacts.values() if c.company_id is not None})
            activities = activities_by_contact(conn, ids, until=now)
            stored = stored_scores(conn, "contact", ids)
    finally:
        engine.dispose()
    out = {}
    for contact_id, contact in contacts.items():
        company: Company | None = companies.get(contact.company_id) if contact.company_id is not None else None
        status = LeadStatus(stored[contact_id].status) if contact_id in stored and hysteresis else None
        a, b = (
            score_contact(contact, company, activities.get(contact_id, []), model, now=now, previous_status=status)
            for model in models
        )
        out[contact_id] = (a, b)
    return out


def test_doubled_pricing_points_who_moves_no_call_nothing_written(synced: Synced, tmp_path: Path) -> None:
    candidate = _candidate(tmp_path, (PRICING, DOUBLED))
    page = tmp_path / "preview.html"
    calls = synced.sandbox.stats()["total"]
    before = database_checksum(synced.database_url)
    # The environment names the sandbox and its token: a client, had preview built one, would reach it and count.
    env = cli_env(synced.database_url, sandbox=synced.sandbox, config=DEFAULT_CONFIG)
    result = run_hubsync(
        env, "preview", "--config", str(candidate), "--as-of", synced.now.isoformat(), "--json", "--out", str(page)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert synced.sandbox.stats()["total"] == calls, "preview made a HubSpot call"
    assert database_checksum(synced.database_url) == before, "preview changed the database"

    doc = json.loads(result.stdout)
    assert doc["changes"]["model"] == ["signal pricing_page_view: points 15 → 30; max_points 45 → 90"]
    both = _scored_by_both(synced.database_url, (_model(DEFAULT_CONFIG), _model(candidate)), synced.now)
    expected = sorted([c, a.segment, b.segment] for c, (a, b) in both.items() if a.segment != b.segment)
    assert expected, "the portal has no contact whose segment the doubled points move: the test would prove nothing"
    assert doc["segments"]["changed_contacts"] == expected
    assert doc["segments"]["changed"] == len(expected)
    assert doc["contacts"] == len(both)
    for side, i in (("current", 0), ("candidate", 1)):
        statuses = Counter(pair[i].status.value for pair in both.values())
        assert doc["status"][side] == {s.value: statuses[s.value] for s in LeadStatus}

    scan = PageScan(page.read_text(encoding="utf-8"))
    cells = scan.find("td", **{"data-from": None})
    assert len(cells) == len(SEGMENTS) ** 2
    for cell in cells:
        assert (
            int(cell.attrs["data-contacts"])
            == doc["segments"]["matrix"][cell.attrs["data-from"]][cell.attrs["data-to"]]
        )
    assert scan.addresses() == [], "the page must load nothing"


def test_live_config_first_then_the_candidate_text_with_names_in_80_columns(synced: Synced, tmp_path: Path) -> None:
    # A lower floor and more capacity: the candidate hands over contacts the live model does not, now.
    candidate = _candidate(tmp_path, ("floor = 61", "floor = 41"), ("base = 71", "base = 41"))
    env = cli_env(synced.database_url)
    argv = ("--config", str(DEFAULT_CONFIG), "preview", "--config", str(candidate), "--as-of", synced.now.isoformat())
    result = run_hubsync(env, *argv, log_json=False)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[:2] == [f"candidate: {candidate}", f"live:      {DEFAULT_CONFIG}"]
    # Only the two paths may be longer (a path is never cut).
    assert all(len(line) <= 80 for line in lines[2:]), [line for line in lines if len(line) > 80]
    assert "  - handoff.capacity.floor 61 → 41" in lines
    json_run = run_hubsync(env, *argv, "--json")
    doc = json.loads(json_run.stdout)
    tasks = doc["handoff"]["tasks"]
    assert tasks, "the candidate's lower floor should hand over someone now"
    assert doc["handoff"]["candidate"]["effective_threshold"] <= 61
    for task in tasks:
        assert shorten(f"  {task['name']}", 80) in lines
        assert shorten(f"    to {task['owner']} · {task['segment']} · why: {', '.join(task['triggers'])}", 80) in lines
        assert not task["name"].startswith("contact ")


def test_a_bad_candidate_is_one_line_naming_its_file_and_key(tmp_path: Path) -> None:
    candidate = _candidate(tmp_path, (PRICING, PRICING.replace("points = 15", 'points = "many"')))
    env = cli_env(f"sqlite:///{tmp_path / 'h.db'}", config=DEFAULT_CONFIG)
    result = run_hubsync(env, "preview", "--config", str(candidate), log_json=False)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"hubsync: {candidate}: scoring.signals[")
    assert ".points: " in line
    assert not (tmp_path / "h.db").exists(), "the candidate is checked before the database is opened"


def _halved(text: str) -> str:
    """Every signal's and pattern's points, caps and bonuses (and the profile's points) halved."""
    return re.sub(
        r"^(points|max_points|bonus) = (-?\d+)$", lambda m: f"{m[1]} = {int(m[2]) // 2}", text, flags=re.MULTILINE
    )


def test_a_candidate_that_lowers_scores_keeps_statuses_by_hysteresis_in_workers_as_in_one_process(
    synced: Synced, tmp_path: Path
) -> None:
    """Lower scores move statuses down, and a status steps down only below its threshold minus the hysteresis: the
    candidate's statuses are those of each contact scored with its stored status, and worker processes preview
    exactly what one process previews."""
    path = tmp_path / "candidate.toml"
    path.write_text(_halved(DEFAULT_CONFIG.read_text(encoding="utf-8")), encoding="utf-8")
    current, candidate = (load_settings({}, str(p)).config for p in (DEFAULT_CONFIG, path))
    engine = open_database(synced.database_url)
    try:
        docs = [
            preview(engine, current, candidate, now=synced.now, sources=("live", "candidate"), processes=processes)
            for processes in (1, 2)
        ]
    finally:
        engine.dispose()
    assert docs[0] == docs[1]
    models = (current.scoring, candidate.scoring)
    both = _scored_by_both(synced.database_url, models, synced.now)
    fresh = _scored_by_both(synced.database_url, models, synced.now, hysteresis=False)
    held = [c for c, (_, b) in both.items() if b.status != fresh[c][1].status]
    assert held, "no contact keeps a status by hysteresis under the halved points: the test would prove nothing"
    for side, i in (("current", 0), ("candidate", 1)):
        statuses = Counter(pair[i].status.value for pair in both.values())
        assert docs[0]["status"][side] == {s.value: statuses[s.value] for s in LeadStatus}
    assert docs[0]["status"]["dropped_out"] > 0
