"""Benchmark: what the daily full rescore writes after idle days (nothing happened in the portal).

Runs a first cycle on a sandbox portal, then advances the portal's clock by a day (and then by a week) without
any activity and runs the daily cycle (full rescore and push) each time. Prints (nothing is asserted) the records
the first push wrote, the records each daily push wrote, how many of those changed only a text (reason, account
reason: should be 0), and the most frequent sets of properties that changed (docs/scoring.md, "What changes on an
idle day").

    python bench/idle_day.py [--contacts 2000] [--seed 5]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.client_settings import client_settings
from hubsync.jobs.cycle import CycleOptions, run_cycle
from hubsync.jobs.setup import setup
from hubsync.sandbox import start_sandbox
from hubsync.store.db import open_database
from hubsync.store.tables import pushed_t
from tests.support.sandbox import portal_now, sandbox_settings

TEXTS = frozenset({"reason", "account_reason"})


def _pushed(engine: Engine) -> dict[tuple[str, int], dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(pushed_t.c.object_type, pushed_t.c.object_id, pushed_t.c["values"])).all()
    return {(object_type, object_id): dict(values) for object_type, object_id, values in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as tmp, start_sandbox(args.contacts, args.seed, rate_limits=False) as sb:
        url = f"sqlite:///{Path(tmp) / 'hubsync.db'}"
        settings = sandbox_settings(sb, url)
        prefix = settings.config.push.property_prefix
        engine = open_database(url)
        with HubSpotClient(client_settings(settings)) as client:
            setup(client, settings.config.push)
            first = run_cycle(settings, engine, client, clock=lambda: portal_now(sb.portal))
            print(f"first cycle: {first.pushed.records_pushed if first.pushed else 0:,} records written")
            for days in (1, 7):
                before = _pushed(engine)
                sb.portal.advance(days * 86_400)
                daily = run_cycle(
                    settings,
                    engine,
                    client,
                    clock=lambda: portal_now(sb.portal),
                    options=CycleOptions(full_rescore=True),
                )
                changed: Counter[frozenset[str]] = Counter()
                for key, values in _pushed(engine).items():
                    names = frozenset(n.removeprefix(prefix) for n, v in values.items() if before[key].get(n) != v)
                    if names:
                        changed[names] += 1
                texts_only = sum(n for names, n in changed.items() if names <= TEXTS)
                written = daily.pushed.records_pushed if daily.pushed else 0
                print(f"after {days} idle day(s): {written:,} records written, {texts_only} of them only a text")
                for names, n in changed.most_common(6):
                    print(f"  {n:6,}  {', '.join(sorted(names))}")
        engine.dispose()


if __name__ == "__main__":
    main()
