"""`hubsync sandbox …`: serve a sandbox portal, or write a generated portal's snapshot.

The lead engineer mounts `sandbox_app` on the main command; this module never imports `hubsync.cli`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer

from hubsync.sandbox import generator, snapshot
from hubsync.sandbox.limits import BODY_FAULT_KINDS, FAULT_KINDS, TIERS, FaultSettings, LimitSettings, check_tier
from hubsync.sandbox.server import serve
from hubsync.sandbox.webhooks import Subscription

ALL_FAULT_KINDS = ",".join(FAULT_KINDS)

sandbox_app = typer.Typer(
    name="sandbox",
    help="A local stand-in for a HubSpot portal (127.0.0.1 only) for the demo, tests and benchmarks.",
    no_args_is_help=True,
)


@sandbox_app.command("serve")
def serve_command(  # noqa: PLR0917  # typer passes every option as a parameter
    contacts: int = typer.Option(2000, "--contacts", help="Contacts in the generated portal."),
    seed: int = typer.Option(7, "--seed", help="Same seed, same portal."),
    port: int = typer.Option(0, "--port", help="Port on 127.0.0.1; 0 picks a free one."),
    tier: str = typer.Option("enterprise", "--tier", help=f"Rate-limit tier: {', '.join(TIERS)}."),
    rate_limits: bool = typer.Option(True, "--rate-limits/--no-rate-limits", help="Enforce the request budgets."),
    per_ten_seconds: int | None = typer.Option(None, "--per-ten-seconds", help="Override the 10-second budget."),
    per_day: int | None = typer.Option(None, "--per-day", help="Override the daily quota."),
    fault_rate: float = typer.Option(0.0, "--fault-rate", help="Share of requests answered by a fault."),
    fault_seed: int = typer.Option(0, "--fault-seed"),
    fault_kinds: str = typer.Option(
        ALL_FAULT_KINDS, "--fault-kinds", help=f"Comma-separated fault kinds; also {', '.join(BODY_FAULT_KINDS)}."
    ),
    fault_endpoints: str = typer.Option(
        "", "--fault-endpoints", help="Comma-separated endpoint prefixes that draw faults (default: all)."
    ),
    fault_retry_after: str | None = typer.Option(None, "--fault-retry-after", help="Retry-After of a 429 fault."),
    index_delay: float = typer.Option(0.0, "--index-delay", help="Seconds before changes are visible to search."),
    snapshot_file: Annotated[
        Path | None, typer.Option("--snapshot", help="Serve this snapshot instead of generating.")
    ] = None,
    token: str | None = typer.Option(None, "--token", help="Use this token instead of a random one."),
    webhook_url: str | None = typer.Option(
        None, "--webhook-url", help="Send contact and company webhooks here (e.g. hubsync's receiver)."
    ),
    webhook_secret: str | None = typer.Option(
        None, "--webhook-secret", envvar="SANDBOX_WEBHOOK_SECRET", help="The app secret that signs them (v3)."
    ),
) -> None:
    """Serve a portal until interrupted; prints its URL and a token with every scope."""
    try:
        check_tier(tier)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--tier") from None
    portal = snapshot.load(snapshot_file) if snapshot_file else generator.generate_portal(contacts, seed)
    portal.tier = tier
    portal.index_delay_ms = round(index_delay * 1000)
    limits = LimitSettings(tier=tier, enabled=rate_limits, per_ten_seconds=per_ten_seconds, per_day=per_day)
    try:
        faults = FaultSettings(
            fault_rate,
            fault_seed,
            tuple(k for k in fault_kinds.split(",") if k),
            endpoints=tuple(e.strip() for e in fault_endpoints.split(",") if e.strip()),
            retry_after=fault_retry_after,
        )
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--fault-kinds") from None
    if (webhook_url is None) != (webhook_secret is None):
        raise typer.BadParameter("give --webhook-url and --webhook-secret together", param_hint="--webhook-url")
    sb = serve(portal, port=port, limits=limits, faults=faults, token=token)
    if webhook_url is not None and webhook_secret is not None:
        sb.webhooks.subscribe(Subscription(webhook_url, webhook_secret))
    typer.echo("hubsync sandbox portal (a local stand-in, not HubSpot)")
    typer.echo(f"url:   {sb.url}")
    typer.echo(f"token: {sb.token}")
    typer.echo(f"admin: {sb.url}/__sandbox__/stats")
    if webhook_url is not None:
        typer.echo(f"webhooks: to {webhook_url} (see {sb.url}/__sandbox__/webhooks)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        typer.echo("stopping")
    finally:
        sb.close()


@sandbox_app.command("snapshot")
def snapshot_command(
    out: Annotated[Path, typer.Argument(help="File to write.")],
    contacts: int = typer.Option(2000, "--contacts"),
    seed: int = typer.Option(7, "--seed"),
) -> None:
    """Write a generated portal as a snapshot (format: `hubsync/sandbox/snapshot.py`)."""
    snapshot.dump(generator.generate_portal(contacts, seed), out)
    typer.echo(f"wrote {out}")
