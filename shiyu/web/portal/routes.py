"""Citizen portal: no log-in. Report a problem (category, map pin or "use my location", description,
optional contact, anonymous allowed), get the tracking code and the evaluation token, follow the public
timeline, evaluate a closed case with the token.

The pages use the same sessions and service functions as the public API routes (``shiyu.cases.api``):
intake as an anonymous principal (or the logged-in user, exactly as the API decides), tracking and
evaluation through the public session, which shows only the public parts of one case by its code.

Photos (up to three) travel in the report's own multipart request and are stored in its transaction (a
refused report removes their files again): the attachments API needs a logged-in uploader, and an anonymous
upload endpoint would be an open file drop. An anonymous visitor's photos belong to the secret of that one
request (``shiyu.cases.models.AnonymousReporter``), so no account and no other visitor can see or take them.

A re-submitted form (a double click, a retry after a lost answer) is recognised by its idempotency key and
its content, photos included (``intake.already_submitted``): the very same report is answered with its
case; a key reused for other content never shows the first report's tracking code or evaluation token.

CSRF: there is no session to ride on, but the double-submit token still stops another site from filing
reports in a visitor's name (and from using a logged-in staff member's cookie). It is checked before the
multipart body is parsed, so it comes in the header or the query string, not as a form field.
"""

from __future__ import annotations

import re
import secrets
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from shapely.geometry import shape
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from shiyu.cases import attachments, service
from shiyu.cases.api import UPLOAD_CHUNK, intake_session, public_session
from shiyu.cases.categories import service as categories
from shiyu.cases.intake import service as intake
from shiyu.cases.intake import tiles
from shiyu.cases.models import Attachment, Rating
from shiyu.cases.schemas import IntakeIn
from shiyu.core.errors import Forbidden, NotFound, ShiyuError, UnstorableInput, ValidationFailed
from shiyu.core.http import language
from shiyu.core.storage import LocalStorage, MediaKind
from shiyu.org.areas import service as areas
from shiyu.org.areas.lookup import INDEXES
from shiyu.org.identity.deps import CSRF_HEADER, csrf_ok
from shiyu.triage.classification import suggest
from shiyu.web.i18n import translate
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, field_errors, render

router = APIRouter(prefix="/portal", route_class=PageRoute, include_in_schema=False)
IntakeDb = Annotated[Session, Depends(intake_session, scope="function")]
PublicDb = Annotated[Session, Depends(public_session, scope="function")]
RATINGS = [r.value for r in Rating]

# Where a pydantic or service error about a nested input shows on the form.
MAX_PHOTOS = 3
MINE_SHOWN = 50
PHONE = re.compile(r"[0-9+\- ]{3,20}")
FIELD_OF = {"file": "photos", "reporter.phone": "phone", "reporter.name": "name", "location.lon": "location",
            "location.lat": "location", "lon": "location", "lat": "location"}


def _check_csrf(request: Request, sent: str) -> None:
    if not csrf_ok(request, request.headers.get(CSRF_HEADER) or sent):
        raise Forbidden("csrf_failed", "页面已过期，请刷新后重试", "The page has expired; reload and try again")


def _city_bounds(db: Session) -> list[float] | None:
    """[west, south, east, north] of the city, so the pin map opens over it; None without areas."""
    roots = [a for a in areas.roots(db, db.info["principal"]) if a.geometry]
    if not roots:
        return None
    boxes = [shape(a.geometry).bounds for a in roots]
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


def _form(request: Request, db: Session, status: int = 200, **extra: Any) -> Response:
    tree = categories.tree(db)
    codes = {minor.code for major in tree for minor in major.children if minor.active}
    return render(request, "portal/report.html", status, tree=tree, bounds=_city_bounds(db),
                  tiles=tiles.available(codes),
                  **{"v": {"idempotency_key": secrets.token_urlsafe(18)}, "errors": {}, "general": None} | extra)


