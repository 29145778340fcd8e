"""The composite score's weights as data: city-wide reference rows over ``definitions.DEFAULT_WEIGHTS``.

A row per rate indicator whose weight has been set; changing them needs ``indicator.configure`` over a whole
city (they change every area's score, like other city-wide reference data) and is audited like any ORM write.
"""

from __future__ import annotations

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shiyu.cases.indicators.definitions import DEFAULT_WEIGHTS, SCORED
from shiyu.core.db import Base, TimestampMixin
from shiyu.core.errors import ValidationFailed
from shiyu.core.scoping import Principal, require_citywide

MAX_WEIGHT = 1000.0


class IndicatorWeight(TimestampMixin, Base):
    __tablename__ = "indicator_weight"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    weight: Mapped[float]


def current(session: Session) -> dict[str, float]:
    weights = {i.name: float(DEFAULT_WEIGHTS.get(i.name, 0.0)) for i in SCORED}
    weights.update({row.name: row.weight for row in session.scalars(select(IndicatorWeight))})
    return weights


def replace(session: Session, principal: Principal, weights: dict[str, float]) -> dict[str, float]:
    """Set the weights named in ``weights`` (the others keep theirs); at least one must stay positive."""
    require_citywide(principal, "indicator.configure")
    known = {i.name for i in SCORED}
    problems = [{"field": name, "problem": "unknown"} for name in sorted(set(weights) - known)]
    problems += [{"field": name, "problem": "out_of_range"} for name, w in sorted(weights.items())
                 if name in known and not 0 <= w <= MAX_WEIGHT]
    merged = current(session) | {n: float(w) for n, w in weights.items() if n in known}
    if not problems and sum(merged.values()) <= 0:
        problems.append({"field": "weights", "problem": "all_zero"})
    if problems:
        raise ValidationFailed("weights_invalid", "权重无效：须为已知的比率指标，取值0至{max}，且不能全为0",
                               "Invalid weights: known rate indicators only, 0 to {max}, not all zero",
                               detail=problems, max=int(MAX_WEIGHT))
    for name in weights:
        row = session.get(IndicatorWeight, name)
        if row is None:
            session.add(IndicatorWeight(name=name, weight=merged[name]))
        else:
            row.weight = merged[name]
    session.flush()
    return merged
