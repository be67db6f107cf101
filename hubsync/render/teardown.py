"""`hubsync teardown` as text: the plan (what goes, what stays and why, the open tasks), then what was done."""

from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING

from hubsync.render.text import counted, number

if TYPE_CHECKING:
    from hubsync.jobs.teardown import TeardownPlan, TeardownResult

_TASKS = {
    "keep": "kept in the reps' queues (--tasks close marks them completed, --tasks delete archives them)",
    "close": "to be marked completed",
    "delete": "to be deleted (archived)",
}


def plan_lines(plan: TeardownPlan) -> list[str]:
    if plan.empty and not plan.kept and not plan.tasks:
        return ["nothing of hubsync's in this portal: no hubsync property, group or open task"]
    out = []
    for object_type, names in groupby(plan.properties, key=lambda p: p[0]):
        listed = [name for _, name in names]
        out.append(f"{object_type}: archive {counted(len(listed), 'property', 'properties')}: {', '.join(listed)}")
    out.extend(f"{object_type}: archive the property group {name!r}" for object_type, name in plan.groups)
    out.extend(f"{k.object_type}: keep {k.name}: {k.why}" for k in plan.kept)
    out.append(
        f"open hubsync tasks: {number(len(plan.tasks))}" + (f", {_TASKS[plan.task_action]}" if plan.tasks else "")
    )
    if plan.properties:
        out.append(
            "local database: forget what was pushed to "
            + " and ".join(sorted({t for t, _ in plan.properties}))
            + " (a later `hubsync setup` and push write every value again); scores and pulled data stay"
        )
    return out


def result_lines(result: TeardownResult) -> list[str]:
    action = {"close": "marked completed", "delete": "deleted (archived)"}.get(result.plan.task_action, "kept")
    tasks = result.tasks_removed if result.plan.task_action != "keep" else len(result.plan.tasks)
    return [
        (
            f"archived {counted(result.properties_archived, 'property', 'properties')} and "
            f"{counted(result.groups_archived, 'property group')}; {counted(tasks, 'open task')} {action}"
        ),
        f"the local database forgot the pushed values of {counted(result.pushed_forgotten, 'record')}",
    ]
