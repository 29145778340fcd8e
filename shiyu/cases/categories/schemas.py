"""API shapes of categories; ``TimeLimits`` and ``FieldSpec`` also validate what the seed writes."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shiyu.cases.categories.models import CategoryKind, Step, Urgency
from shiyu.org.calendar.worktime import TimeBasis, TimeUnit


class TimeLimit(BaseModel):
    amount: float = Field(gt=0, le=1000)
    unit: TimeUnit


class HandleLimits(BaseModel):
    normal: TimeLimit
    urgent: TimeLimit
    critical: TimeLimit


class TimeLimits(BaseModel):
    # "register" would shadow the model class's ABC ``register``, hence the attribute name with an alias.
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)

    register_: TimeLimit = Field(alias="register")
    dispatch: TimeLimit
    accept: TimeLimit
    handle: HandleLimits
    verify: TimeLimit
    # 特急 cannot wait for Monday: a 特急 case counts every step in natural time, whatever basis its limits
    # name (a working day read as a natural day), unless the category turns this off.
    critical_natural: bool = True

    def of(self, step: Step, urgency: Urgency) -> TimeLimit:
        """The limit of ``step`` as it runs for a case of ``urgency``: the handle step's limit depends on the
        urgency, and a 特急 case's limit is in natural time when ``critical_natural`` says so."""
        if step is Step.HANDLE:
            limit: TimeLimit = getattr(self.handle, urgency.value)
        else:
            limit = {Step.REGISTER: self.register_, Step.DISPATCH: self.dispatch, Step.ACCEPT: self.accept,
                     Step.VERIFY: self.verify}[step]
        if urgency is Urgency.CRITICAL and self.critical_natural:
            return TimeLimit(amount=limit.amount, unit=limit.unit.in_basis(TimeBasis.NATURAL))
        return limit


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    CHOICE = "choice"
    BOOL = "bool"


class FieldSpec(BaseModel):
    """One attribute a report of this category asks for (e.g. the owner of a manhole cover)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="attribute key, e.g. owner")
    label_zh: str = Field(min_length=1, max_length=50)
    label_en: str = Field("", max_length=100)
    type: FieldType
    required: bool = False
    choices: list[str] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _choices_fit_type(self) -> FieldSpec:
        if self.type is FieldType.CHOICE:
            if not self.choices or len(set(self.choices)) != len(self.choices) or not all(self.choices):
                raise ValueError("a choice field needs distinct, non-empty choices")
        elif self.choices:
            raise ValueError("only a choice field has choices")
        return self


class CategoryIn(BaseModel):
    kind: CategoryKind
    parent_id: int | None = Field(None, description="the major class; empty for a major class")
    code: str = Field(pattern=r"^[A-Za-z0-9._-]{1,20}$")
    name_zh: str = Field(min_length=1, max_length=50)
    name_en: str = Field("", max_length=100)
    active: bool = True
    sort_order: int = 0
    time_limits: TimeLimits | None = Field(None, description="required for a minor class")
    fields: list[FieldSpec] = Field(default_factory=list, max_length=30)
    default_urgency: Urgency = Urgency.NORMAL
    verify_photo_required: bool = Field(False, description="核查通过 needs an on-site photo")


class CategoryPatch(BaseModel):
    """Only the fields sent are changed. The kind and the level (major/minor) are fixed at creation."""

    parent_id: int | None = None
    code: str | None = Field(None, pattern=r"^[A-Za-z0-9._-]{1,20}$")
    name_zh: str | None = Field(None, min_length=1, max_length=50)
    name_en: str | None = Field(None, max_length=100)
    active: bool | None = None
    sort_order: int | None = None
    time_limits: TimeLimits | None = None
    fields: list[FieldSpec] | None = Field(None, max_length=30)
    default_urgency: Urgency | None = None
    verify_photo_required: bool | None = None


class CategoryOut(BaseModel):
    id: int
    kind: CategoryKind
    parent_id: int | None
    code: str
    name_zh: str
    name_en: str
    active: bool
    sort_order: int
    time_limits: TimeLimits | None
    fields: list[FieldSpec]
    default_urgency: Urgency
    verify_photo_required: bool = False
    children: list[CategoryOut] = Field(default_factory=list, description="minor classes of a major class")