# The form's own checks, said in the citizen's language beside each field (the form has ``novalidate``: no
# browser bubbles in the browser's language). The service checks everything again.
def _citizen_errors(form: dict[str, str], lang: str) -> dict[str, str]:
    errors = {}
    if not form.get("category_id") and tiles.get(form.get("tile", "")) is None:
        errors["tile"] = "portal.error.tile"
    if not (form.get("lon") and form.get("lat")):
        errors["location"] = "portal.error.location"
    if len(form.get("description", "")) < 2:
        errors["description"] = "portal.error.description"
    phone = form.get("phone", "")
    if phone and form.get("anonymous") != "on" and not PHONE.fullmatch(phone):
        errors["phone"] = "portal.error.phone"
    return {field: translate(lang, key) for field, key in errors.items()}


def _category_id(db: Session, form: dict[str, str]) -> str | None:
    """The official class of the report: the one named (a citizen who knows it), else the one the chosen tile
    maps to, proposed by triage from the description."""
    if form.get("category_id"):
        return form["category_id"]
    tile = tiles.get(form.get("tile", ""))
    if tile is None:
        return None
    chosen = tiles.choose(db, tile, suggest.propose(db, form.get("description", "")))
    return str(chosen.id) if chosen else None


@router.get("")
def report_page(request: Request, db: PublicDb) -> Response:
    return _form(request, db)


@router.get("/places")
def places(request: Request, db: PublicDb, place: str = Query("", max_length=50)) -> Response:
    """The place search under the pin map: a citizen types a street, community or grid name and picks one
    with the keyboard (the map needs a pointer, and geolocation may be refused)."""
    return render(request, "portal/partials/places.html", places=areas.places(db, place), q=place.strip())


@router.post("/report")
async def report(request: Request, db: IntakeDb, public: PublicDb) -> Response:
    # The token travels in the X-CSRF-Token header (htmx) or the form's action URL (no script), so it is
    # checked before the body — photos, up to SHIYU_MAX_REPORT_BYTES — is parsed (security review S7).
    _check_csrf(request, request.query_params.get("csrf_token", ""))
    raw = await request.form()
    form = {k: str(v).strip() for k, v in raw.items() if not isinstance(v, UploadFile)}
    if any("\x00" in value for value in form.values()):
        raise UnstorableInput()
    photos = [f for f in raw.getlist("photos") if isinstance(f, UploadFile) and f.filename]
    anonymous = form.get("anonymous") == "on"
    lang = language(request)
    own_errors = _citizen_errors(form, lang)
    category_id = None if own_errors else _category_id(public, form)
    if category_id is None and not own_errors:  # every class of the tile was since removed
        own_errors = {"tile": translate(lang, "portal.error.tile_empty")}
    if own_errors:
        return _form(request, public, 422, v=form, errors=own_errors, general=translate(lang, "form.invalid"))
    principal = db.info["principal"]
    storage = LocalStorage(request.app.state.settings.storage_dir)
    stored: list[Attachment] = []
    try:
        body = IntakeIn.model_validate({
            "idempotency_key": form.get("idempotency_key", ""), "channel": "citizen",
            "category_id": category_id, "description": form.get("description", ""),
            "location": {"lon": form.get("lon") or None, "lat": form.get("lat") or None},
            "address": form.get("address", ""), "anonymous": anonymous,
            "reporter": None if anonymous else {"name": form.get("name") or None, "phone": form.get("phone") or None},
        })
        checked = _check_photos(photos)
        result = intake.already_submitted(db, principal, body, [p.sha256 for p in checked])
        if result is None:
            for upload in checked:  # each into ``stored`` at once: a refused report removes their files
                stored.append(attachments.save_upload(db, principal, storage, upload))
            result = intake.intake(db, principal, body.model_copy(update={"attachment_ids": [a.id for a in stored]}),
                                   request.app.state.settings.tz)
    except (ValidationError, ShiyuError) as exc:
        db.rollback()
        attachments.discard_files(storage, stored)
        if isinstance(exc, ShiyuError) and exc.status not in (409, 422):
            raise
        general, errors = field_errors(exc, language(request))
        errors = {FIELD_OF.get(k, k): v for k, v in errors.items()}
        if isinstance(exc, ShiyuError) and exc.code == "outside_city":
            errors["location"] = general
        if isinstance(exc, ShiyuError) and exc.code == "idempotency_key_reused":
            form["idempotency_key"] = secrets.token_urlsafe(18)  # sending the form again is a new report
        return _form(request, public, 422, v=form, errors=errors, general=general)
    out = intake.outcome(result)
    return render(request, "portal/reported.html", code=out["tracking_code"], token=out["evaluation_token"],
                  short_code=intake.evaluation_code(out["tracking_code"]))


