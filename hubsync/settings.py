"""Settings: the environment and `config/hubsync.toml`, validated once into frozen objects.

This is the only module that reads the environment; the CLI hands it `os.environ` and passes the result down.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import Field, Strict, field_validator

from hubsync.errors import ConfigError
from hubsync.scoring.model import ScoringModel
from hubsync.secret import Secret
from hubsync.validation import ConfigModel, parse

DEFAULT_API_BASE_URL = "https://api.hubapi.com"
DEFAULT_DATABASE_URL = "sqlite:///hubsync.db"
DEFAULT_CONFIG_PATH = Path("config/hubsync.toml")

Tier = Literal["free", "starter", "professional", "enterprise", "api_limit_increase"]
_TIER_PER_10S: dict[str, int] = {
    "free": 100,
    "starter": 100,
    "professional": 190,
    "enterprise": 190,
    "api_limit_increase": 250,
}
_TIER_DAILY: dict[str, int] = {
    "free": 250_000,
    "starter": 250_000,
    "professional": 625_000,
    "enterprise": 1_000_000,
    "api_limit_increase": 2_000_000,
}
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock_time(value: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f"expected a time as HH:MM (24 h), e.g. '03:30', got {value!r}")
    return value


class PortalConfig(ConfigModel):
    tier: Tier = "professional"
    requests_per_10s: Annotated[int, Field(ge=1, le=10_000)] | None = None
    daily_quota: Annotated[int, Field(ge=1)] | None = None
    daily_quota_reserve: Annotated[float, Field(ge=0.0, le=0.9)] = 0.2
    pace_fraction: Annotated[float, Field(ge=0.5, le=1.0)] = 0.9
    search_requests_per_second: Annotated[int, Field(ge=1, le=50)] = 5
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0
    max_retry_after_seconds: Annotated[float, Field(ge=0, le=3600)] = 60.0

    @property
    def effective_requests_per_10s(self) -> int:
        return self.requests_per_10s or _TIER_PER_10S[self.tier]

    @property
    def effective_daily_quota(self) -> int:
        return self.daily_quota or _TIER_DAILY[self.tier]


class SyncConfig(ConfigModel):
    history_days: Annotated[int, Field(ge=1, le=3650)] = 730
    overlap_minutes: Annotated[int, Field(ge=0, le=1440)] = 10
    recent_days: Annotated[int, Field(ge=1, le=365)] = 30
    recent_checks_per_run: Annotated[int, Field(ge=100, le=100_000)] = 2_000
    full_reconcile_days: Annotated[int, Field(ge=1, le=90)] = 7
    page_views: bool = True


class ScheduleConfig(ConfigModel):
    cycle_minutes: Annotated[int, Field(ge=1, le=1440)] = 15
    daily_rescore_at: str = "03:30"
    weekly_reconcile_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "sun"
    weekly_reconcile_at: str = "04:00"
    timezone: str = "Europe/Berlin"
    lease_seconds: Annotated[int, Field(ge=10, le=3600)] = 120
    lease_wait_seconds: Annotated[int, Field(ge=0, le=3600)] = 30

    _check_times = field_validator("daily_rescore_at", "weekly_reconcile_at")(_clock_time)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"expected an IANA time zone name such as 'Europe/Berlin', got {value!r}") from None
        return value

    @property
    def daily_rescore_time(self) -> time:
        return time.fromisoformat(self.daily_rescore_at)

    @property
    def weekly_reconcile_time(self) -> time:
        return time.fromisoformat(self.weekly_reconcile_at)


class PushConfig(ConfigModel):
    property_prefix: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*_$", max_length=40)] = "hubsync_"
    property_group: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)] = "hubsync"
    property_group_label: Annotated[str, Field(min_length=1, max_length=100)] = "hubsync lead scoring"
    advance_lifecycle_stage: bool = False


OwnerRoute = Literal["contact_owner", "company_owner", "round_robin"]


class TasksConfig(ConfigModel):
    sla_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 24.0
    priority: Literal["LOW", "MEDIUM", "HIGH"] = "HIGH"
    hand_raiser_outside_icp_priority: Literal["LOW", "MEDIUM", "HIGH"] = "LOW"
    type: Literal["TODO", "CALL", "EMAIL"] = "TODO"
    # TOML arrays arrive as lists: accept them for these tuples (the items stay strictly typed).
    owner_routing: Annotated[tuple[OwnerRoute, ...], Strict(False)] = ("contact_owner", "company_owner", "round_robin")
    round_robin_owners: Annotated[tuple[str, ...], Strict(False)] = ()

    @field_validator("owner_routing")
    @classmethod
    def _no_repeats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("expected at least one of 'contact_owner', 'company_owner', 'round_robin'")
        if len(set(value)) != len(value):
            raise ValueError(f"each route may appear once, got {list(value)}")
        return value

    @field_validator("round_robin_owners")
    @classmethod
    def _emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for owner in value:
            if "@" not in owner:
                raise ValueError(f"expected owners' email addresses, got {owner!r}")
        return tuple(owner.lower() for owner in value)


class MonitoringConfig(ConfigModel):
    max_age_minutes: Annotated[int, Field(ge=1)] = 90


_REPORT_SCHEDULES = ("off", "daily", "weekly")


class ReportConfig(ConfigModel):
    min_n: Annotated[int, Field(ge=1, le=100_000)] = 30
    period: Literal["week", "month"] = "month"
    schedule: str = "off"
    out: Annotated[str, Field(min_length=1)] = "hubsync-report.html"
    # TOML arrays arrive as lists: accept them for these tuples (the items stay strictly typed).
    worked_lead_statuses: Annotated[tuple[str, ...], Strict(False)] = (
        "ATTEMPTED_TO_CONTACT",
        "CONNECTED",
        "IN_PROGRESS",
        "OPEN_DEAL",
    )
    rejected_lead_statuses: Annotated[tuple[str, ...], Strict(False)] = ("UNQUALIFIED",)
    nurture_lead_statuses: Annotated[tuple[str, ...], Strict(False)] = ("BAD_TIMING",)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        if value in _REPORT_SCHEDULES:
            return value
        try:
            CronTrigger.from_crontab(value)
        except ValueError:
            raise ValueError(
                f"expected 'off', 'daily', 'weekly' or a crontab expression such as '0 7 * * mon', got {value!r}"
            ) from None
        return value


class WebhooksConfig(ConfigModel):
    enabled: bool = False
    host: Annotated[str, Field(min_length=1)] = "127.0.0.1"
    # 0: any free port (tests; the chosen one is logged as webhooks.listening).
    port: Annotated[int, Field(ge=0, le=65_535)] = 8_390
    path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9._~/-]*$")] = "/webhooks/hubspot"
    public_url: Annotated[str, Field(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")] | None = None
    max_body_bytes: Annotated[int, Field(ge=1_024, le=50_000_000)] = 1_000_000
    timestamp_window_seconds: Annotated[int, Field(ge=1, le=3_600)] = 300
    max_batch_events: Annotated[int, Field(ge=1, le=100_000)] = 10_000
    poll_seconds: Annotated[float, Field(gt=0, le=60)] = 0.5
    max_lag_seconds: Annotated[int, Field(ge=1)] = 300
    keep_days: Annotated[int, Field(ge=1, le=365)] = 7


class HubsyncConfig(ConfigModel):
    portal: PortalConfig = PortalConfig()
    sync: SyncConfig = SyncConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    push: PushConfig = PushConfig()
    tasks: TasksConfig = TasksConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    report: ReportConfig = ReportConfig()
    webhooks: WebhooksConfig = WebhooksConfig()
    # Required: the scoring model has no implicit default; config/hubsync.toml carries the documented one.
    scoring: ScoringModel


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a command needs, loaded once. The token is a Secret and never shows in repr or logs."""

    config: HubsyncConfig
    config_source: str
    database_url: str = DEFAULT_DATABASE_URL
    api_base_url: str = DEFAULT_API_BASE_URL
    # "system", or "sandbox": score as of the sandbox portal's own clock (demo and tests only; see clock.py).
    clock: str = "system"
    access_token: Secret | None = field(default=None, repr=False)
    # The private app's client secret, which signs HubSpot's webhook requests (HUBSYNC_WEBHOOK_SECRET[_FILE]).
    webhook_secret: Secret | None = field(default=None, repr=False)

    def require_token(self) -> Secret:
        if self.access_token is None:
            raise ConfigError(
                "environment",
                "HUBSPOT_ACCESS_TOKEN",
                "not set: put the private app's access token (pat-…) in HUBSPOT_ACCESS_TOKEN, "
                "or the path of a file holding it in HUBSPOT_ACCESS_TOKEN_FILE",
            )
        return self.access_token

    def require_webhook_secret(self) -> Secret:
        if self.webhook_secret is None:
            raise ConfigError(
                "environment",
                "HUBSYNC_WEBHOOK_SECRET",
                "not set, but [webhooks] enabled = true: put the private app's client secret (Webhooks tab) in "
                "HUBSYNC_WEBHOOK_SECRET, or the path of a file holding it in HUBSYNC_WEBHOOK_SECRET_FILE",
            )
        return self.webhook_secret


