"""Manual backfill: re-read HubSpot from a date on, into the local database.

    HUBSPOT_ACCESS_TOKEN=pat-… python scripts/backfill.py --since 2024-01-01
    python scripts/backfill.py --since 2024-01-01 --streams email_events,web_events

A thin wrapper of `hubsync backfill` (same options, same exit codes): it shows a progress bar (records, rate, ETA)
on stderr, can be interrupted at any moment (Ctrl-C, a kill, the daily quota) and continues where it stopped when
run again with the same options, and is safe to repeat (every write is an upsert). It records a run of kind
`backfill` in the run log. It does not rescore: what it stored is pending, and the next `hubsync sync` (or
`hubsync run` cycle) rescores it.
"""

from __future__ import annotations

import sys

from hubsync.cli import main

if __name__ == "__main__":
    sys.argv[1:1] = ["backfill"]
    main()
