"""The base for every configuration object, and the one translation of validation errors into ConfigError.

Configuration is validated with pydantic (it comes with sqlmodel): strict types, unknown keys rejected, frozen
results. Errors are reported as `file: key.path[2].name: what was expected`.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from hubsync.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class ConfigModel(BaseModel):
    """Frozen, strict, and unknown keys are errors: a typo in the config must never be silently ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def key_path(loc: tuple[int | str, ...]) -> str:
    """('scoring', 'signals', 3, 'points') -> 'scoring.signals[3].points'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_EXPECTED = {
    "missing": "required key is missing",
    "extra_forbidden": "unknown key (check the spelling; `hubsync config init` writes a file with every key)",
}

# Keys an admin may try for a secret: the answer says where it belongs instead of only "unknown key".
_SECRET_KEY = re.compile(r"token|secret|api_?key|password", re.IGNORECASE)
_ENVIRONMENT_HINT = (
    "secrets do not belong in the config file: remove this key and set them in the environment, the access token "
    "as HUBSPOT_ACCESS_TOKEN (or HUBSPOT_ACCESS_TOKEN_FILE, a file only hubsync's user can read), the webhook app "
    "secret as HUBSYNC_WEBHOOK_SECRET (or HUBSYNC_WEBHOOK_SECRET_FILE); see the README, 'The private app'"
)


def config_error(err: ValidationError, source: str, prefix: tuple[int | str, ...] = ()) -> ConfigError:
    """The first problem as a ConfigError; the count of further problems is appended so none is hidden."""
    problems = err.errors(include_url=False)
    # A secret in the file is the problem to name first: it must leave the file whatever else is wrong.
    first = next((p for p in problems if _is_secret_key(p)), problems[0])
    # Tagged unions and validators add their own names to `loc`; keep only the keys an admin wrote.
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    expected = _EXPECTED.get(first["type"], _clean(first["msg"]))
    if _is_secret_key(first):
        expected = _ENVIRONMENT_HINT
    if first["type"] not in _EXPECTED and "input" in first and not isinstance(first["input"], dict | list):
        expected += f" (got {first['input']!r})"
    if len(problems) > 1:
        expected += f" [and {len(problems) - 1} more problem(s)]"
    return ConfigError(source, key_path(prefix + loc), expected)


def _is_secret_key(problem: ErrorDetails) -> bool:
    return problem["type"] == "extra_forbidden" and bool(_SECRET_KEY.search(str(problem["loc"][-1])))


def _clean(msg: str) -> str:
    # pydantic prefixes messages of custom validators with "Value error, ".
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def parse(model: type[M], data: Any, source: str, prefix: tuple[int | str, ...] = ()) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise config_error(err, source, prefix) from None
