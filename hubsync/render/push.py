"""What a push did or would do, as text: records changed and sent, changes per property, a sample of the changes by
name, the records HubSpot refused, then the sales tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from hubsync.render.names import Names
from hubsync.render.text import number, shorten

if TYPE_CHECKING:
    from hubsync.jobs.push import PushResult

# A sampled value (a reason) is cut to this many characters, at a word.
VALUE_WIDTH: Final = 60
FAILURES_SHOWN: Final = 20


def push_lines(result: PushResult, names: Names | None = None) -> list[str]:
    named = names or Names()
    verb = "would change" if result.dry_run else "changed"
    out = [
        (
            f"records {verb}: {number(result.records_changed)}; pushed: {number(result.records_pushed)}; "
            f"update requests: {number(result.updates_sent)}; failed: {number(len(result.failures))}"
        )
    ]
    out.extend(f"  {name}: {number(n)}" for name, n in sorted(result.properties_changed.items()))
    if result.sample:
        out.append("sample:")
        for change in result.sample:
            values = ", ".join(f"{k}={shorten(v, VALUE_WIDTH)!r}" for k, v in sorted(change.changes.items()))
            out.append(f"  {named.record(change.object_type, change.object_id)}: {values}")
    out.extend(
        f"  failed {named.record(f.object_type, f.object_id)}: {f.error}" for f in result.failures[:FAILURES_SHOWN]
    )
    if result.tasks is not None:
        out.extend(result.tasks.lines(named))
    if result.stopped:
        out.append(f"stopped early ({result.stopped}); the rest is pushed on the next run")
    return out
