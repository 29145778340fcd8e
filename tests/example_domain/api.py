"""The example domain's API: list the notices of your areas, post one on an area you hold."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from shiyu.core.errors import NotFound
from shiyu.core.http import CurrentPrincipal, Db
from shiyu.org.areas.models import Area
from tests.example_domain.models import Notice

router = APIRouter(prefix="/notices", tags=["notices"])


class NoticeIn(BaseModel):
    area_id: int
    title: str = Field(min_length=1, max_length=100)


class NoticeOut(BaseModel):
    id: int
    area_path: str
    title: str


@router.get("", response_model=list[NoticeOut])
def list_notices(db: Db) -> list[Notice]:
    return list(db.scalars(select(Notice).order_by(Notice.id)))


@router.post("", response_model=NoticeOut, status_code=201)
def post_notice(body: NoticeIn, db: Db, principal: CurrentPrincipal) -> Notice:
    area = db.get(Area, body.area_id)
    if area is None:
        raise NotFound(detail={"object": "area", "id": body.area_id})
    principal.require("notice.post", area.area_path)
    notice = Notice(title=body.title, area_path=area.area_path)
    db.add(notice)
    db.flush()
    return notice
