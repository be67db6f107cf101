"""Issue 18: the commands a new admin meets first — an editable config, `--config` where commands take options,
a token put in the config file, an unknown contact, a sync before `hubsync setup` — each with its documented
exit code and one line that says what to do."""

from __future__ import annotations

from pathlib import Path

from hubsync.sandbox import start_sandbox
from hubsync.settings import load_settings, packaged_default_config
from tests.support.cli import cli_env, run_hubsync
from tests.support.paths import DEFAULT_CONFIG

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"  # made up; must never be echoed


def _error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("hubsync:")]
    assert len(lines) == 1, stderr[-3000:]
    assert "Traceback" not in stderr
    return lines[0]


def test_config_init_writes_the_packaged_default_which_passes_config_check(tmp_path: Path) -> None:
    target = tmp_path / "etc" / "hubsync.toml"  # a directory that does not exist yet
    done = run_hubsync(cli_env(), "config", "init", str(target), log_json=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert str(target) in done.stdout
    written = target.read_text(encoding="utf-8")
    assert written == packaged_default_config() == DEFAULT_CONFIG.read_text(encoding="utf-8")

    # `--config` after the subcommand, as the init output tells the admin to type it.
    checked = run_hubsync(cli_env(), "config", "check", "--config", str(target), log_json=False, timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith(f"config: {target} (valid)")
    assert load_settings({}, str(target)).config == load_settings({}, str(DEFAULT_CONFIG)).config


def test_config_init_leaves_an_existing_file_alone_unless_forced(tmp_path: Path) -> None:
    target = tmp_path / "hubsync.toml"
    target.write_text("# mine\n", encoding="utf-8")
    refused = run_hubsync(cli_env(), "config", "init", str(target), log_json=False, timeout=60)
    assert refused.returncode == 2
    assert _error_line(refused.stderr) == f"hubsync: {target}: the file exists; pass --force to overwrite it"
    assert target.read_text(encoding="utf-8") == "# mine\n"

    forced = run_hubsync(cli_env(), "config", "init", str(target), "--force", log_json=False, timeout=60)
    assert forced.returncode == 0, forced.stderr
    assert target.read_text(encoding="utf-8") == packaged_default_config()


def test_a_token_in_the_config_file_is_answered_with_where_tokens_go(tmp_path: Path) -> None:
    config = tmp_path / "hubsync.toml"
    config.write_text(
        packaged_default_config().replace("[portal]\n", f'[portal]\naccess_token = "{TOKEN}"\n', 1), encoding="utf-8"
    )
    result = run_hubsync(cli_env(), "config", "check", "-c", str(config), log_json=False, timeout=60)
    assert result.returncode == 2
    line = _error_line(result.stderr)
    assert line.startswith(f"hubsync: {config}: portal.access_token: secrets do not belong in the config file")
    assert "HUBSPOT_ACCESS_TOKEN" in line
    assert TOKEN not in result.stderr + result.stdout


def test_explain_of_an_unknown_contact_exits_11(tmp_path: Path) -> None:
    result = run_hubsync(
        cli_env(f"sqlite:///{tmp_path / 'h.db'}"), "explain", "nobody@example.com", log_json=False, timeout=60
    )
    assert result.returncode == 11, result.stderr
    assert "no contact 'nobody@example.com' in the local database" in _error_line(result.stderr)


def test_sync_before_setup_fails_at_the_first_call(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    with start_sandbox(contacts=50, seed=3, rate_limits=False) as sb:
        result = run_hubsync(cli_env(db, sandbox=sb), "sync", log_json=False, timeout=120)
        calls = sb.stats()["total"]
    assert result.returncode == 2, result.stderr[-3000:]
    line = _error_line(result.stderr)
    assert "on contacts: run `hubsync setup` once" in line
    assert calls == 1, "the check is the first call; nothing was pulled"
