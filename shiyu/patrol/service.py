"""Check-ins and presence: the writes (idempotent, so a phone may retry freely) and the scoped reads.

Where a check-in may be made: a point outside every grid of the city is refused (it is a wrong fix or a
wrong phone clock of the world, not a patrol); a point inside the city but outside the grid checked in for
is recorded with ``in_grid = false`` — GPS on a cheap phone drifts by tens of metres near a boundary, and a
worker visiting a resident across the street still did the visit. The appraisal decides what counts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shapely.geometry import Point, shape
from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from shiyu.cases import attachments
from shiyu.core import audit
from shiyu.core.errors import Conflict, Forbidden, ValidationFailed
from shiyu.core.paging import PageParams, paginate
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.areas import service as areas
from shiyu.org.areas.lookup import INDEXES
from shiyu.org.areas.models import Area, AreaLevel
from shiyu.org.identity.models import User
from shiyu.org.identity.service import usernames
from shiyu.patrol.models import SLOT_HEX_DIGITS, SLOT_MINUTES, PatrolCheckin, PresenceDay
from shiyu.patrol.schemas import CheckinIn

UNSCOPED = {"unscoped": True}
# A queued check-in may arrive days later (a week without signal in the hills); one from the future means
# the phone's clock is wrong, beyond a little drift.
MAX_AGE = timedelta(days=7)
MAX_AHEAD = timedelta(minutes=10)
HEARTBEAT_ATTEMPTS = 3


def _require_reporter(principal: Principal) -> int:
    if principal.user_id is None or not principal.has_permission("patrol.report"):
        raise Forbidden(detail={"permission": "patrol.report"})
    return principal.user_id


# -- check-ins -----------------------------------------------------------------------------------------


def request_hash(data: CheckinIn) -> str:
    body = data.model_dump(mode="json", exclude={"idempotency_key"})
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _replay(session: Session, user_id: int, data: CheckinIn, digest: str) -> PatrolCheckin | None:
    """The earlier check-in with this key, read unscoped: the uniqueness of (user, key) is a fact about the
    table, and the caller may have lost the grant under which the first one was made."""
    existing = session.scalar(
        select(PatrolCheckin).where(PatrolCheckin.user_id == user_id,
                                    PatrolCheckin.idempotency_key == data.idempotency_key),
        execution_options=UNSCOPED,
    )
    if existing is not None and existing.request_hash != digest:
        raise Conflict("idempotency_key_reused", "该幂等键已用于内容不同的签到",
                       "This idempotency key was already used for a different check-in",
                       detail={"idempotency_key": data.idempotency_key})
    return existing


def patrol_grids(session: Session, principal: Principal) -> list[Area]:
    """The grids the caller patrols: every grid under a subtree where they hold ``patrol.report``."""
    paths = principal.paths_with("patrol.report")
    if not paths:
        return []
    stmt = select(Area).where(Area.level == AreaLevel.GRID,
                              or_(*[Area.area_path.startswith(p, autoescape=True) for p in paths]))
    return list(session.scalars(stmt.order_by(Area.code)))


def _grid(session: Session, principal: Principal, data: CheckinIn, point_grid_id: int, point_path: str) -> Area:
    if data.grid_id is not None:
        grid = areas.get_area(session, data.grid_id)
        if grid.level != AreaLevel.GRID:
            raise ValidationFailed("not_a_grid", "只能在网格签到", "Check-ins are made for a grid",
                                   detail={"field": "grid_id"})
        if not principal.can("patrol.report", grid.area_path):
            raise Forbidden("not_your_grid", "这不是您负责的网格", "This is not one of your grids",
                            detail={"field": "grid_id"})
        return grid
    if principal.can("patrol.report", point_path):
        return areas.get_area(session, point_grid_id)
    mine = patrol_grids(session, principal)
    if len(mine) != 1:
        raise ValidationFailed("grid_required", "此处不在您的网格内，请选择签到的网格",
                               "This place is not in your grids; choose the grid you are checking in for",
                               detail={"field": "grid_id"})
    return mine[0]


def _check_time(client_time: datetime, now: datetime) -> None:
    if client_time > now + MAX_AHEAD or client_time < now - MAX_AGE:
        raise ValidationFailed("client_time_out_of_range", "签到时间不合理，请检查手机时间",
                               "The check-in time is not plausible; check the phone's clock",
                               detail={"field": "client_time"})


def _attach(session: Session, principal: Principal, attachment_id: int, grid: Area) -> None:
    """An upload of the caller's, not yet used by a case or another check-in, moves into the grid's scope.
    Its row stays locked until the commit, so the sweep of unused uploads cannot delete it meanwhile, and it
    is taken with ``attachments.claim``, so a report taking it at the same moment cannot have it too."""
    attachment = attachments.get_attachment(session, attachment_id, lock=True)
    linked = attachments.claim(session, [attachment], grid.area_path) if attachments.unused_by(
        attachment, principal) else None
    if linked is None:
        raise ValidationFailed("attachment_unavailable", "附件不存在或已被使用", "The attachment does not exist or "
                               "is already used", detail={"field": "attachment_id"})
    audit.write(session, linked)


def check_in(session: Session, principal: Principal, data: CheckinIn, tz: ZoneInfo, *,
             now: datetime | None = None) -> tuple[PatrolCheckin, bool]:
    """Record a check-in, or find the one already recorded under this key (``created`` is then False)."""
    user_id = _require_reporter(principal)
    now = now or utcnow()
    digest = request_hash(data)
    existing = _replay(session, user_id, data, digest)
    if existing is not None:
        return existing, False
    _check_time(data.client_time, now)
    lon, lat = data.location.lon, data.location.lat
    record = INDEXES.get(session).locate(lon, lat)
    if record is None:
        raise ValidationFailed("outside_city", "该位置不在本市任何网格内", "This location is not inside any grid of "
                               "the city", detail={"field": "location", "lon": lon, "lat": lat})
    grid = _grid(session, principal, data, record.ref.id, record.area_path)
    in_grid = bool(grid.geometry) and shape(grid.geometry).covers(Point(lon, lat))
    checkin = PatrolCheckin(
        user_id=user_id, grid_id=grid.id, area_path=grid.area_path, kind=data.kind.value, lon=lon, lat=lat,
        in_grid=in_grid, client_time=data.client_time, server_time=now, day=data.client_time.astimezone(tz).date(),
        note=data.note.strip(), attachment_id=data.attachment_id, idempotency_key=data.idempotency_key,
        request_hash=digest,
    )
    try:
        with session.begin_nested():
            if data.attachment_id is not None:
                _attach(session, principal, data.attachment_id, grid)
            session.add(checkin)
            session.flush()
    except IntegrityError:
        existing = _replay(session, user_id, data, digest)
        if existing is None:
            raise
        return existing, False
    return checkin, True


@dataclass
class CheckinFilters:
    user_id: int | None = None
    grid_id: int | None = None
    kind: str | None = None
    day_from: date | None = None
    day_to: date | None = None
    in_grid: bool | None = None


def checkins_statement(filters: CheckinFilters) -> Select[Any]:
    stmt = select(PatrolCheckin)
    for column, value in ((PatrolCheckin.user_id, filters.user_id), (PatrolCheckin.grid_id, filters.grid_id),
                          (PatrolCheckin.kind, filters.kind), (PatrolCheckin.in_grid, filters.in_grid)):
        if value is not None:
            stmt = stmt.where(column == value)
    if filters.day_from is not None:
        stmt = stmt.where(PatrolCheckin.day >= filters.day_from)
    if filters.day_to is not None:
        stmt = stmt.where(PatrolCheckin.day <= filters.day_to)
    return stmt.order_by(PatrolCheckin.client_time.desc(), PatrolCheckin.id.desc())


def list_checkins(session: Session, params: PageParams, filters: CheckinFilters) -> tuple[list[PatrolCheckin], int]:
    return paginate(session, checkins_statement(filters), params)


def checkins_out(session: Session, rows: list[PatrolCheckin], created: bool = True) -> list[dict[str, Any]]:
    """Rows with the author's username and the grid's name (both named even when the caller could not list
    them: the check-in the caller sees already points at them)."""
    names = usernames(session, [r.user_id for r in rows])
    grids = areas.areas_by_id(session, [r.grid_id for r in rows])
    return [{
        "id": r.id, "user_id": r.user_id, "username": names.get(r.user_id, ""), "grid_id": r.grid_id,
        "grid_name": grids[r.grid_id].name if r.grid_id in grids else "", "kind": r.kind, "lon": r.lon,
        "lat": r.lat, "in_grid": r.in_grid, "client_time": r.client_time, "server_time": r.server_time,
        "day": r.day, "note": r.note, "attachment_id": r.attachment_id, "created": created,
    } for r in rows]


def due_grids(session: Session, principal: Principal, tz: ZoneInfo, now: datetime | None = None
              ) -> list[tuple[Area, bool]]:
    """Each of the caller's grids with whether the caller has checked in there today (local day)."""
    grids = patrol_grids(session, principal)
    if not grids or principal.user_id is None:
        return [(g, False) for g in grids]
    today = (now or utcnow()).astimezone(tz).date()
    done = set(session.scalars(select(PatrolCheckin.grid_id).where(
        PatrolCheckin.user_id == principal.user_id, PatrolCheckin.day == today).distinct()))
    return [(g, g.id in done) for g in grids]


