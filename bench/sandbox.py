"""Sandbox portal benchmark: seconds to generate a large portal, and list requests served per second.

    .venv/bin/python bench/sandbox.py [--contacts 100000] [--activities 20] [--requests 6000]

Rate limits are off. The clients run in separate processes (as hubsync would), each with a few threads that
keep one HTTP/1.1 connection open (urllib3), and send a bounded number of list requests of 100 contacts each.
Targets: generation <= 60 s for 100,000 contacts with ~20 activities each; >= 500 list requests per second.
"""

from __future__ import annotations

import argparse
import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor

import urllib3

from hubsync.sandbox import LimitSettings, generate_portal, serve


def _client_thread(url: str, token: str, afters: list[int], out: list[int]) -> None:
    pool = urllib3.connection_from_url(url, maxsize=1, block=True)
    headers = {"Authorization": f"Bearer {token}"}
    ok = 0
    for after in afters:
        response = pool.request("GET", f"/crm/v3/objects/contacts?limit=100&after={after}", headers=headers)
        ok += response.status == 200
    out.append(ok)


def _client_process(url: str, token: str, afters: list[int], threads: int) -> int:
    results: list[int] = []
    workers = [
        threading.Thread(target=_client_thread, args=(url, token, afters[i::threads], results)) for i in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--activities", type=float, default=20.0, help="activities per contact")
    parser.add_argument("--requests", type=int, default=6000, help="list requests to send in all")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="client threads (connections) per process")
    args = parser.parse_args()

    started = time.perf_counter()
    portal = generate_portal(args.contacts, 7, activities_per_contact=args.activities)
    generation = time.perf_counter() - started
    activities = sum(
        len(log) for log in (portal.page_views, portal.email_events, portal.form_submissions, portal.participations)
    )
    crm = sum(len(s.by_id) for t, s in portal.stores.items() if t != "contacts")
    print(
        f"generate: {len(portal.stores['contacts'].by_id):,} contacts, {activities:,} activities "
        f"({activities / args.contacts:.1f} per contact) and {crm:,} other CRM records in {generation:.1f} s"
    )

    sb = serve(portal, limits=LimitSettings(enabled=False))
    try:
        live = portal.stores["contacts"].live
        step = max(1, len(live) // args.requests)
        afters = [live[(i * step) % len(live)] for i in range(args.requests)]
        chunks = [afters[i :: args.processes] for i in range(args.processes)]
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(args.processes, mp_context=context) as pool:
            # Start the workers before the clock runs: process start-up is not the server's cost.
            list(pool.map(abs, range(args.processes)))
            started = time.perf_counter()
            futures = [pool.submit(_client_process, sb.url, sb.token, chunk, args.threads) for chunk in chunks]
            served = sum(f.result() for f in futures)
            elapsed = time.perf_counter() - started
        assert served == args.requests, f"only {served} of {args.requests} requests answered 200"
        print(
            f"serve:    {served:,} list requests (100 contacts each) in {elapsed:.2f} s = "
            f"{served / elapsed:,.0f} requests/s ({args.processes} client processes x {args.threads} "
            "keep-alive connections, rate limits off)"
        )
    finally:
        sb.close()


if __name__ == "__main__":
    main()
