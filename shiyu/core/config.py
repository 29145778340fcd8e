"""One typed settings object, read from ``SHIYU_*`` environment variables and validated at start.

Why one object: every module that needs configuration receives it from ``create_app(settings)`` or the CLI,
so tests build their own settings and nothing reads the environment at import time.
"""

from __future__ import annotations

import base64
import secrets
from functools import cached_property
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SECRET = "shiyu-demo-secret-do-not-use-in-production"
# Tile hosts whose maps are offset from WGS-84 (GCJ-02, or Baidu's BD-09): refused as SHIYU_TILE_URL.
OFFSET_TILE_HOSTS = {"autonavi.com": "高德地图", "amap.com": "高德地图", "gtimg.com": "腾讯地图",
                     "map.qq.com": "腾讯地图", "bdimg.com": "百度地图", "bdstatic.com": "百度地图",
                     "map.baidu.com": "百度地图", "geoq.cn": "智图 GeoQ"}
# A fixed demo key so that a demo database stays readable across restarts; refused outside demo mode.
DEMO_PII_KEY = "demo1:" + base64.b64encode(b"shiyu-demo-personal-data-key-32b").decode()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHIYU_", env_file=None, extra="ignore")

    database_url: str = "sqlite:///var/shiyu.db"
    redis_url: str | None = None
    # Name of the job queue (and its Redis keys): distinct per deployment sharing one Redis.
    job_queue: str = Field(default="shiyu", pattern=r"^[a-z0-9_\-]{1,40}$")
    secret_key: str = DEMO_SECRET
    demo_mode: bool = False
    timezone: str = "Asia/Shanghai"
    default_language: str = "zh"

    # Personal data: "kid:base64key" entries separated by commas; the first is the active key used for
    # new writes, the others are kept to read older rows until `shiyu pii rotate` re-encrypts them.
    pii_keys: str = DEMO_PII_KEY
    # Key for the keyed hash (blind index) beside each encrypted value; it cannot rotate without a rebuild.
    pii_hash_key: str | None = None

    access_token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_minutes: int = Field(default=8 * 60, ge=5)
    # Log-in throttling (shiyu.org.identity.throttle): wrong passwords for one account from one address,
    # and from one address for any accounts, are free up to these counts; after that each further failure
    # makes that pair (or address) wait twice as long as the last, 1 s, 2 s, 4 s … up to the maximum. A
    # counter is forgotten after this many minutes without failures. Nothing ever locks an account as a whole.
    login_free_failures: int = Field(default=3, ge=1)
    login_address_free_failures: int = Field(default=30, ge=1)
    login_max_delay_seconds: int = Field(default=900, ge=1)
    login_failure_memory_minutes: int = Field(default=60, ge=1)
    # Cookies carry ``Secure`` (sent over https only) when this is on; unset, it is on outside demo mode.
    # Set it, not a guess from the request's scheme: behind a proxy the app may see plain http.
    cookie_secure: bool | None = None
    # Addresses whose X-Forwarded-For / X-Forwarded-Proto headers are believed (uvicorn's
    # forwarded_allow_ips, passed by `shiyu serve`): the load balancers, comma-separated, or "*" when only
    # they can reach the app. The client address they give is what log-in throttling and the audit log see.
    forwarded_allow_ips: str = "127.0.0.1"
    # argon2id cost; lower it only for tests (see shiyu.org.identity.passwords).
    password_time_cost: int = Field(default=3, ge=1)
    password_memory_kib: int = Field(default=65536, ge=1024)

    # Database connections per app process. Size the pool to the requests a process serves at once; a
    # request that waits longer than the timeout for a connection is answered 503 "busy", not 500.
    db_pool_size: int = Field(default=20, ge=1)
    db_pool_timeout: float = Field(default=10.0, gt=0)
    # How long a request waits for SQLite's write lock held by another connection, and for a PostgreSQL
    # connection to open, before it is answered 503 "unavailable" with Retry-After (not 500 after 30 s).
    db_lock_timeout: float = Field(default=5.0, gt=0, le=60)
    db_connect_timeout: int = Field(default=5, ge=1, le=60)

    # Request bodies (shiyu.web.limits), refused with 413 before they are read whole. JSON and forms; one
    # upload (the largest file kind, a 200 MB video, plus multipart framing); a portal report with its three
    # 15 MB photos; a GeoJSON area import (a whole city's boundaries).
    max_body_bytes: int = Field(default=1024 * 1024, ge=64 * 1024)
    max_upload_bytes: int = Field(default=201 * 1024 * 1024, ge=1024 * 1024)
    max_report_bytes: int = Field(default=46 * 1024 * 1024, ge=1024 * 1024)
    max_import_bytes: int = Field(default=51 * 1024 * 1024, ge=1024 * 1024)
    # Rate limits per client address (shiyu.core.ratelimit; shared through Redis when SHIYU_REDIS_URL is
    # set): anonymous reports (API and portal) and log-in attempts, right or wrong, per window. Generous
    # for a household or an office behind one address, tight for a script.
    anonymous_reports_per_address: int = Field(default=20, ge=1)
    anonymous_report_window_seconds: int = Field(default=600, ge=1)
    logins_per_address: int = Field(default=60, ge=1)
    # Evaluations from the public tracking page: the short evaluation code is six characters (30 bits), so
    # guessing one must stay slow; a household evaluates a few cases at most.
    evaluations_per_address: int = Field(default=10, ge=1)
    evaluation_window_seconds: int = Field(default=600, ge=1)
    login_rate_window_seconds: int = Field(default=60, ge=1)

    storage_dir: str = "var/files"
    # An upload no case or check-in has taken after this many days is deleted, row and files
    # (shiyu.cases.tasks.sweep_unused_uploads): a phone uploads before it reports, and a report that never
    # came would otherwise keep its photos for ever. Long enough for a field app that was offline for days.
    unused_upload_days: int = Field(default=7, ge=1, le=365)
    # Smart triage: a case whose top category suggestion is at least this confident is registered and
    # dispatched automatically (shiyu.triage.tasks); unset, nothing is automatic.
    triage_auto_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    # The outbox (shiyu.core.outbox): how many deliveries one transaction takes, how long an idle delivery
    # loop sleeps when no notification wakes it (SQLite, or a lost notification), after how many failed
    # attempts a delivery is parked for an administrator, and the longest wait between two attempts.
    outbox_batch: int = Field(default=50, ge=1, le=5000)
    outbox_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    outbox_max_attempts: int = Field(default=16, ge=1, le=100)
    outbox_backoff_max_seconds: float = Field(default=300.0, ge=0.01, le=86400)
    # A base-map tile source under the city's own outlines (shiyu.org.areas.drawing); WGS-84/CGCS2000 only.
    tile_url: str | None = None
    # Strict-Transport-Security max-age in seconds (shiyu.web.security_headers); unset: one year, or 0 (no
    # header) in demo mode, which is served over plain http on a laptop.
    hsts_seconds: int | None = Field(default=None, ge=0)

    # Duplicates and repeats at intake (shiyu.triage.duplicates.case_duplicates): how far back an open case counts as a
    # possible duplicate, how soon the same reporter's identical report is merged by itself, and how many
    # weeks back a similar complaint of the same place or person makes a repeat complaint (重复诉求).
    duplicate_window_days: int = Field(default=7, ge=1, le=90)
    repeat_merge_hours: int = Field(default=24, ge=1, le=24 * 14)
    # Task engine (shiyu.tasks): a work item turns yellow this many hours before it is due (red once overdue).
    task_warn_hours: int = Field(default=24, ge=1, le=24 * 30)
    # Registers not confirmed on site for this many months become stale-record check items (shiyu.registry).
    registry_stale_months: int = Field(default=12, ge=1, le=120)
    repeat_complaint_weeks: int = Field(default=8, ge=1, le=104)
    # Key persons (shiyu.keypersons.plans): a missed visit is yellow at once, red after this many days, and a
    # case after that many; a released, transferred or deceased record's form answers, guardian and visit
    # findings are erased this many days after it closed (the record's bare facts stay for the statistics).
    keyperson_red_after_days: int = Field(default=3, ge=0, le=90)
    keyperson_case_after_days: int = Field(default=7, ge=1, le=365)
    keyperson_retention_days: int = Field(default=3 * 365, ge=30, le=30 * 365)

    @field_validator("tile_url")
    @classmethod
    def _tiles_in_wgs84(cls, value: str | None) -> str | None:
        """Boundaries, pins and GPS fixes are WGS-84/CGCS2000; tiles in GCJ-02 (高德, 腾讯) would sit some
        hundred metres off every outline, and Baidu's BD-09 tiles are not even on the Web Mercator grid.
        Converting raster tiles is not possible, so such a source is refused here, with what to use instead."""
        host = (urlsplit(value).hostname or "") if value else ""
        offset = next((name for suffix, name in OFFSET_TILE_HOSTS.items()
                       if host == suffix or host.endswith("." + suffix)), None)
        if offset:
            raise ValueError(
                f"SHIYU_TILE_URL 指向{offset}的瓦片，其坐标经过加偏（GCJ-02/BD-09），与边界和定位会错开数百米。"
                "请使用天地图（CGCS2000，无需纠偏）或自建的 WGS-84 瓦片服务，见 docs/deploy.md / "
                f"SHIYU_TILE_URL points at {offset} tiles, which are offset (GCJ-02/BD-09) and would sit hundreds of "
                "metres off the boundaries and GPS positions; use 天地图 (CGCS2000) or a WGS-84 tile server")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _refuse_demo_secrets(self) -> Settings:
        if not self.demo_mode:
            if self.secret_key == DEMO_SECRET or len(self.secret_key) < 32:
                raise ValueError(
                    "SHIYU_SECRET_KEY 必须设置为至少 32 个字符的随机值 / SHIYU_SECRET_KEY must be set to a random "
                    "value of at least 32 characters outside demo mode (SHIYU_DEMO_MODE=1)"
                )
            if self.pii_keys == DEMO_PII_KEY:
                raise ValueError(
                    "SHIYU_PII_KEYS 必须设置 / SHIYU_PII_KEYS must be set outside demo mode "
                    "(format kid:base64-32-byte-key[,older…])"
                )
        return self

    @model_validator(mode="after")
    def _memory_outlasts_delay(self) -> Settings:
        if self.login_failure_memory_minutes * 60 <= self.login_max_delay_seconds:
            raise ValueError(
                "SHIYU_LOGIN_FAILURE_MEMORY_MINUTES 必须长于 SHIYU_LOGIN_MAX_DELAY_SECONDS / the failure memory "
                "must be longer than the longest delay, or waiting out a delay would forget the failures"
            )
        return self

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else not self.demo_mode

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def hsts_max_age(self) -> int:
        if self.hsts_seconds is not None:
            return self.hsts_seconds
        return 0 if self.demo_mode else 365 * 86400

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def random_secret() -> str:
    """A fresh secret for `shiyu init-secrets` and for tests."""
    return secrets.token_urlsafe(48)
