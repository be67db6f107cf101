"""The `[webhooks]` section and the app secret: from the environment or a file, never shown, redacted in logs."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from hubsync import logs
from hubsync.cli.app import Invocation
from hubsync.errors import ConfigError
from hubsync.secret import Secret
from hubsync.settings import load_settings
from tests.support.config import config_with
from tests.support.paths import DEFAULT_CONFIG

SECRET = "0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e6f"


def test_webhooks_are_off_by_default_and_without_a_secret() -> None:
    settings = load_settings({}, str(DEFAULT_CONFIG))
    assert settings.config.webhooks.enabled is False
    assert settings.config.webhooks.timestamp_window_seconds == 300
    assert settings.webhook_secret is None
    with pytest.raises(ConfigError, match="HUBSYNC_WEBHOOK_SECRET"):
        settings.require_webhook_secret()


def test_the_secret_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    assert load_settings({"HUBSYNC_WEBHOOK_SECRET": SECRET}, str(DEFAULT_CONFIG)).webhook_secret == Secret(SECRET)
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n", encoding="utf-8")
    from_file = load_settings({"HUBSYNC_WEBHOOK_SECRET_FILE": str(path)}, str(DEFAULT_CONFIG))
    assert from_file.require_webhook_secret() == Secret(SECRET)
    with pytest.raises(ConfigError, match="not both"):
        load_settings({"HUBSYNC_WEBHOOK_SECRET": SECRET, "HUBSYNC_WEBHOOK_SECRET_FILE": str(path)}, str(DEFAULT_CONFIG))
    path.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="is empty"):
        load_settings({"HUBSYNC_WEBHOOK_SECRET_FILE": str(path)}, str(DEFAULT_CONFIG))


def test_the_secret_never_shows_in_settings() -> None:
    settings = load_settings({"HUBSYNC_WEBHOOK_SECRET": SECRET}, str(DEFAULT_CONFIG))
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings.webhook_secret)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('path = "/webhooks/hubspot"', 'path = "webhooks"'),
        ("max_body_bytes = 1000000", "max_body_bytes = 10"),
        ("timestamp_window_seconds = 300", "timestamp_window_seconds = 0"),
        ('# public_url = "https://hubsync.example.com/webhooks/hubspot"', 'public_url = "ftp://x"'),
    ],
)
def test_a_wrong_webhooks_key_is_a_config_error(tmp_path: Path, line: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=r"webhooks\."):
        load_settings({}, str(config_with(tmp_path, {line: problem})))


@pytest.fixture
def log_out() -> Iterator[io.StringIO]:
    out = io.StringIO()
    config, root = structlog.get_config(), logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield out
    structlog.configure(**config)
    root.handlers[:] = handlers
    root.setLevel(level)


def test_the_cli_redacts_the_secret_by_value(monkeypatch: pytest.MonkeyPatch, log_out: io.StringIO) -> None:
    monkeypatch.setenv("HUBSYNC_WEBHOOK_SECRET", SECRET)
    Invocation(config_path=str(DEFAULT_CONFIG), log_level="info", log_json=True, log_stream=log_out).settings()
    structlog.get_logger("t").warning("webhooks.test", detail=f"signed with {SECRET}")
    assert SECRET not in log_out.getvalue()
    assert logs.REDACTED in log_out.getvalue()
