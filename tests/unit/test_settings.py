from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from hubsync.errors import ConfigError
from hubsync.secret import Secret
from hubsync.settings import DEFAULT_DATABASE_URL, load_settings
from tests.support.cli import cli_env, run_hubsync
from tests.support.paths import DEFAULT_CONFIG, REPO

TOKEN = "pat-eu1-0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def _default() -> dict[str, Any]:
    return tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(_dumps(data), encoding="utf-8")
    return path


def _dumps(data: dict[str, Any], prefix: str = "") -> str:
    """A tiny TOML writer for the shapes the config has (tables, arrays of tables, scalars, lists)."""
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    arrays: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            tables.append((name, value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            arrays.append((name, value))
        else:
            lines.append(f"{key} = {_scalar(value)}")
    out = "\n".join(lines) + "\n"
    for name, table in tables:
        out += f"\n[{name}]\n" + _dumps(table, name)
    for name, items in arrays:
        for item in items:
            out += f"\n[[{name}]]\n" + _dumps(item, name)
    return out


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_scalar(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _error(tmp_path: Path, data: dict[str, Any]) -> ConfigError:
    path = _write(tmp_path / "broken.toml", data)
    with pytest.raises(ConfigError) as caught:
        load_settings({}, str(path))
    assert caught.value.source == str(path)
    return caught.value


def test_default_config_loads_and_round_trips_through_the_test_writer(tmp_path: Path) -> None:
    settings = load_settings({}, str(DEFAULT_CONFIG))
    assert settings.config.portal.effective_requests_per_10s == 190
    assert settings.database_url == DEFAULT_DATABASE_URL
    # The writer used by the broken-config tests reproduces the default faithfully.
    again = load_settings({}, str(_write(tmp_path / "copy.toml", _default())))
    assert again.config == settings.config


def test_wrong_type_names_the_key(tmp_path: Path) -> None:
    data = _default()
    data["schedule"]["cycle_minutes"] = "fifteen"
    err = _error(tmp_path, data)
    assert err.key == "schedule.cycle_minutes"
    assert "integer" in err.expected


def test_unknown_key_names_the_key(tmp_path: Path) -> None:
    data = _default()
    data["portal"]["teir"] = "enterprise"
    err = _error(tmp_path, data)
    assert err.key == "portal.teir"
    assert "unknown key" in err.expected


def test_missing_required_key_names_the_key(tmp_path: Path) -> None:
    data = _default()
    del data["scoring"]
    err = _error(tmp_path, data)
    assert err.key == "scoring"
    assert "required" in err.expected


def test_value_out_of_range_names_the_key_and_the_bound(tmp_path: Path) -> None:
    data = _default()
    data["portal"]["daily_quota_reserve"] = 1.5
    err = _error(tmp_path, data)
    assert err.key == "portal.daily_quota_reserve"
    assert "0.9" in err.expected


def test_bad_time_and_zone_are_explained(tmp_path: Path) -> None:
    data = _default()
    data["schedule"]["daily_rescore_at"] = "3:30pm"
    assert "HH:MM" in _error(tmp_path, data).expected
    data = _default()
    data["schedule"]["timezone"] = "Mars/Olympus"
    assert _error(tmp_path, data).key == "schedule.timezone"


def test_report_settings_are_validated(tmp_path: Path) -> None:
    report = load_settings({}, str(DEFAULT_CONFIG)).config.report
    assert (report.min_n, report.period, report.schedule) == (30, "month", "off")
    assert "UNQUALIFIED" in report.rejected_lead_statuses
    data = _default()
    data["report"]["schedule"] = "0 7 * * mon"
    assert load_settings({}, str(_write(tmp_path / "ok.toml", data))).config.report.schedule == "0 7 * * mon"
    data["report"]["schedule"] = "every monday"
    err = _error(tmp_path, data)
    assert (err.key, "crontab" in err.expected) == ("report.schedule", True)
    data = _default()
    data["report"]["min_n"] = 0
    assert _error(tmp_path, data).key == "report.min_n"


def test_not_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[portal\ntier = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({}, str(path))


def test_missing_config_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_settings({}, str(tmp_path / "nope.toml"))


def test_environment_values(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    env = {
        "HUBSPOT_ACCESS_TOKEN_FILE": str(token_file),
        "HUBSYNC_API_BASE_URL": "http://127.0.0.1:8080/",
        "HUBSYNC_DATABASE_URL": "postgresql+psycopg://u:secretpw@db/hubsync",
        "HUBSYNC_CONFIG": str(DEFAULT_CONFIG),
    }
    settings = load_settings(env)
    assert settings.require_token() == Secret(TOKEN)
    assert settings.api_base_url == "http://127.0.0.1:8080"
    assert settings.config_source == str(DEFAULT_CONFIG)


def test_token_problems_are_config_errors(tmp_path: Path) -> None:
    settings = load_settings({}, str(DEFAULT_CONFIG))
    with pytest.raises(ConfigError) as caught:
        settings.require_token()
    assert caught.value.key == "HUBSPOT_ACCESS_TOKEN"
    with pytest.raises(ConfigError, match="not both"):
        load_settings({"HUBSPOT_ACCESS_TOKEN": TOKEN, "HUBSPOT_ACCESS_TOKEN_FILE": "/x"}, str(DEFAULT_CONFIG))
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings({"HUBSPOT_ACCESS_TOKEN_FILE": str(tmp_path / "missing")}, str(DEFAULT_CONFIG))
    with pytest.raises(ConfigError, match="HUBSYNC_API_BASE_URL"):
        load_settings({"HUBSYNC_API_BASE_URL": "api.hubapi.com"}, str(DEFAULT_CONFIG))


def test_token_never_shows_in_repr_or_str_of_settings() -> None:
    settings = load_settings({"HUBSPOT_ACCESS_TOKEN": TOKEN}, str(DEFAULT_CONFIG))
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)
    assert TOKEN not in repr(settings.access_token)
    assert TOKEN not in f"{settings.access_token}"
    assert settings.require_token().reveal() == TOKEN


def _cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return run_hubsync(cli_env(), *args, log_json=False, cwd=cwd, timeout=60)


def test_cli_config_check_accepts_the_default() -> None:
    result = _cli("config", "check")
    assert result.returncode == 0, result.stderr
    assert "config/hubsync.toml" in result.stdout
    assert "professional" in result.stdout


def test_cli_config_check_falls_back_to_the_packaged_default(tmp_path: Path) -> None:
    result = _cli("config", "check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "packaged default" in result.stdout


def test_cli_broken_config_exits_2_with_one_line_naming_file_and_key(tmp_path: Path) -> None:
    data = _default()
    data["tasks"]["priority"] = "URGENT"
    path = _write(tmp_path / "broken.toml", data)
    result = _cli("--config", str(path), "config", "check")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0]
    assert "tasks.priority" in lines[0]
    assert "'HIGH'" in lines[0]
    assert "Traceback" not in result.stderr


def _signal_index(data: dict[str, Any], name: str) -> int:
    return next(i for i, s in enumerate(data["scoring"]["signals"]) if s["name"] == name)


@pytest.mark.parametrize(
    ("break_it", "key", "expected"),
    [
        (
            lambda d: d["scoring"]["signals"][_signal_index(d, "pricing_page_view")]["match"][0].update(
                url="/(preise|pricing"
            ),
            "scoring.signals[{pricing}].match[0].url",
            "regular expression",
        ),
        (
            lambda d: d["scoring"]["patterns"][0].update(signals=["comparison_page_view", "webinar_atended"]),
            "scoring.patterns[0].signals",
            "webinar_atended",
        ),
        (lambda d: d["scoring"]["status"].update(mql=80), "scoring.status", "mql"),
        (
            lambda d: d["scoring"]["handoff"]["capacity"].update(floor=95),
            "scoring.handoff.capacity",
            "floor",
        ),
        (lambda d: d["scoring"]["signals"][0].pop("points"), "scoring.signals[0].points", "required"),
    ],
    ids=["invalid-regex", "pattern-unknown-signal", "thresholds-out-of-order", "floor-above-ceiling", "missing"],
)
def test_cli_broken_scoring_model_exits_2_naming_the_key(
    tmp_path: Path, break_it: Any, key: str, expected: str
) -> None:
    data = _default()
    break_it(data)
    key = key.format(pricing=_signal_index(data, "pricing_page_view"))
    path = _write(tmp_path / "broken.toml", data)
    result = _cli("--config", str(path), "config", "check")
    assert result.returncode == 2, result.stdout
    line = result.stderr.strip()
    assert "\n" not in line
    assert line.startswith(f"hubsync: {path}: {key}"), line
    assert expected in line


def test_client_settings_follow_the_portal_tier(tmp_path: Path) -> None:
    from hubsync.hubspot.client_settings import client_settings  # noqa: PLC0415  (only this test needs the client)

    data = _default()
    data["portal"].update(tier="starter", daily_quota_reserve=0.3)
    settings = load_settings({"HUBSPOT_ACCESS_TOKEN": TOKEN}, str(_write(tmp_path / "c.toml", data)))
    client = client_settings(settings)
    assert (client.requests_per_10s, client.daily_quota, client.daily_reserve) == (100, 250_000, 0.3)
    assert client.access_token.reveal() == TOKEN
    with pytest.raises(ConfigError, match="HUBSPOT_ACCESS_TOKEN"):
        client_settings(load_settings({}, str(DEFAULT_CONFIG)))
