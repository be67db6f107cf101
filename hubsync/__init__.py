"""hubsync: local lead scoring for HubSpot, written back as CRM properties and sales tasks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hubsync")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