def load_settings(env: Mapping[str, str], config_path: str | None = None) -> Settings:
    """Read the environment (passed in) and the config file; raise ConfigError naming the first problem."""
    source, text = _read_config(env, config_path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(source, "", f"not valid TOML: {err}") from None
    return Settings(
        config=parse(HubsyncConfig, data, source),
        config_source=source,
        database_url=env.get("HUBSYNC_DATABASE_URL") or DEFAULT_DATABASE_URL,
        api_base_url=_base_url(env.get("HUBSYNC_API_BASE_URL") or DEFAULT_API_BASE_URL),
        clock=_clock_source(env.get("HUBSYNC_CLOCK") or "system"),
        access_token=_secret(env, "HUBSPOT_ACCESS_TOKEN", what="the token"),
        webhook_secret=_secret(env, "HUBSYNC_WEBHOOK_SECRET", what="the secret"),
    )


def _read_config(env: Mapping[str, str], config_path: str | None) -> tuple[str, str]:
    explicit = config_path or env.get("HUBSYNC_CONFIG")
    if explicit:
        path = Path(explicit)
        try:
            return str(path), _utf8(path, str(path), "")
        except OSError as err:
            raise ConfigError(str(path), "", f"cannot read the config file: {err.strerror}") from None
    if DEFAULT_CONFIG_PATH.is_file():
        return str(DEFAULT_CONFIG_PATH), _utf8(DEFAULT_CONFIG_PATH, str(DEFAULT_CONFIG_PATH), "")
    # An installed wheel has no config/ folder next to the working directory: use the copy packaged with hubsync.
    return "<packaged default config>", packaged_default_config()


def packaged_default_config() -> str:
    """The commented default configuration shipped with hubsync (the same text as config/hubsync.toml)."""
    return resources.files("hubsync").joinpath("default_config.toml").read_text(encoding="utf-8")


def write_default_config(path: Path, *, overwrite: bool = False) -> Path:
    """Write the packaged default configuration to `path` (its directory is created); an existing file is left
    alone unless `overwrite`."""
    if path.exists() and not overwrite:
        raise ConfigError(str(path), "", "the file exists; pass --force to overwrite it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(packaged_default_config(), encoding="utf-8")
    except OSError as err:
        raise ConfigError(str(path), "", f"cannot write the config file: {err.strerror}") from None
    return path


def _utf8(path: Path, source: str, key: str) -> str:
    """The file's text; a file that is not UTF-8 (saved as Latin-1 or UTF-16 by an editor) is a ConfigError."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        what = "not UTF-8 text" if source == str(path) else f"{path} is not UTF-8 text"
        raise ConfigError(
            source, key, f"{what} (byte 0x{data[err.start]:02x} on line {line}): save it as UTF-8"
        ) from None


def _base_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", value):
        raise ConfigError("environment", "HUBSYNC_API_BASE_URL", f"expected an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _clock_source(value: str) -> str:
    if value not in {"system", "sandbox"}:
        raise ConfigError("environment", "HUBSYNC_CLOCK", f"expected 'system' or 'sandbox', got {value!r}")
    return value


def _secret(env: Mapping[str, str], name: str, *, what: str) -> Secret | None:
    """A secret from the variable `name`, or from the file `name`_FILE names (one or the other); None if neither."""
    value = env.get(name, "").strip()
    file_name = f"{name}_FILE"
    path = env.get(file_name, "").strip()
    if value and path:
        raise ConfigError("environment", file_name, f"set either {name} or this, not both")
    if path:
        try:
            value = _utf8(Path(path), "environment", file_name).strip()
        except OSError as err:
            raise ConfigError("environment", file_name, f"cannot read {path}: {err.strerror}") from None
        if not value:
            raise ConfigError("environment", file_name, f"{path} is empty")
    if value and any(ch.isspace() for ch in value):
        raise ConfigError("environment", name, f"{what} contains whitespace; paste it whole")
    return Secret(value) if value else None
