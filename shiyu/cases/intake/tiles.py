"""The citizen's plain-language tiles (道路破损, 路灯, 垃圾环境 …): what a resident calls a problem, mapped to the
official GB/T 30428 classes it may be.

A resident cannot be asked to choose among 81 official names (上水井盖, 雨水箅子 …). The portal offers these
tiles; the report is filed under one official class of the tile — the one triage proposes from the
description when it is among them, else the tile's first — and the operator confirms or corrects it at 立案.
The mapping is data: codes of minor classes, in order of preference; a code a city removed or deactivated is
skipped. ``unsure`` lets triage choose among every class.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.cases.categories.models import Category


@dataclass(frozen=True)
class Tile:
    key: str
    label_zh: str
    label_en: str
    codes: tuple[str, ...]


TILES: tuple[Tile, ...] = (
    Tile("road", "道路破损", "Damaged road", ("C0209", "I0401", "C0208", "C0203", "C0202", "C0206")),
    Tile("lamp", "路灯", "Street lamp", ("C0108", "C0201")),
    Tile("manhole", "井盖积水", "Manhole cover, flooding",
         ("C0103", "C0101", "C0102", "C0104", "C0105", "C0106", "C0107", "I0404", "I0405", "I0402")),
    Tile("rubbish", "垃圾环境", "Rubbish, dirty streets",
         ("I0101", "I0102", "I0103", "I0105", "I0104", "C0302", "C0303", "C0301", "I0108", "I0107")),
    Tile("noise", "噪音扰民", "Noise", ("I0301", "I1001")),
    Tile("parking", "违停", "Illegal parking", ("I0504", "I0505", "I0506")),
    Tile("stalls", "占道经营", "Street trading", ("I0501", "I0502", "I0503", "I0204", "I0601")),
    Tile("flyers", "小广告涂鸦", "Flyers, graffiti", ("I0201", "I0202", "I0203", "C0305")),
    Tile("greenery", "树木绿化", "Trees, green spaces", ("C0402", "I0406", "C0403", "C0404", "C0401")),
    Tile("hazard", "安全隐患", "Safety hazard", ("I0801", "I0804", "I0805", "I0802", "I0803", "C0603")),
    Tile("building", "工地扬尘", "Building site, dust", ("I0302", "I0304", "I0303", "I0106")),
    Tile("neighbours", "邻里纠纷", "Neighbour dispute", ("I0701", "I0704")),
    Tile("unsure", "其他", "Other, not sure", ("I1003", "I1001")),
)
BY_KEY = {tile.key: tile for tile in TILES}
UNSURE = "unsure"


def get(key: str) -> Tile | None:
    return BY_KEY.get(key)


def available(codes: set[str]) -> list[Tile]:
    """The tiles with at least one class among ``codes`` (the selectable ones): a city that removed every
    class of a tile does not offer it."""
    return [tile for tile in TILES if codes.intersection(tile.codes)]


def categories(session: Session, tile: Tile) -> list[Category]:
    """The tile's official classes that can be chosen now, in the tile's order of preference."""
    found = {c.code: c for c in session.scalars(select(Category).where(Category.code.in_(tile.codes)))}
    return [found[code] for code in tile.codes if code in found and found[code].selectable]


def choose(session: Session, tile: Tile, proposed: list[int]) -> Category | None:
    """The official class a report under ``tile`` is filed as: the best of triage's ``proposed`` ids (best
    first) that belongs to the tile — any proposal for ``unsure`` — else the tile's first class."""
    own = categories(session, tile)
    allowed = {c.id: c for c in own}
    for category_id in proposed:
        if category_id in allowed:
            return allowed[category_id]
        if tile.key == UNSURE:
            chosen = session.get(Category, category_id)
            if chosen is not None and chosen.selectable:
                return chosen
    return own[0] if own else None
