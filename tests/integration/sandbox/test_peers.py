"""Public HubSpot connectors read the sandbox unmodified (docs/hubspot.md, "Fidelity notes"): Airbyte's and Meltano's
check / discover and a full read of every stream they discover succeed, with the portal's records per stream, and a
second, incremental Airbyte read succeeds too. `make bench-peers` does the same on large portals with HubSpot's
limits on, and prints what it costs.

The connectors are installed from PyPI into `.cache/peers/` (Airbyte's alone is ~350 MB): run
`.venv/bin/python -c "from tests.support.peers import PEERS; [p.install() for p in PEERS]"` or `make bench-peers`
once. Without them these tests are skipped; CI does not download them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hubsync.sandbox import schema, start_sandbox
from tests.support import peers

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from hubsync.sandbox import Sandbox

pytestmark = pytest.mark.skipif(
    not all(p.installed() for p in peers.PEERS),
    reason=f"the peer connectors are not installed in {peers.PEERS_DIR} (see this module's docstring)",
)


@pytest.fixture(scope="module")
def portal() -> Iterator[tuple[Sandbox, peers.Redirect]]:
    with start_sandbox(contacts=120, seed=13, rate_limits=False) as sb:
        redirect = peers.Redirect(sb.url)
        for peer in peers.PEERS:
            peer.trust(redirect.ca)
        try:
            yield sb, redirect
        finally:
            redirect.close()


def test_airbyte_check_discover_full_and_incremental_read(
    portal: tuple[Sandbox, peers.Redirect], tmp_path: Path
) -> None:
    sb, redirect = portal
    env, peer = redirect.env(), peers.AIRBYTE
    config = str(peers.write_json(tmp_path / "config.json", peers.airbyte_config(sb.token)))
    check = peers.run_peer(peer, ["check", "--config", config], env, tmp_path)
    assert [m["connectionStatus"]["status"] for m in check.of_type("CONNECTION_STATUS")] == ["SUCCEEDED"]
    discover = peers.run_peer(peer, ["discover", "--config", config], env, tmp_path)
    assert discover.errors() == []
    discovered = discover.of_type("CATALOG")[0]["catalog"]
    streams = [s["name"] for s in discovered["streams"]]
    catalog = str(peers.write_json(tmp_path / "catalog.json", peers.airbyte_catalog(discovered, streams)))
    read = peers.run_peer(peer, ["read", "--config", config, "--catalog", catalog], env, tmp_path)
    assert read.errors() == []
    truth = peers.airbyte_truth(sb.portal)
    assert set(streams) == set(truth)
    assert peers.mismatches(read.records, truth) == {}
    assert read.ids["contacts"] == {str(i) for i in sb.portal.stores[schema.CONTACTS].live}
    # Changes after the first read: the second one starts from its state and reads them.
    sb.portal.advance(60)
    changed = sb.portal.stores[schema.CONTACTS].live[:5]
    sb.portal.bulk_update(schema.CONTACTS, changed, {"jobtitle": "Head of Peers"})
    state = str(peers.write_json(tmp_path / "state.json", peers.airbyte_state(read)))
    again = peers.run_peer(peer, ["read", "--config", config, "--catalog", catalog, "--state", state], env, tmp_path)
    assert again.errors() == []
    assert {str(i) for i in changed} <= again.ids["contacts"]
    assert again.records["contacts"] < read.records["contacts"]


def test_meltano_discover_and_full_read(portal: tuple[Sandbox, peers.Redirect], tmp_path: Path) -> None:
    sb, redirect = portal
    env, peer = redirect.env(), peers.MELTANO
    config = str(peers.write_json(tmp_path / "config.json", {"access_token": sb.token}))
    discover = peers.run_peer(peer, ["--config", config, "--discover"], env, tmp_path)
    assert discover.returncode == 0, discover.stderr[-2000:]
    run = peers.run_peer(peer, ["--config", config], env, tmp_path)
    assert run.errors() == []
    assert peers.mismatches(run.records, peers.meltano_truth(sb.portal)) == {}
    assert run.ids["companies"] == {str(i) for i in sb.portal.stores[schema.COMPANIES].live}
