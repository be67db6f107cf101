"""Issue 12: every database and config failure is one line on standard error with its documented exit code, through
the real `hubsync` command; a traceback only with `--log-level debug`."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from hubsync.store.db import open_database
from tests.conftest import POSTGRES_URL
from tests.support.cli import cli_env, run_hubsync

PASSWORD = "s3cret-pw"  # a made-up password that must never reach the output


def _one_line(result: subprocess.CompletedProcess[str], exit_code: int) -> str:
    assert result.returncode == exit_code, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-3000:]
    assert lines[0].startswith("hubsync: ")
    return lines[0]


# -- the database --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [("db", "upgrade"), ("status",), ("score",)])
def test_a_missing_sqlite_directory_is_one_line_exit_3(tmp_path: Path, command: tuple[str, ...]) -> None:
    missing = tmp_path / "no-such-dir"
    url = f"sqlite:///{missing / 'hubsync.db'}"
    line = _one_line(run_hubsync(cli_env(url), *command, log_json=False, timeout=60), 3)
    assert url in line
    assert f"the directory {missing} does not exist" in line


# `score` writes in a transaction; `sync` first writes the lease, outside any job's transaction.
@pytest.mark.parametrize("command", ["score", "sync"])
def test_a_read_only_sqlite_database_is_one_line_exit_3(tmp_path: Path, command: str) -> None:
    path = tmp_path / "hubsync.db"
    open_database(f"sqlite:///{path}").dispose()
    # SQLite's own read-only mode: every write is refused, whoever the user is (root ignores file modes).
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    env = {**cli_env(url), "HUBSPOT_ACCESS_TOKEN": "pat-na1-00000000-0000-0000-0000-000000000000"}
    line = _one_line(run_hubsync(env, command, log_json=False, timeout=60), 3)
    assert f"the database {path} is read-only" in line


@pytest.fixture
def read_only_directory(tmp_path: Path) -> Iterator[Path]:
    """A directory this process cannot write to: its mode for an ordinary user, a read-only bind mount for root
    (whom file modes do not stop)."""
    directory = tmp_path / "ro"
    directory.mkdir()
    open_database(f"sqlite:///{directory / 'hubsync.db'}").dispose()
    if os.geteuid() != 0:
        directory.chmod(0o555)
        try:
            yield directory
        finally:
            directory.chmod(0o755)
        return
    mounted = subprocess.run(  # noqa: S603  (fixed arguments)
        ["/bin/mount", "--bind", "-o", "ro", str(directory), str(directory)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot make a read-only directory as root here: {mounted.stderr.decode().strip()}")
    try:
        yield directory
    finally:
        subprocess.run(["/bin/umount", str(directory)], check=True)  # noqa: S603  (fixed arguments)


def test_a_sqlite_database_in_a_read_only_directory_is_one_line_exit_3(read_only_directory: Path) -> None:
    url = f"sqlite:///{read_only_directory / 'hubsync.db'}"
    line = _one_line(run_hubsync(cli_env(url), "score", log_json=False, timeout=60), 3)
    # SQLite keeps its write-ahead log beside the file: the directory must be writable too.
    assert f"directory {read_only_directory}" in line
    assert "read-only file system" in line or "permission denied" in line


def _postgres_parts() -> sa.URL:
    if not POSTGRES_URL:
        pytest.skip("HUBSYNC_TEST_POSTGRES_URL not set")
    return sa.make_url(POSTGRES_URL)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"port": 1}, "Connection refused"),
        ({"host": "no-such-host.invalid"}, "no-such-host.invalid"),
        ({"database": "no_such_database"}, 'database "no_such_database" does not exist'),
    ],
    ids=["wrong-port", "wrong-host", "wrong-database"],
)
@pytest.mark.postgres
def test_an_unreachable_postgresql_is_one_line_exit_3(change: dict[str, object], expected: str) -> None:
    url = _postgres_parts().set(password=PASSWORD, **change)  # type: ignore[arg-type]  # keyword per case
    shown = url.render_as_string(hide_password=True)
    result = run_hubsync(cli_env(url.render_as_string(hide_password=False)), "status", log_json=False, timeout=60)
    line = _one_line(result, 3)
    assert f"cannot use the database {shown}:" in line
    assert expected in line
    assert PASSWORD not in result.stderr + result.stdout


# -- the config file -----------------------------------------------------------------------------------------


def test_a_config_file_that_is_not_utf8_is_one_line_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "hubsync.toml"
    config.write_bytes('[portal]\n# Kunde: M\xfcller\ntier = "starter"\n'.encode("latin-1"))
    for args, env in (
        (("--config", str(config), "config", "check"), cli_env()),
        (("config", "check"), cli_env(config=config)),
    ):
        line = _one_line(run_hubsync(env, *args, log_json=False, timeout=60), 2)
        assert line.startswith(f"hubsync: {config}: not UTF-8 text")
        assert "line 2" in line


def test_a_token_file_that_is_not_utf8_is_one_line_exit_2(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_bytes(b"pat-\xff\xfe")
    env = {**cli_env(f"sqlite:///{tmp_path / 'h.db'}"), "HUBSPOT_ACCESS_TOKEN_FILE": str(token_file)}
    line = _one_line(run_hubsync(env, "sync", log_json=False, timeout=60), 2)
    assert "HUBSPOT_ACCESS_TOKEN_FILE" in line
    assert f"{token_file} is not UTF-8 text" in line


# -- anything else -------------------------------------------------------------------------------------------

# A bug planted in the command it runs (there is, on purpose, no known one to trigger): `sitecustomize` runs before
# hubsync's own code in every Python process that has it on its path.
_PLANTED_BUG = """
import hubsync.render.config_summary as summary


def config_summary(settings):
    raise KeyError("a planted bug")


summary.config_summary = config_summary
"""


def test_an_unexpected_error_is_one_line_exit_1_and_a_traceback_only_on_request(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(_PLANTED_BUG, encoding="utf-8")
    env = {**cli_env(), "PYTHONPATH": str(tmp_path)}

    line = _one_line(run_hubsync(env, "config", "check", log_json=False, timeout=60), 1)
    assert line == (
        "hubsync: unexpected error: KeyError: 'a planted bug' (run with --log-level debug for the traceback)"
    )

    debug = run_hubsync(env, "--log-level", "debug", "config", "check", log_json=False, timeout=60)
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert 'raise KeyError("a planted bug")' in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == line
