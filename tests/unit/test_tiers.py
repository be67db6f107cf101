"""Issue 18: one set of tier names. The sandbox (which imports nothing of hubsync) and `[portal] tier` know the same
tiers with the same limits, and each refuses another name by listing the ones it knows."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from hubsync.errors import ConfigError
from hubsync.sandbox.limits import EVENTS_API_TIERS, TIERS, LimitSettings
from hubsync.settings import PortalConfig, Tier, load_settings, packaged_default_config


def test_the_sandbox_and_the_config_know_the_same_tiers_with_the_same_limits() -> None:
    assert list(TIERS) == list(get_args(Tier))
    for tier, limits in TIERS.items():
        portal = PortalConfig(tier=tier)  # type: ignore[arg-type]  # each name is a Tier, as asserted above
        assert (portal.effective_requests_per_10s, portal.effective_daily_quota) == limits, tier
    assert set(TIERS) >= EVENTS_API_TIERS


def test_an_unknown_tier_is_refused_by_both_with_the_known_names(tmp_path: Path) -> None:
    known = "free, starter, professional, enterprise, api_limit_increase"
    with pytest.raises(ValueError, match=f"unknown tier 'api_add_on'; known: {known}"):
        LimitSettings(tier="api_add_on")
    config = packaged_default_config().replace('tier = "professional"', 'tier = "api_add_on"', 1)
    path = tmp_path / "hubsync.toml"
    path.write_text(config, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"portal\.tier: .*api_limit_increase"):
        load_settings({}, str(path))
