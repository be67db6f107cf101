from __future__ import annotations

import io
import json
import logging
import sys

import pytest
import structlog

from hubsync import logs

TOKEN = "pat-eu1-0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def _capture(*, secrets: tuple[str, ...] = (TOKEN,), as_json: bool = True) -> io.StringIO:
    out = io.StringIO()
    logs.configure(secrets=secrets, json=as_json, stream=out, level="debug")
    return out


def test_token_in_event_fields_is_redacted() -> None:
    out = _capture()
    log = structlog.get_logger("t")
    log.info("client.request", headers={"Authorization": f"Bearer {TOKEN}"}, token=TOKEN, parts=[TOKEN])
    text = out.getvalue()
    assert TOKEN not in text
    event = json.loads(text)
    assert event["event"] == "client.request"
    assert event["token"] == logs.REDACTED
    assert event["headers"] == {"Authorization": f"Bearer {logs.REDACTED}"}


def test_token_in_a_logged_exception_is_redacted() -> None:
    out = _capture()
    log = structlog.get_logger("t")
    try:
        raise RuntimeError(f"request failed with Authorization: Bearer {TOKEN}")
    except RuntimeError:
        log.exception("pull.failed")
    text = out.getvalue()
    assert TOKEN not in text
    assert "RuntimeError: request failed" in json.loads(text)["exception"]


def test_token_shapes_are_redacted_even_when_the_value_is_unknown() -> None:
    out = _capture(secrets=())
    other = "pat-na1-11111111-2222-3333-4444-555555555555"
    structlog.get_logger("t").warning("x.y", message=f"url?hapikey=abc123&x=1 {other} Bearer sometoken")
    text = out.getvalue()
    assert other not in text
    assert "abc123" not in text
    assert "sometoken" not in text


def test_stdlib_logging_goes_through_the_same_redaction() -> None:
    out = _capture()
    logging.getLogger("urllib3.connectionpool").warning("retrying with Bearer %s", TOKEN)
    text = out.getvalue()
    assert TOKEN not in text
    event = json.loads(text)
    assert event["event"] == "lib.urllib3"


def test_console_format_redacts_too() -> None:
    out = _capture(as_json=False)
    structlog.get_logger("t").info("push.batch_sent", token=TOKEN)
    text = out.getvalue()
    assert "push.batch_sent" in text
    assert TOKEN not in text


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_default_level_is_warning_at_a_terminal_and_info_elsewhere() -> None:
    assert logs.default_level(_Terminal()) == "warning"
    assert logs.default_level(io.StringIO()) == "info"
    out = _Terminal()
    logs.configure(stream=out)
    structlog.get_logger("t").info("x.quiet")
    structlog.get_logger("t").warning("x.said")
    assert "x.quiet" not in out.getvalue()
    assert "x.said" in out.getvalue()


def test_standard_error_is_looked_up_at_each_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A progress bar swaps `sys.stderr` for a proxy that prints above the bar: log lines must follow the swap."""
    logs.configure(json=True, level="info")
    before, during = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", before)
    structlog.get_logger("t").info("x.before")
    logging.getLogger("urllib3").warning("from a library")
    monkeypatch.setattr(sys, "stderr", during)
    structlog.get_logger("t").info("x.during")
    assert [json.loads(line)["event"] for line in before.getvalue().splitlines()] == ["x.before", "lib.urllib3"]
    assert json.loads(during.getvalue())["event"] == "x.during"
