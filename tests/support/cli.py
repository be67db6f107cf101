"""Run the `hubsync` command in a subprocess, as an admin or a scheduler does, with an environment of its own."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

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


# ANSI control sequences: CSI (colours, cursor moves, rich's hidden cursor) and OSC.
_CONTROL = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07]*\x07)")


@dataclass(frozen=True, slots=True)
class TerminalRun:
    returncode: int
    # What the terminal received (standard output and error, as a person sees them), with "\n" line ends.
    transcript: str

    @property
    def text(self) -> str:
        """The transcript without terminal control sequences (colours, cursor moves)."""
        return _CONTROL.sub("", self.transcript)

    @property
    def lines(self) -> list[str]:
        return self.text.rstrip("\n").split("\n")


def run_hubsync_at_terminal(
    env: Mapping[str, str],
    *args: str,
    columns: int = 80,
    cwd: Path = REPO,
    timeout: float = 300,
    stdout: IO[bytes] | None = None,
) -> TerminalRun:
    """`hubsync *args` at a pseudo-terminal of `columns` columns, as an admin runs it by hand: standard input,
    output and error are the terminal (unless `stdout` is given: then output goes there, as with `> file`). No
    `--log-json`: what hubsync chooses at a terminal is what is tested."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen(  # noqa: S603  (our own CLI, fixed arguments)
        hubsync_command(*args, log_json=False),
        stdin=terminal,
        stdout=stdout if stdout is not None else terminal,
        stderr=terminal,
        cwd=cwd,
        env=dict(env),
    )
    os.close(terminal)
    received = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the last holder of the terminal closed it
                break
            if not chunk:
                break
            received += chunk
        else:
            process.kill()
            raise TimeoutError(f"hubsync {' '.join(args)} did not end within {timeout} s")
        returncode = process.wait(timeout=30)
    finally:
        os.close(controller)
    text = received.decode("utf-8", errors="replace").replace("\r\n", "\n")
    return TerminalRun(returncode, text)


def log_events(log: Path, name: str | None = None) -> list[dict[str, Any]]:
    """The events of a `--log-json` log file (lines that are not JSON objects skipped), those named `name` if given."""
    found = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and (name is None or event.get("event") == name):
            found.append(event)
    return found
