"""`hubsync preview` as text for a terminal of 80 columns, drawn from the preview dict alone (the one `--json` prints
and the page shows), with names instead of ids."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from hubsync.render.report.formats import judged_figure
from hubsync.render.report.preview_page import PLAN_ROWS
from hubsync.render.text import counted, number, shorten

WIDTH: Final = 80
# The moves off the matrix's diagonal listed by the text (all are in --json and on the page).
MOVES_SHOWN: Final = 12
_SIDES: Final = ("current", "candidate")


def preview_text(doc: Mapping[str, Any]) -> str:
    # The two files as they were named (a path is never cut; every other line fits 80 columns).
    head = [f"candidate: {doc['candidate']['source']}", f"live:      {doc['current']['source']}"]
    lines = [
        f"as of {_moment(doc['as_of'])}; {counted(doc['contacts'], 'contact')} scored with both models",
        "read from the local database only: nothing written, no HubSpot call",
        "",
    ]
    lines += _changes(doc["changes"])
    lines += _segments(doc)
    lines += _statuses(doc["status"])
    lines += _handoff(doc["handoff"])
    lines += _backtest(doc["backtest"])
    return "\n".join(head + [_fit(line) for line in lines]).rstrip() + "\n"


def _fit(line: str) -> str:
    return shorten(line, WIDTH) if len(line) > WIDTH else line


def _moment(iso: str) -> str:
    return f"{datetime.fromisoformat(iso):%Y-%m-%d %H:%M} UTC"


def _wrapped(text: str, *, first: str = "  - ", rest: str = "    ") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False)


def _changes(changes: Mapping[str, Any]) -> list[str]:
    lines = ["What changes in the model:"]
    model = changes["model"]
    lines += [line for sentence in model for line in _wrapped(sentence)] or ["  nothing: the two models are equal"]
    other = changes["settings"]
    if other:
        lines.append("Other settings that differ:")
        lines += [line for sentence in other for line in _wrapped(sentence)]
    return [*lines, ""]


def _segments(doc: Mapping[str, Any]) -> list[str]:
    segments, companies = doc["segments"], doc["companies"]
    lines = [
        f"Segments: {number(segments['changed'])} of {counted(doc['contacts'], 'contact')} change segment",
        (
            f"  and {number(companies['changed_segment'])} of {counted(companies['scored'], 'company', 'companies')} "
            "their account segment"
        ),
    ]
    shown = segments["moves"][:MOVES_SHOWN]
    if shown:
        lines.append("  largest moves, current → candidate:")
        cells = [f"{m['from']} → {m['to']} {number(m['contacts']):>7}" for m in shown]
        lines += ["    " + "    ".join(cells[i : i + 3]) for i in range(0, len(cells), 3)]
        rest = len(segments["moves"]) - len(shown)
        if rest > 0:
            lines.append(f"    and {rest} smaller move(s); every cell is in --json and on the --out page")
    return [*lines, ""]


def _statuses(status: Mapping[str, Any]) -> list[str]:
    names = list(status["current"])
    lines = [
        (
            f"Status: {number(status['became_sales_ready'])} become sales_ready, "
            f"{number(status['dropped_out'])} of today's sales_ready drop out of it"
        ),
        f"  {'':<12}" + "".join(f"{name:>14}" for name in names),
    ]
    lines += [f"  {side:<12}" + "".join(f"{number(status[side][n]):>14}" for n in names) for side in _SIDES]
    return [*lines, ""]


def _handoff(handoff: Mapping[str, Any]) -> list[str]:
    lines = [
        f"Handoff now, with today's {counted(handoff['open_tasks'], 'open task')} and capacity:",
        f"  {'':<26}{'current':>12}{'candidate':>12}",
    ]
    for label, key in PLAN_ROWS:
        lines.append(f"  {label:<26}{number(handoff['current'][key]):>12}{number(handoff['candidate'][key]):>12}")
    tasks = handoff["tasks"]
    total = handoff["candidate"]["tasks"]
    lines.append("")
    if tasks:
        lines.append(
            f"The candidate's tasks ({len(tasks)} of {number(total)}; "
            f"{number(handoff['new_under_candidate'])} the current model would not create):"
        )
        for task in tasks:
            lines.append(f"  {task['name']}")
            lines.append(f"    to {task['owner']} · {task['segment']} · why: {', '.join(task['triggers'])}")
            lines.append(f"    {task['reason']}")
    else:
        lines.append("The candidate would create no task now.")
    lose = handoff["lose_task"]
    lines.append(f"Would lose the task the current model gives them now: {number(lose['count'])}")
    lines += [
        f"  {c['name']} (engagement {c['engagement_current']} → {c['engagement_candidate']})" for c in lose["contacts"]
    ]
    if lose["count"] > len(lose["contacts"]):
        lines.append(f"  and {number(lose['count'] - len(lose['contacts']))} more")
    return [*lines, ""]


def _backtest(backtest: Mapping[str, Any]) -> list[str]:
    current, candidate = backtest["current"], backtest["candidate"]
    lines = [
        f"Backtest on the outcomes, each model at its threshold (a rate needs n >= {backtest['min_n']}):",
        f"  {'':<24}{'current':>27}{'candidate':>27}",
        f"  {'threshold':<24}{current['threshold']:>27}{candidate['threshold']:>27}",
    ]
    rows = (
        ("later-won handed over", "won_handed_over", "rate"),
        ("top-decile lift", "top_decile_lift", "lift"),
    )
    for label, key, kind in rows:
        cells = [_figure(side[key], kind) for side in (current, candidate)]
        lines.append(f"  {label:<24}{cells[0]:>27}{cells[1]:>27}")
    weekly = [side["handoffs_per_week"] for side in (current, candidate)]
    cells = [f"{number(w['value'])} (of {number(w['n'])})" for w in weekly]
    label = f"reached it, last {backtest['recent_days']} days"
    lines.append(f"  {label:<24}{cells[0]:>27}{cells[1]:>27}")
    lines += _wrapped(
        "Later-won: contacts whose won deal hubsync could see coming, scored the day before their first deal; "
        "lift: the top tenth by score against everyone (with a deal, or a sample without at the same moments); "
        "reached it: contacts at the threshold now that were below it a week ago (a week's handoffs).",
        first="  ",
        rest="  ",
    )
    return lines


def _figure(figure: Mapping[str, Any], kind: str) -> str:
    # Too few: the smaller of the two groups the figure compares (or its only one) is what is short.
    fewest = min(figure.get("with_deal", figure["n"]), figure.get("without", figure["n"]))
    shown = judged_figure(kind, figure["value"], fewest, judged=figure["judged"])
    return shown if shown.startswith("too few") else f"{shown} (n={number(figure['n'])})"
