from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hubsync.clock import make_clock, system_clock
from hubsync.errors import ConfigError, HubSpotError
from hubsync.sandbox import start_sandbox
from hubsync.settings import load_settings
from tests.support.paths import DEFAULT_CONFIG


def test_the_sandbox_clock_follows_the_portal() -> None:
    with start_sandbox(contacts=20, seed=1, rate_limits=False) as sb:
        clock = make_clock("sandbox", sb.url)
        start = clock()
        assert start == datetime.fromtimestamp(sb.portal.now / 1000, UTC)
        sb.portal.advance(7 * 86400)
        assert clock() - start == timedelta(days=7)


def test_the_system_clock_is_the_default() -> None:
    settings = load_settings({}, str(DEFAULT_CONFIG))
    assert make_clock(settings.clock, settings.api_base_url) is system_clock


def test_an_unknown_clock_source_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="HUBSYNC_CLOCK"):
        load_settings({"HUBSYNC_CLOCK": "portal"}, str(DEFAULT_CONFIG))


def test_an_unreachable_sandbox_clock_says_so() -> None:
    with pytest.raises(HubSpotError, match="sandbox portal's clock"):
        make_clock("sandbox", "http://127.0.0.1:9")()