@router.get("/where")
def where(request: Request, db: PublicDb, lon: float = Query(..., ge=-180, le=180),
          lat: float = Query(..., ge=-90, le=90)) -> Response:
    """The places a pin falls in ("已选定：鹭屿区 南泰街道 南华社区 第一网格"), from the grid index intake
    uses, so the citizen sees the pin means what they meant before sending."""
    record = INDEXES.get(db).locate(lon, lat)
    names = [ref.name for ref in reversed(record.chain)][1:] if record else []
    return render(request, "portal/partials/where.html", names=names)


@router.get("/mine")
def mine(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    """我的反映: the logged-in citizen's own reports, newest first, each with its plain-words status."""
    rows = service.reported_by(db, principal, MINE_SHOWN)
    return render(request, "portal/mine.html", cases=[service.track(db, c.tracking_code, language(request))
                                                      for c in rows])


@router.get("/track/{code}/photos/{attachment_id}.jpg")
def result_photo(request: Request, code: str, attachment_id: int, db: PublicDb) -> Response:
    """An after-photo of a closed case as its 320-pixel JPEG thumbnail (metadata-free, small for a phone), for
    whoever has the tracking code."""
    found = service.result_photo(db, code, attachment_id)
    storage = LocalStorage(request.app.state.settings.storage_dir)
    data, mime = attachments.content(storage, found, thumbnail=True)
    return Response(data, media_type=mime, headers={"Cache-Control": "private, max-age=3600"})


def _check_photos(photos: list[UploadFile]) -> list[attachments.Upload]:
    """A citizen's photos arrive with the report: read and checked (and stripped of their metadata) before
    anything is stored, so a re-submission is recognised by them without storing them twice. There is no
    separate anonymous upload (that would be an open file drop)."""
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed("too_many_photos", "最多上传 {n} 张照片", "At most {n} photos can be sent",
                               detail={"field": "photos"}, n=MAX_PHOTOS)
    checked = []
    for photo in photos:
        data, file_type = attachments.read_limited(iter(partial(photo.file.read, UPLOAD_CHUNK), b""))
        if file_type.kind is not MediaKind.PHOTO:
            raise ValidationFailed("photo_only", "这里只能上传照片", "Only photos can be sent here",
                                   detail={"field": "photos"})
        checked.append(attachments.check_upload(photo.filename, data, file_type))
    return checked


def _track(request: Request, db: Session, code: str, status: int = 200, **extra: Any) -> Response:
    data, error = None, None
    if code:
        try:
            data = service.track(db, code, language(request))
        except NotFound:
            error = "portal.track.not_found"
    return render(request, "portal/track.html", 404 if error else status, code=service.normal_code(code), data=data,
                  not_found=error, ratings=RATINGS, **{"errors": {}, "general": None, "v": {}, "thanks": False} | extra)


@router.get("/track")
def track_page(request: Request, db: PublicDb, code: str = Query("", max_length=40)) -> Response:
    return _track(request, db, code)


@router.post("/track/{code}/evaluate")
def evaluate(request: Request, code: str, db: PublicDb, rating: str = Form(""), note: str = Form(""),
             token: str = Form(""), csrf_token: str = Form("")) -> Response:
    _check_csrf(request, csrf_token)
    values = {"rating": rating, "note": note, "token": token}
    if rating not in RATINGS:
        return _track(request, db, code, 422, v=values,
                      errors={"rating": translate(language(request), "portal.evaluate.rating_required")})
    try:
        service.track_evaluate(db, code, Rating(rating), note.strip()[:500], token.strip(), None,
                               request.app.state.settings.tz)
    except ShiyuError as exc:
        db.rollback()
        if isinstance(exc, NotFound):
            raise
        general, errors = field_errors(exc, language(request))
        if exc.code == "evaluation_token_invalid":
            errors["token"] = general
        return _track(request, db, code, exc.status, v=values, errors=errors, general=general)
    return _track(request, db, code, thanks=True)
