"""Run the `hubsync` command in a subprocess, as an admin or a scheduler does, with an environment of its own."""

from __future__ import annotations

import subprocess
import sys
from typing import IO, TYPE_CHECKING

from tests.support.paths import REPO

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from hubsync.sandbox import Sandbox


def cli_env(
    database_url: str | None = None,
    *,
    sandbox: Sandbox | None = None,
    token: str | None = None,
    config: Path | None = None,
    sandbox_clock: bool = False,
) -> dict[str, str]:
    """The whole environment of a `hubsync` subprocess: nothing inherited from the test's own. With a `sandbox`,
    hubsync talks to it (with `token`, or the sandbox's own); with `sandbox_clock`, it scores as of the portal's
    clock (which the test moves) instead of the machine's."""
    env = {"PATH": "/usr/bin:/bin"}
    if sandbox is not None:
        env["HUBSYNC_API_BASE_URL"] = sandbox.url
        env["HUBSPOT_ACCESS_TOKEN"] = sandbox.token if token is None else token
    if database_url is not None:
        env["HUBSYNC_DATABASE_URL"] = database_url
    if config is not None:
        env["HUBSYNC_CONFIG"] = str(config)
    if sandbox_clock:
        env["HUBSYNC_CLOCK"] = "sandbox"
    return env


def hubsync_command(*args: str, log_json: bool = True) -> list[str]:
    return [sys.executable, "-m", "hubsync", *(("--log-json",) if log_json else ()), *args]


def run_hubsync(
    env: Mapping[str, str],
    *args: str,
    log_json: bool = True,
    cwd: Path = REPO,
    timeout: float | None = 300,
) -> subprocess.CompletedProcess[str]:
    """`hubsync *args` to the end, its output captured as text."""
    return subprocess.run(  # noqa: S603  (our own CLI, fixed arguments)
        hubsync_command(*args, log_json=log_json),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=dict(env),
        check=False,
        timeout=timeout,
    )


def start_hubsync(
    env: Mapping[str, str], *args: str, stdout: IO[bytes] | int, stderr: IO[bytes] | int
) -> subprocess.Popen[bytes]:
    """`hubsync --log-json *args` started in the background (a service to stop, a sync to kill)."""
    return subprocess.Popen(  # noqa: S603  (our own CLI, fixed arguments)
        hubsync_command(*args), cwd=REPO, env=dict(env), stdout=stdout, stderr=stderr
    )
