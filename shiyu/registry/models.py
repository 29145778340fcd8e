"""The registers' tables. Every row is scoped by the path of the grid it lies in (``area_path``), so a grid
worker sees their grids and the centres above see their subtrees (docs/adr/0001).

Nobody writes these tables directly from a form: ``registry.edit`` is held by the reviewers who accept
change records (``shiyu.registry.changes``) and by imports acting as the system. Personal data (names, ID
numbers, phones, 户籍地址, the police's notes) uses the encrypted columns of ``shiyu.core.pii``; the ID number's
blind index finds a person (and duplicates) without decrypting, the name's blind index with the area path
answers "this full name within this street".
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.core.db import Base, TimestampMixin
from shiyu.core.pii import blind_index, personal
from shiyu.core.scoping import Principal, ScopedMixin, register_scoped

VIEW = "registry.view"
EDIT = "registry.edit"


class HouseUse(StrEnum):
    OWNER_OCCUPIED = "owner_occupied"  # 自住
    RENTED = "rented"  # 出租
    VACANT = "vacant"  # 空置
    BUSINESS = "business"  # 经营
    DORMITORY = "dormitory"  # 宿舍
    GROUP_RENTAL = "group_rental"  # 群租


class ResidenceType(StrEnum):
    REGISTERED = "registered"  # 户籍
    FLOATING = "floating"  # 流动
    FOREIGN = "foreign"  # 境外
    HK_MACAO_TAIWAN = "hmt"  # 港澳台


class PersonStatus(StrEnum):
    ACTIVE = "active"
    MOVED_OUT = "moved_out"  # 迁出
    DECEASED = "deceased"  # 死亡
    MERGED = "merged"  # 重复记录，已合并


class UnitKind(StrEnum):
    ENTERPRISE = "enterprise"  # 企业
    SOLE_TRADER = "sole_trader"  # 个体工商户
    SOCIAL_ORG = "social_org"  # 社会组织
    PUBLIC = "public"  # 机关事业
    PROPERTY = "property"  # 物业
    SCHOOL = "school"  # 学校
    HOSPITAL = "hospital"  # 医院


class PlaceType(StrEnum):
    NONE = "none"
    THREE_SMALL = "three_small"  # 三小场所
    NINE_SMALL = "nine_small"  # 九小场所
    CROWDED = "crowded"  # 人员密集场所


class ComponentStatus(StrEnum):
    INTACT = "intact"  # 完好
    DAMAGED = "damaged"  # 破损
    LOST = "lost"  # 丢失
    OCCUPIED = "occupied"  # 占用
    REMOVED = "removed"  # 废弃


class _Registered(ScopedMixin, TimestampMixin):
    """What every register row shares: the grid it lies in (its path is the scope) and when a person last
    confirmed it on site (staleness checks read it)."""

    __view_permission__ = VIEW
    __write_permission__ = EDIT

    grid_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    confirmed_at: Mapped[datetime | None]


@register_scoped
class Address(_Registered, Base):
    """标准地址: community → road or 小区 → 楼栋 → 单元 → 户室. ``code`` is the community's code and a digest of
    the normalised parts, so the same address typed twice is the same code (and refused the second time)."""

    __tablename__ = "registry_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    road: Mapped[str] = mapped_column(String(100))
    building_no: Mapped[str] = mapped_column(String(20), default="")
    unit_no: Mapped[str] = mapped_column(String(20), default="")
    room_no: Mapped[str] = mapped_column(String(20), default="")
    lon: Mapped[float | None]
    lat: Mapped[float | None]
    verified_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    verified_at: Mapped[datetime | None]


@register_scoped
class Building(_Registered, Base):
    """楼栋: one building of a road or 小区, found by the same address parts without unit and room."""

    __tablename__ = "registry_building"
    __table_args__ = (UniqueConstraint("community_id", "road", "building_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    road: Mapped[str] = mapped_column(String(100))
    building_no: Mapped[str] = mapped_column(String(20))
    floors: Mapped[int | None]
    use: Mapped[str] = mapped_column(String(40), default="")
    lon: Mapped[float | None]
    lat: Mapped[float | None]


@register_scoped
class House(_Registered, Base):
    """实有房屋: one dwelling or premises at one standard address, its use and, when rented, the rental facts
    the police and the community check (landlord, tenants, 备案, last inspection)."""

    __tablename__ = "registry_house"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("registry_address.id", ondelete="RESTRICT"), unique=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("registry_building.id", ondelete="RESTRICT"),
                                                    index=True)
    use: Mapped[str] = mapped_column(String(16), default=HouseUse.OWNER_OCCUPIED.value)
    area_m2: Mapped[float | None]
    owner_person_id: Mapped[int | None] = mapped_column(ForeignKey("registry_person.id", ondelete="SET NULL",
                                                                   use_alter=True))
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("registry_unit.id", ondelete="SET NULL"))
    landlord_name: Mapped[str | None] = personal("name")
    landlord_phone: Mapped[str | None] = personal("phone")
    tenant_count: Mapped[int] = mapped_column(default=0)
    rental_filed_on: Mapped[date | None]  # 租赁备案日期
    last_inspected_on: Mapped[date | None]


@register_scoped
class Household(_Registered, Base):
    """户: the people who live together as one household in one house; members name their relation."""

    __tablename__ = "registry_household"

    id: Mapped[int] = mapped_column(primary_key=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("registry_house.id", ondelete="RESTRICT"), index=True)
    number: Mapped[str] = mapped_column(String(30), default="")  # 户号 when the 户口簿 gives one


@register_scoped
class Person(_Registered, Base):
    """实有人口. Sex and birth date come from the ID number (GB 11643) when there is one. ``police_note`` is
    for the police only (``registry.police_view``): other roles never see that it exists."""

    __tablename__ = "registry_person"
    __table_args__ = (Index("ix_registry_person_name_path", "name_hash", "area_path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = personal("name")
    name_hash: Mapped[str | None] = mapped_column(String(64))
    id_number: Mapped[str | None] = personal("id_number")
    id_number_hash: Mapped[str | None] = blind_index()
    phone: Mapped[str | None] = personal("phone")
    phone_hash: Mapped[str | None] = blind_index()
    sex: Mapped[str] = mapped_column(String(1), default="")  # M / F
    birth_date: Mapped[date | None]
    ethnicity: Mapped[str] = mapped_column(String(20), default="")
    residence_type: Mapped[str] = mapped_column(String(16), default=ResidenceType.REGISTERED.value)
    hukou_address: Mapped[str | None] = personal("address")
    arrival_date: Mapped[date | None]
    permit_no: Mapped[str] = mapped_column(String(40), default="")  # 居住证号
    permit_expires_on: Mapped[date | None]
    occupation: Mapped[str] = mapped_column(String(60), default="")
    household_id: Mapped[int | None] = mapped_column(ForeignKey("registry_household.id", ondelete="SET NULL"),
                                                     index=True)
    relation: Mapped[str] = mapped_column(String(20), default="")  # 与户主关系
    police_note: Mapped[str | None] = personal("text")
    status: Mapped[str] = mapped_column(String(12), default=PersonStatus.ACTIVE.value, index=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("registry_person.id", ondelete="SET NULL"))


@register_scoped
class Residence(_Registered, Base):
    """居住关系: who lived in which house from when to when. A move ends a row (``moved_out_on``) and starts
    another; rows are never deleted, so the history of a house and of a person stays."""

    __tablename__ = "registry_residence"
    __table_args__ = (Index("ix_registry_residence_house_open", "house_id", "moved_out_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("registry_person.id", ondelete="RESTRICT"), index=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("registry_house.id", ondelete="RESTRICT"))
    moved_in_on: Mapped[date | None]
    moved_out_on: Mapped[date | None]


@register_scoped
class Unit(_Registered, Base):
    """实有单位: an enterprise, shop, organisation or institution; ``credit_code`` is its 统一社会信用代码
    (GB 32100, check character validated). Risk tags are free labels the community assigns (消防, 燃气…)."""

    __tablename__ = "registry_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default=UnitKind.ENTERPRISE.value)
    address_id: Mapped[int | None] = mapped_column(ForeignKey("registry_address.id", ondelete="SET NULL"))
    address_text: Mapped[str] = mapped_column(String(200), default="")
    legal_rep_name: Mapped[str | None] = personal("name")
    legal_rep_phone: Mapped[str | None] = personal("phone")
    staff_count: Mapped[int] = mapped_column(default=0)
    place_type: Mapped[str] = mapped_column(String(16), default=PlaceType.NONE.value)
    risk_tags: Mapped[list[Any]] = mapped_column(default=list)
    red_property: Mapped[bool] = mapped_column(default=False)  # 红色物业
    status: Mapped[str] = mapped_column(String(12), default="active")


@register_scoped
class Component(_Registered, Base):
    """部件 (GB/T 30428.2): a public facility with a class code (2-digit major + 2-digit minor class), an id of
    grid code + class + serial, a point and the unit that owns it — a case can then name the thing."""

    __tablename__ = "registry_component"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    class_code: Mapped[str] = mapped_column(String(4), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    lon: Mapped[float]
    lat: Mapped[float]
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("registry_unit.id", ondelete="SET NULL"))
    owner_name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(12), default=ComponentStatus.INTACT.value)


class ChangeStatus(StrEnum):
    SUBMITTED = "submitted"
    REVIEWED = "reviewed"
    ACCEPTED = "accepted"
    RETURNED = "returned"


def _own_changes(principal: Principal) -> list[Any]:
    return [ChangeRecord.submitted_by == principal.user_id] if principal.user_id is not None else []


def _reviewer_writes(principal: Principal, row: ChangeRecord) -> bool:
    return principal.can("registry.review", row.area_path)


@register_scoped
class ChangeRecord(ScopedMixin, TimestampMixin, Base):
    """One proposed change of the register: who collected it, when, what it was before and what it should
    become, photos, and the review. ``before`` and ``after`` hold personal data, so they are encrypted JSON.
    ``duplicates`` names the persons already registered under an ID number the change brings.
    ``client_key`` makes a resend from a phone (the field app's offline queue) find the first record."""

    __tablename__ = "registry_change"
    __table_args__ = (UniqueConstraint("submitted_by", "client_key"), Index("ix_registry_change_status",
                                                                            "status", "area_path"))
    __view_permission__ = VIEW
    __write_permission__ = "registry.collect"
    __extra_scope__ = staticmethod(_own_changes)
    __extra_write__ = staticmethod(_reviewer_writes)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    grid_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    entity: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int | None]
    before: Mapped[str | None] = personal("text")
    after: Mapped[str | None] = personal("text")
    photos: Mapped[list[Any]] = mapped_column(default=list)  # attachment ids
    duplicates: Mapped[list[Any]] = mapped_column(default=list)  # person ids sharing an ID number
    status: Mapped[str] = mapped_column(String(12), default=ChangeStatus.SUBMITTED.value)
    client_key: Mapped[str | None] = mapped_column(String(80))
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                     index=True)
    submitted_at: Mapped[datetime]
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(String(500), default="")
    applied_ids: Mapped[list[Any]] = mapped_column(default=list)  # the register rows the acceptance wrote

    __mapper_args__ = {"version_id_col": version}


@register_scoped
class QualityGrid(ScopedMixin, Base):
    """One grid's data-quality counts as last computed (``shiyu.registry.quality.refresh``, every quarter of
    an hour): the dashboard reads these rows instead of aggregating millions of register rows per view.
    ``counts`` maps each count of ``quality.COUNTS`` but the duplicates; ``duplicates_by_depth`` counts the
    grid's persons whose ID number another active person shares, by how many area codes the two paths
    share (4: the same community; 5: the same grid), so each viewer counts only twins inside their scope."""

    __tablename__ = "registry_quality_grid"
    __view_permission__ = VIEW
    __write_permission__ = EDIT

    grid_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"), primary_key=True)
    counts: Mapped[dict[str, Any]]
    duplicates_by_depth: Mapped[dict[str, Any]]
    computed_at: Mapped[datetime]
