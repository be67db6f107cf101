"""Snapshots: the same seed gives the same bytes; a hand-written portal is served as written."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from hubspot import HubSpot

from hubsync.sandbox import generate_portal, snapshot, start_sandbox

if TYPE_CHECKING:
    from pathlib import Path

HASH_SCRIPT = (
    "import hashlib; from hubsync.sandbox import generate_portal, snapshot; "
    "print(hashlib.sha256(snapshot.dumps(generate_portal(150, 9))).hexdigest())"
)


def test_same_seed_same_bytes() -> None:
    first = snapshot.dumps(generate_portal(150, 9))
    second = snapshot.dumps(generate_portal(150, 9))
    assert first == second
    assert snapshot.dumps(generate_portal(150, 10)) != first


def test_same_seed_same_bytes_across_processes_and_hash_seeds() -> None:
    """String hashing differs between processes; nothing in the portal may depend on it."""
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(  # noqa: S603  # runs this interpreter on a fixed script
            [sys.executable, "-c", HASH_SCRIPT], env=env, capture_output=True, text=True, check=True
        )
        digests.add(out.stdout.strip())
    digests.add(hashlib.sha256(snapshot.dumps(generate_portal(150, 9))).hexdigest())
    assert len(digests) == 1


def test_round_trip_keeps_every_byte() -> None:
    portal = generate_portal(150, 9)
    portal.advance(3600)
    contacts = portal.stores["contacts"].live
    portal.merge(contacts[0], contacts[1])
    portal.archive("companies", portal.stores["companies"].live[0])
    data = snapshot.dumps(portal)
    assert snapshot.dumps(snapshot.loads(data)) == data


def test_generated_snapshot_holds_what_the_personas_need() -> None:
    doc = json.loads(snapshot.dumps(generate_portal(400, 4)))
    urls = [row[3] for row in doc["pageViews"]]
    assert all(u.startswith("https://www.leadwerk.example/") for u in urls)
    for fragment in (
        "/vergleich",
        "/compare",
        "/vs-",
        "/preise",
        "/pricing",
        "/case-studies/",
        "/fallstudien/",
        "/blog/",
        "/produkt/",
        "/jobs",
    ):
        assert any(fragment in u for u in urls), fragment
    assert "https://www.leadwerk.example/" in urls
    forms = {f["name"] for f in doc["forms"]}
    assert {"Demo anfragen", "Beratung vereinbaren", "Contact us", "Webinar-Aufzeichnung anfordern"} <= forms
    assert any(f.startswith("E-Book: ") for f in forms)
    assert any(f.startswith("Whitepaper ") for f in forms)
    assert any(f.startswith("Checkliste ") for f in forms)
    states = {row[4] for row in doc["marketingEventParticipations"]}
    assert states == {"REGISTERED", "ATTENDED", "NO_SHOW", "CANCELLED"}
    types = {row[3] for row in doc["emailEvents"]}
    assert {"OPEN", "CLICK", "BOUNCE", "STATUSCHANGE", "SPAMREPORT"} <= types
    contacts = doc["objects"]["contacts"]
    titles = {c["properties"].get("jobtitle") for c in contacts}
    assert {"Geschäftsführer", "CEO", "Head of Marketing", "Werkstudent", "Praktikant"} & titles
    domains = {c["properties"]["email"].split("@")[1] for c in contacts}
    assert {"gmail.com", "web.de", "gmx.de"} & domains
    assert any(c["properties"].get("hs_merged_object_ids") for c in contacts)
    assert any(c["archivedAt"] for c in contacts)
    sizes = {c["properties"].get("numberofemployees", "") for c in doc["objects"]["companies"]}
    assert "" in sizes
    assert any("-" in s for s in sizes)
    assert any(s.isdigit() for s in sizes)
    big = {
        c["properties"].get("numberofemployees", "")
        for c in json.loads(snapshot.dumps(generate_portal(4000, 4, activities_per_contact=1)))["objects"]["companies"]
    }
    assert any("," in s for s in big)  # "1,000" as imports write it
    stages = {d["properties"]["dealstage"] for d in doc["objects"]["deals"]}
    assert {"closedwon", "closedlost"} <= stages
    open_tasks = [t for t in doc["objects"]["tasks"] if t["properties"]["hs_task_status"] != "COMPLETED"]
    owners_with_open_tasks = {t["properties"]["hubspot_owner_id"] for t in open_tasks}
    assert len(owners_with_open_tasks) >= 2


def test_deal_outcome_follows_fit_and_behaviour() -> None:
    """Won deals come more often from decision makers at well-fitting companies, as in real funnels."""
    portal = generate_portal(6000, 21, activities_per_contact=8)
    won = lost = won_fit = lost_fit = 0
    for deal in portal.stores["deals"].by_id.values():
        stage = deal.props["dealstage"]
        if stage not in ("closedwon", "closedlost"):
            continue
        companies = portal.assoc.of("deals", deal.id, "companies")
        company = portal.stores["companies"].by_id[companies[0]] if companies else None
        size = (company.props.get("numberofemployees", "") if company else "").replace(",", "").replace(".", "")
        fits = size.split("-")[0].isdigit() and int(size.split("-")[0]) > 50
        if stage == "closedwon":
            won, won_fit = won + 1, won_fit + fits
        else:
            lost, lost_fit = lost + 1, lost_fit + fits
    assert won > 10
    assert lost > 10
    assert won_fit / won > lost_fit / lost


HAND_WRITTEN = {
    "format": "hubsync-sandbox-portal",
    "version": 1,
    "portal": {"now": "2025-06-01T12:00:00Z", "vendor": "acme"},
    "owners": [{"id": 501, "email": "vera.vertrieb@acme.example", "firstName": "Vera", "lastName": "Vertrieb"}],
    "objects": {
        "companies": [
            {
                "id": 10,
                "properties": {
                    "name": "Kowalski Software GmbH",
                    "numberofemployees": "500",
                    "industry": "COMPUTER_SOFTWARE",
                },
            }
        ],
        "contacts": [
            {
                "id": 1,
                "createdAt": "2025-05-01T08:00:00Z",
                "updatedAt": "2025-05-17T10:00:00Z",
                "properties": {
                    "email": "jan.kowalski@kowalski.example",
                    "firstname": "Jan",
                    "lastname": "Kowalski",
                    "jobtitle": "CEO",
                    "hubspot_owner_id": "501",
                },
            },
            {"id": 2, "archivedAt": "2025-05-20T00:00:00Z", "properties": {"email": "alt@kowalski.example"}},
        ],
    },
    "associations": [["contacts", 1, "companies", 10, True]],
    "forms": [
        {"guid": "0b7c7a4e-0000-4000-a000-000000000001", "name": "E-Book: Lead Scoring"},
        {"guid": "0b7c7a4e-0000-4000-a000-000000000002", "name": "Beratung vereinbaren"},
    ],
    "emailCampaigns": [{"id": 77, "name": "Newsletter Mai", "sentAt": "2025-05-02T09:00:00Z"}],
    "marketingEvents": [
        {
            "id": 900,
            "externalEventId": "webinar-2025-05",
            "name": "Webinar: Lead Scoring",
            "startAt": "2025-05-08T15:00:00Z",
        }
    ],
    "pageViews": [["2025-05-15T10:00:00Z", None, 1, "https://www.acme.example/preise"]],
    "emailEvents": [["2025-05-02T10:00:00Z", None, "jan.kowalski@kowalski.example", "OPEN", 77, None, None]],
    "formSubmissions": [
        [
            "2025-05-01T09:00:00Z",
            None,
            "E-Book: Lead Scoring",
            1,
            "jan.kowalski@kowalski.example",
            "https://www.acme.example/ressourcen/e-book",
        ],
        [
            "2025-05-17T10:00:00Z",
            None,
            "Beratung vereinbaren",
            1,
            "jan.kowalski@kowalski.example",
            "https://www.acme.example/beratung",
        ],
    ],
    "marketingEventParticipations": [["2025-05-08T15:05:00Z", None, 900, 1, "ATTENDED"]],
}


@pytest.fixture
def hand_written(tmp_path: Path) -> Path:
    path = tmp_path / "portal.json"
    path.write_text(json.dumps(HAND_WRITTEN, ensure_ascii=False), encoding="utf-8")
    return path


def test_hand_written_snapshot_is_served_as_written(hand_written: Path) -> None:
    with start_sandbox(snapshot_file=hand_written, rate_limits=False) as sb:
        client = HubSpot(access_token=sb.token, host=sb.url, base_url=sb.url)
        contacts = client.crm.contacts.basic_api.get_page(properties=["email", "jobtitle", "hubspot_owner_id"])
        assert [c.id for c in contacts.results] == ["1"]
        jan = contacts.results[0]
        assert jan.properties["jobtitle"] == "CEO"
        assert jan.properties["lastmodifieddate"] == "2025-05-17T10:00:00.000Z"
        archived = client.crm.contacts.basic_api.get_page(archived=True)
        assert [c.id for c in archived.results] == ["2"]
        company = client.crm.companies.basic_api.get_by_id("10", properties=["numberofemployees"])
        assert company.properties["numberofemployees"] == "500"
        owners = client.crm.owners.owners_api.get_page()
        assert [o.email for o in owners.results] == ["vera.vertrieb@acme.example"]
        views = client.events.events_api.get_page(object_type="contact", event_type="e_visited_page")
        assert [(v.object_id, v.properties["hs_url"]) for v in views.results] == [
            ("1", "https://www.acme.example/preise")
        ]
        events = client.api_request({"method": "GET", "path": "/email/public/v1/events"}).json()["events"]
        assert [(e["type"], e["emailCampaignId"], e["created"]) for e in events] == [("OPEN", 77, 1746180000000)]
        consultation = client.api_request(
            {"method": "GET", "path": "/form-integrations/v1/submissions/forms/0b7c7a4e-0000-4000-a000-000000000002"}
        ).json()
        assert [r["pageUrl"] for r in consultation["results"]] == ["https://www.acme.example/beratung"]
        part = client.marketing.events.retrieve_participant_state_api
        breakdown = part.get_participations_breakdown_by_contact_id("jan.kowalski@kowalski.example")
        assert [(r.associations.marketing_event.name, r.properties.attendance_state) for r in breakdown.results] == [
            ("Webinar: Lead Scoring", "ATTENDED")
        ]
        assert sb.portal.assoc.is_primary("contacts", 1, "companies", 10)
        # New records get ids beyond every id the snapshot used.
        created = sb.portal.create("contacts", {"email": "neu@acme.example"})
        assert created.id > 900


def test_a_broken_snapshot_says_why(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text(json.dumps({"format": "hubsync-sandbox-portal", "objects": {}}), encoding="utf-8")
    with pytest.raises(snapshot.SnapshotError, match=r"portal\.now"):
        snapshot.load(path)
    path.write_text(json.dumps({"portal": {"now": 0}, "pageViews": [[0, None, 1]]}), encoding="utf-8")
    with pytest.raises(snapshot.SnapshotError, match="bad activity row"):
        snapshot.load(path)
