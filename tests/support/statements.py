"""The statements an engine runs, as the tests that count writes record them (a write the code should have left
out shows up here, whichever way it travels: COPY's rows go outside the statement events, its stage's statements
do not)."""

from __future__ import annotations

from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Engine

# The first words of statements that change something (the COPY path's stage is created, filled and emptied).
WRITES: Final = ("INSERT", "UPDATE", "DELETE", "COPY", "CREATE", "TRUNCATE")


def statements_run(engine: Engine, *first_words: str) -> list[str]:
    """The statements `engine` runs from now on whose first word is one of `first_words`, in order."""
    run: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(first_words):
            run.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    return run
