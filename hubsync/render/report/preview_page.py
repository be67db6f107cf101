"""`hubsync preview --out`: the preview as one self-contained HTML page, drawn from the preview dict alone with the
report's renderer (its Jinja2 environment, filters, style sheet and masthead), so page and `--json` never disagree.
The section itself is `templates/preview_section.html.j2`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from hubsync import __version__
from hubsync.render.report.page import _environment
from hubsync.scoring.segments import SEGMENTS

# The rows comparing the two handoff plans, in the text and on the page: (label, key of each side's numbers).
PLAN_ROWS: Final = (
    ("effective threshold", "effective_threshold"),
    ("free capacity", "free_capacity"),
    ("tasks now", "tasks"),
    ("  of them hand-raisers", "hand_raisers"),
    ("  beyond capacity", "beyond_capacity"),
    ("waiting for capacity", "waiting"),
    ("without an owner", "unrouted"),
)


def preview_html(data: Mapping[str, Any]) -> str:
    """The page for a dict of the shape `hubsync/jobs/preview.py::preview` returns."""
    return (
        _environment()
        .get_template("preview.html.j2")
        .render(data=data, version=__version__, segments=SEGMENTS, plan_rows=PLAN_ROWS)
    )
