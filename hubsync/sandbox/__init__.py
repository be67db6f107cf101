"""The sandbox portal: a local HTTP server that behaves like a HubSpot portal, for the demo, tests and benchmarks.

Start one with `start_sandbox` (see `server.py`); build portals with `generate_portal` or `snapshot.load`.
It binds to 127.0.0.1 only and says what it is in every answer (`X-Sandbox` header): it is no HubSpot.
"""

from hubsync.sandbox.generator import generate_portal
from hubsync.sandbox.limits import FaultSettings, LimitSettings
from hubsync.sandbox.portal import Portal
from hubsync.sandbox.records import PortalError
from hubsync.sandbox.server import Sandbox, serve, start_sandbox

__all__ = [
    "FaultSettings",
    "LimitSettings",
    "Portal",
    "PortalError",
    "Sandbox",
    "generate_portal",
    "serve",
    "start_sandbox",
]
