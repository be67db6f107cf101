"""The `hubsync` command. Each sub-command parses its options, calls one job and prints its result.

`app.py` holds the root and what commands share; `local.py` the commands on the local database alone; `portal.py`
the commands that talk to HubSpot. Importing them registers their commands on the app.
"""

from hubsync.cli import local, portal
from hubsync.cli.app import app, main

__all__ = ["app", "local", "main", "portal"]