# -- presence ------------------------------------------------------------------------------------------


def slot_of(now: datetime, tz: ZoneInfo) -> tuple[date, int]:
    """The local day and its five-minute slot. Decided by the server's clock: a heartbeat says "online now",
    and a phone's clock is not evidence of that."""
    local = now.astimezone(tz)
    return local.date(), (local.hour * 60 + local.minute) // SLOT_MINUTES


def _with_slot(hex_slots: str, slot: int) -> tuple[str, int] | None:
    """The bitmap with ``slot`` set and its count of set bits, or None when the bit was set already."""
    bits = int(hex_slots, 16)
    if bits >> slot & 1:
        return None
    bits |= 1 << slot
    return f"{bits:0{SLOT_HEX_DIGITS}x}", bin(bits).count("1")


def heartbeat(session: Session, principal: Principal, tz: ZoneInfo, *,
              now: datetime | None = None) -> tuple[PresenceDay, int]:
    """Count the current five-minute slot as online for the caller (idempotent within the slot)."""
    user_id = _require_reporter(principal)
    now = now or utcnow()
    day, slot = slot_of(now, tz)
    for _ in range(HEARTBEAT_ATTEMPTS):
        row = session.scalar(select(PresenceDay).where(PresenceDay.user_id == user_id, PresenceDay.day == day))
        try:
            with session.begin_nested():
                if row is None:
                    home = session.scalar(select(User.area_path).where(User.id == user_id))
                    hex_slots = f"{1 << slot:0{SLOT_HEX_DIGITS}x}"
                    row = PresenceDay(user_id=user_id, day=day, slots=hex_slots, minutes=SLOT_MINUTES,
                                      first_seen_at=now, last_seen_at=now, area_path=home or "")
                    session.add(row)
                else:
                    changed = _with_slot(row.slots, slot)
                    if changed is None:
                        return row, slot
                    row.slots, row.minutes, row.last_seen_at = changed[0], changed[1] * SLOT_MINUTES, now
                session.flush()
            return row, slot
        except (IntegrityError, StaleDataError):
            # Another request of the same user wrote first: read its row and add this slot to it.
            if row is not None and row in session:
                session.expire(row)
    raise Conflict("presence_busy", "在线记录正忙，请稍后重试", "The presence record is busy; try again shortly")


def list_presence(session: Session, params: PageParams, day: date) -> tuple[list[PresenceDay], int]:
    stmt = select(PresenceDay).where(PresenceDay.day == day).order_by(PresenceDay.minutes.desc(), PresenceDay.id)
    return paginate(session, stmt, params)


def presence_out(session: Session, rows: list[PresenceDay]) -> list[dict[str, Any]]:
    names = usernames(session, [r.user_id for r in rows])
    return [{"user_id": r.user_id, "username": names.get(r.user_id, ""), "day": r.day, "minutes": r.minutes,
             "first_seen_at": r.first_seen_at, "last_seen_at": r.last_seen_at} for r in rows]


def today(tz: ZoneInfo, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(tz).date()



def minutes_online(session: Session, user_id: int, day: date) -> int:
    """The caller's own online minutes on a day (0 before the first heartbeat)."""
    stmt = select(PresenceDay.minutes).where(PresenceDay.user_id == user_id, PresenceDay.day == day)
    return session.scalar(stmt) or 0
