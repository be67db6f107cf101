"""The receiver's HTTP server: uvicorn in a thread of `hubsync run`, on a socket bound here.

Binding the socket before uvicorn starts makes a port in use a clear error at start-up (not a thread that quietly
ended) and lets port 0 pick a free port, which the service logs. Stopping is uvicorn's graceful shutdown: no new
connections, the requests in flight are answered (their events stored), then the thread ends.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Final

import uvicorn
from starlette.applications import Starlette

from hubsync.errors import ConfigError

# How long requests in flight may take to finish at shutdown; HubSpot itself waits 5 s for an answer.
GRACE_SECONDS: Final = 10.0
_START_SECONDS: Final = 15.0


class ReceiverServer:
    def __init__(self, app: Starlette, *, host: str, port: int) -> None:
        try:
            self._socket = socket.create_server((host, port), family=_family(host), backlog=128)
        except OSError as err:
            raise ConfigError(
                "[webhooks]", "host/port", f"cannot listen on {host}:{port}: {err.strerror or err}"
            ) from None
        self.host = host
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="off",
            server_header=False,
            timeout_graceful_shutdown=int(GRACE_SECONDS),
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="webhooks-http", daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + _START_SECONDS
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            self.stop()
            raise ConfigError("[webhooks]", "host/port", f"the receiver did not start on {self.host}:{self.port}")

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=GRACE_SECONDS + 5)
        self._socket.close()


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
