"""申请调解 on the citizen portal: a logged-in citizen sees the mediators' pool (专家超市: name, organisation,
specialties, 专家, success rate), applies for mediation naming the other party and the place (found by name
like the report form's place search), may pick a mediator, and follows their applications' status."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from shiyu.core.errors import ShiyuError, ValidationFailed
from shiyu.core.http import language
from shiyu.disputes import service
from shiyu.disputes.models import PartyRole
from shiyu.disputes.workflow import STATE_LABELS
from shiyu.org.areas import service as areas
from shiyu.web.admin.common import redirect
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, field_errors, render

router = APIRouter(prefix="/portal/mediation", route_class=PageRoute, include_in_schema=False)


def _form(request: Request, db: PageDb, principal: PagePrincipal, status: int = 200, **extra: object) -> Response:
    return render(request, "disputes/portal.html", status, pool=service.public_pool(db),
                  types=service.type_names(db, language(request)), mine=service.applications_of(db, principal),
                  states={s.value: label[1 if language(request) == "en" else 0] for s, label in STATE_LABELS.items()},
                  **{"values": {}, "errors": {}, "message": None, "done": request.query_params.get("done"), **extra})


@router.get("")
def mediation(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    return _form(request, db, principal)


@router.post("")
async def apply(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    form = {k: str(v).strip()[:2000] for k, v in (await request.form()).items()}
    try:
        found = areas.places(db, form.get("place", ""), 1)
        if not found:
            raise ValidationFailed("unknown_place", "找不到该地点，请输入社区或网格名称",
                                   "No such place: type a community or grid name", detail={"field": "place"})
        preferred = form.get("mediator_id", "")
        if not form.get("respondent_name"):
            raise ValidationFailed("respondent_required", "请填写对方当事人", "Name the other party",
                                   detail={"field": "respondent_name"})
        dispute = service.apply_as_citizen(db, principal, service.DisputeIn(
            title=form.get("title", "")[:100] or "申请调解", type_code=form.get("type_code", ""),
            lon=found[0].lon, lat=found[0].lat, description=form.get("description", ""),
            address=found[0].label[:200], preferred_mediator_id=int(preferred) if preferred.isdigit() else None,
            parties=(service.PartyIn(role=PartyRole.APPLICANT, name=form.get("applicant_name", "")[:100] or "申请人",
                                     phone=form.get("applicant_phone") or None),
                     service.PartyIn(role=PartyRole.RESPONDENT, name=form["respondent_name"][:100]))))
    except ShiyuError as exc:
        db.rollback()
        message, errors = field_errors(exc, language(request))
        return _form(request, db, principal, 422, values=form, errors=errors, message=message)
    return redirect(request, f"/portal/mediation?done={dispute.code}")
