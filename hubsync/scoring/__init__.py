"""Pure scoring: records + model + `now` in, scores out (docs/scoring.md).

Nothing here reads the clock, the environment, HubSpot or the database; `tests/unit/scoring/test_scoring_purity.py`
keeps it that way. Load the model once with
`hubsync.validation.parse(ScoringModel, data["scoring"], source=path, prefix=("scoring",))` and pass it down.

- `score_contact(...)` -> ContactScore — per contact (an incremental rescore).
- `contact.engagements_in_bulk(...)` then `contact.score_engaged(...)` — the same scores for a whole batch, its
  engagement computed at once over arrays (bulk.py; the full rescore).
- `explain_contact(...)` -> Explanation — the same score itemised and dated; `history_lines(...)` renders it.
- `score_company(...)` -> CompanyScore — account scores from the company's ContactScores.
- `advance`, `handoff_candidate`, `decide` / `plan_handoffs` -> HandoffDecision — the sales handoff (episodes,
  hand-raisers, each owner's capacity); `account_handoff.plan_accounts` -> AccountDecision — account tasks for
  active buying centers, from the capacity the contacts left.
"""

from hubsync.scoring.account import score_company
from hubsync.scoring.contact import explain_contact, score_contact
from hubsync.scoring.handoff import (
    HandoffCandidate,
    HandoffDecision,
    HandoffState,
    advance,
    free_capacity,
    handed_over,
    handoff_candidate,
    select_handoffs,
)
from hubsync.scoring.model import ScoringModel
from hubsync.scoring.reasons import history_lines
from hubsync.scoring.results import (
    CompanyScore,
    ContactScore,
    Explanation,
    FitLight,
    HandoffTrigger,
    HistoryEntry,
    LeadStatus,
    Tier,
)

__all__ = [
    "CompanyScore",
    "ContactScore",
    "Explanation",
    "FitLight",
    "HandoffCandidate",
    "HandoffDecision",
    "HandoffState",
    "HandoffTrigger",
    "HistoryEntry",
    "LeadStatus",
    "ScoringModel",
    "Tier",
    "advance",
    "explain_contact",
    "free_capacity",
    "handed_over",
    "handoff_candidate",
    "history_lines",
    "score_company",
    "score_contact",
    "select_handoffs",
]
