"""Desk search and 辖区 list benchmark: ``python bench/desk.py [--cases 1000000] [--runs 40] [--keep]``.

On a scratch PostgreSQL database (``SHIYU_BENCH_POSTGRES``, dropped afterwards unless ``--keep``): the small
demo city (40 grids), then ``--cases`` synthetic cases written with COPY — Chinese descriptions and addresses
from a vocabulary of places and problems, 70 % with an encrypted reporter phone and its blind indexes, states,
channels, departments, deadlines and report times over two years — through the same derived columns the
model fills (``search_text``, ``search_grams``, the phone and phone-tail hashes). The case table's indexes
are dropped during the load and built afterwards (their build time is a row of the table).

Then, as the demo's street operator (``demo_operator``: the first street's centre, through the scoped
session and the very service functions the pages call), median and p95 over ``--runs`` queries each, with
a different value every run:

* search by tracking code (as typed: lower case with spaces), by whole phone, by its last 4 digits, and by
  free text (a common two-character word, a rarer place+problem pair, a word that matches nothing);
* the 辖区 list's first page with its count (up to ``search.COUNT_CAP``, as the page counts): no filter,
  state+overdue, category+channel+date range,
  department, sorted by the deadline.

``--smoke`` runs the same at 2,000 cases. Prints a table; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from psycopg.types.json import Json  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import shiyu.domains  # noqa: E402, F401
from bench.common import SMOKE_HELP, ensure_demo, print_table, smoke_city  # noqa: E402
from shiyu.cases import listing, search  # noqa: E402
from shiyu.cases.categories.models import Category  # noqa: E402
from shiyu.cases.intake.service import CODE_ALPHABET  # noqa: E402
from shiyu.cases.models import Case, CaseState  # noqa: E402
from shiyu.core import pii, textsearch  # noqa: E402
from shiyu.core.config import Settings  # noqa: E402
from shiyu.core.db import make_engine, make_session_factory  # noqa: E402
from shiyu.core.paging import PageParams  # noqa: E402
from shiyu.core.scoping import Principal  # noqa: E402
from shiyu.org.areas.models import Area, AreaLevel  # noqa: E402
from shiyu.org.identity.models import User  # noqa: E402
from shiyu.org.identity.service import principal_for  # noqa: E402
from shiyu.org.units.models import Centre, Department  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
ROADS = ["南华路", "东风街", "解放大道", "湖滨南路", "莲前西路", "厦禾路", "嘉禾路", "仙岳路", "长青路", "金尚路",
         "吕岭路", "环岛东路", "文园路", "鹭江道", "思明北路", "开元路", "中山路", "禾祥西路", "湖里大道", "枋湖路"]
PLACES = ["小区门口", "公交站旁", "菜市场", "学校附近", "十字路口", "人行道", "绿化带", "停车场", "楼道内", "河道边"]
PROBLEMS = ["路灯不亮", "井盖缺失", "占道经营", "噪音扰民", "垃圾堆放", "违章停车", "道路破损", "污水外溢",
            "树木倒伏", "广告牌松动", "油烟扰民", "积水严重", "护栏损坏", "乱搭乱建", "宠物扰民", "消防通道堵塞"]
DETAILS = ["已经持续三天", "晚上特别明显", "居民多次反映", "存在安全隐患", "影响出行", "请尽快处理", "老人小孩经过危险",
           "早高峰尤其严重", "附近商户也有意见", "下雨后更严重"]
STATE_WEIGHTS = {CaseState.REPORTED: 3, CaseState.TO_DISPATCH: 3, CaseState.TO_ACCEPT: 4, CaseState.HANDLING: 10,
                 CaseState.TO_VERIFY: 4, CaseState.TO_CLOSE: 2, CaseState.SUSPENDED: 1, CaseState.CLOSED: 70,
                 CaseState.REJECTED: 2, CaseState.MERGED: 1}
CHANNELS = ["grid"] * 5 + ["citizen"] * 2 + ["hotline"] * 3 + ["department", "api"]


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[math.ceil(len(values) * 0.95) - 1]


class World:
    """What the synthetic cases point at, read from the demo city."""

    def __init__(self, session: Session) -> None:
        self.grids = list(session.scalars(select(Area).where(Area.level == AreaLevel.GRID)))
        by_id = {a.id: a for a in session.scalars(select(Area))}
        self.community = {g.id: by_id[g.parent_id] for g in self.grids}
        self.centre_of = {c.area_id for c in session.scalars(select(Centre))}
        self.categories = list(session.scalars(select(Category.id).where(Category.parent_id.is_not(None))))
        self.departments = list(session.scalars(select(Department.id)))


def _case_row(rng: random.Random, w: World, n: int, now: datetime) -> dict[str, Any]:
    grid = rng.choice(w.grids)
    community = w.community[grid.id]
    road = rng.choice(ROADS)
    description = f"{road}{rng.choice(PLACES)}{rng.choice(PROBLEMS)}，{rng.choice(DETAILS)}"
    address = f"{community.name}{road}{rng.randint(1, 300)}号"
    reported = now - timedelta(seconds=rng.randint(0, 730 * 86400))
    code = reported.astimezone(TZ).strftime("%y%m") + "".join(rng.choice(CODE_ALPHABET) for _ in range(10))
    state = rng.choices(list(STATE_WEIGHTS), weights=list(STATE_WEIGHTS.values()))[0]
    phone = f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}" if rng.random() < 0.7 else None
    open_ = state not in (CaseState.CLOSED, CaseState.REJECTED, CaseState.MERGED)
    dispatched = state in (CaseState.TO_ACCEPT, CaseState.HANDLING, CaseState.TO_VERIFY, CaseState.TO_CLOSE,
                           CaseState.SUSPENDED, CaseState.CLOSED)
    due = now + timedelta(hours=rng.randint(-96, 96)) if open_ and state != CaseState.SUSPENDED else None
    alert = 0 if due is None else 2 if due < now else 1 if due < now + timedelta(hours=8) else 0
    text_ = textsearch.normalise(f"{code} {description} {address}")
    keys = pii.keyring()
    return {
        "id": n, "version": 1, "tracking_code": code, "submitter_key": f"bench:{n}", "idempotency_key": f"b{n}",
        "request_hash": "", "channel": rng.choice(CHANNELS), "state": state.value,
        "category_id": rng.choice(w.categories), "urgency": rng.choices(["normal", "urgent", "critical"],
                                                                        weights=[90, 8, 2])[0],
        "description": description, "attributes": Json({}), "lon": 118.1, "lat": 24.5, "address": address,
        "grid_id": grid.id, "centre_area_id": community.id, "centre_path": community.area_path,
        "occurred_at": None, "reported_at": reported, "reporter_user_id": None, "submitted_by_id": None,
        "api_client_id": None, "anonymous": phone is None, "reporter_name": None, "reporter_name_hash": None,
        "reporter_phone": keys.encrypt(phone) if phone else None,
        "reporter_phone_hash": keys.hash("phone", phone) if phone else None,
        "reporter_phone_tail_hash": keys.hash("phone_tail", phone[-4:]) if phone else None,
        "search_text": text_, "search_grams": textsearch.grams(text_), "routing": None,
        "main_department_id": rng.choice(w.departments) if dispatched and w.departments else None,
        "merged_into_id": None, "self_resolved": False, "handled_by_id": None, "step": "handle" if open_ else None,
        "step_started_at": None, "step_limit_seconds": None, "step_used_seconds": 0.0, "step_segment_start": None,
        "step_warn_at": None, "step_due_at": due, "step_escalate_at": None, "step_alert": alert,
        "step_basis": "working",
        "supervised": rng.random() < 0.03, "listed_supervision": False, "rework_count": 0, "return_count": 0,
        "extension_count": 0, "overdue_steps": 0, "late_steps": 0, "rating": None, "registered_at": None,
        "dispatched_at": None, "handled_at": None, "closed_at": reported if state == CaseState.CLOSED else None,
        "last_action_at": reported, "area_path": grid.area_path, "created_at": reported, "updated_at": reported,
    }, phone


Sample = list[tuple[str, str | None, str]]  # (tracking code, phone, area path) of some loaded cases


def load(engine: Any, w: World, count: int, seed: int) -> tuple[Sample, float, float]:
    """COPY ``count`` cases in; returns some of them, the load and the index build seconds."""
    rng, now = random.Random(seed), datetime.now(UTC)
    # The columns the bench fills (``_case_row``); a nullable column added later takes its default, a new NOT
    # NULL one fails the COPY with its name
    columns = list(_case_row(random.Random(seed), w, 0, now)[0])
    raw = engine.raw_connection()
    conn = raw.driver_connection
    with conn.cursor() as cur:
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'case' AND indexname <> 'pk_case'")
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'ALTER TABLE "case" DROP CONSTRAINT IF EXISTS "{name}"')
            cur.execute(f'DROP INDEX IF EXISTS "{name}"')
        cur.execute('SELECT coalesce(max(id), 0) FROM "case"')
        first = cur.fetchone()[0] + 1
    conn.commit()
    sample: Sample = []
    t0 = time.perf_counter()
    chunk = 20000
    for start in range(first, first + count, chunk):
        with conn.cursor() as cur, cur.copy(f'COPY "case" ({", ".join(columns)}) FROM STDIN') as copy:
            for n in range(start, min(start + chunk, first + count)):
                row, phone = _case_row(rng, w, n, now)
                copy.write_row([row[c] for c in columns])
                if n % 97 == 0:
                    sample.append((row["tracking_code"], phone, row["area_path"]))
        conn.commit()
        if count >= 100000:
            print(f"  {start - first + chunk:,} / {count:,} cases …", file=sys.stderr, flush=True)
    loaded = time.perf_counter() - t0
    t0 = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        for name, definition in indexes:
            if name.startswith("uq_"):
                column_list = definition.split("(", 1)[1].rstrip(")")
                cur.execute(f'ALTER TABLE "case" ADD CONSTRAINT "{name}" UNIQUE ({column_list})')
            else:
                cur.execute(definition)
        cur.execute(f"SELECT setval(pg_get_serial_sequence('\"case\"', 'id'), {first + count})")
        cur.execute('ANALYZE "case"')
    conn.commit()
    raw.close()
    return sample, loaded, time.perf_counter() - t0


def timed(factory: Any, principal: Principal, run: Callable[[Session, int], Any],
          runs: int) -> tuple[float, float, int]:
    times, size = [], 0
    for i in range(runs + 1):
        with factory() as session:
            session.info["principal"] = principal
            t0 = time.perf_counter()
            size = run(session, i)
            if i:  # the first is a warm-up
                times.append((time.perf_counter() - t0) * 1000)
            session.rollback()
    return statistics.median(times), p95(times), size


def workloads(codes: list[str], phones: list[str], w: World, session: Session) -> list[tuple[str, Callable]]:
    page = PageParams(limit=30, offset=0)

    def find(values: list[str]) -> Callable[[Session, int], int]:
        return lambda s, i: len(search.search(s, values[i % len(values)], page).cases)

    typed_codes = [f"{c[:4]} {c[4:9].lower()} {c[9:]}" for c in codes]
    tails = [p[-4:] for p in phones]
    common = [p for p in PROBLEMS]
    rare = [f"{road} {problem}" for road in ROADS for problem in PROBLEMS[:3]]
    nothing = [f"不存在的词{n}" for n in range(10)]
    dept = w.departments[:8] or [0]
    filters = [
        ("辖区 list: no filter", lambda i: {}),
        ("辖区 list: state=handling, overdue", lambda i: {"state": "handling", "overdue": "yes"}),
        ("辖区 list: category+channel+30 days", lambda i: {
            "category": str(w.categories[i % len(w.categories)]), "channel": "hotline",
            "from": (datetime.now(TZ) - timedelta(days=30 + i)).date().isoformat()}),
        ("辖区 list: department, by deadline", lambda i: {"department": str(dept[i % len(dept)]), "sort": "due",
                                                          "dir": "asc"}),
    ]

    def area_list(make: Callable[[int], dict[str, str]]) -> Callable[[Session, int], int]:
        def run(s: Session, i: int) -> int:
            params = make(i)
            chosen = listing.parse(s, params, [params["state"]] if "state" in params else [], TZ)
            stmt = listing.statement(s, chosen)
            rows = list(s.scalars(stmt.limit(50)))
            search.capped_count(s, stmt)  # what the page counts
            return len(rows)
        return run

    return [
        ("search: tracking code (typed lower, spaces)", find(typed_codes)),
        ("search: whole phone", find(phones)),
        ("search: phone last 4", find(tails)),
        ("search: common word (e.g. 路灯不亮)", find(common)),
        ("search: road + problem", find(rare)),
        ("search: word found nowhere", find(nothing)),
        *[(label, area_list(make)) for label, make in filters],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--database", help="a PostgreSQL database to build into and keep (instead of a scratch "
                                           "one); when it already holds cases, they are measured as they are")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    args = parser.parse_args()
    if args.smoke:
        args.cases, args.runs = 2000, 3
    # The demo city's keys (demo mode), so that its own cases and the synthetic ones read alike.
    settings = Settings(demo_mode=True)
    pii.configure(settings.pii_keys, settings.pii_hash_key, settings.secret_key)
    if args.database:
        build_and_measure(args.database, args)
        return
    with smoke_city("desk") as url:
        build_and_measure(url, args)


def build_and_measure(url: str, args: argparse.Namespace) -> None:
    ensure_demo(url, small=True)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        session.info["principal"] = Principal.system("bench")
        world = World(session)
        synthetic = session.scalar(select(func.count(Case.id)).where(Case.submitter_key.startswith("bench:")))
    loaded = None if synthetic else load(engine, world, args.cases, args.seed)
    engine.dispose()
    measure(url, args, loaded)


def measure(url: str, args: argparse.Namespace, loaded: tuple[Sample, float, float] | None) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as session:
        session.info["principal"] = Principal.system("bench")
        world = World(session)
        total = session.scalar(text('SELECT count(*) FROM "case"'))
        user = session.scalar(select(User).where(User.username == "demo_operator"))
        principal = principal_for(user)
        if loaded is None:  # a kept database: its cases' codes and phones, read back
            found = session.execute(select(Case.tracking_code, Case.reporter_phone, Case.area_path)
                                    .where(Case.id % 97 == 0).limit(5000)).all()
            loaded = ([tuple(r) for r in found], 0.0, 0.0)
        size = session.scalar(text("SELECT pg_size_pretty(pg_relation_size('ix_case_search_grams'))"))
    sample, load_s, index_s = loaded
    mine = [s for s in sample if any(s[2].startswith(p) for p in principal.paths_with("case.view"))][:200]
    codes = [code for code, _, _ in mine]
    phones = [phone for _, phone, _ in mine if phone] or ["13800000000"]
    size_label = f"{total:,} cases"
    rows = [("load (COPY, derived columns in Python)", size_label, f"{load_s:.0f} s", "once"),
            ("index build (all case indexes)", size_label, f"{index_s:.0f} s", f"grams GIN {size}")]
    with factory() as session:
        session.info["principal"] = principal
        jobs = workloads(codes, phones, world, session)
    for label, run in jobs:
        median, high, found = timed(factory, principal, run, args.runs)
        target = 200 if label.startswith("辖区") else 100
        rows.append((label, size_label, f"p50 {median:.1f} ms / p95 {high:.1f} ms",
                     f"target p95 < {target} ms: {'met' if high < target else 'MISSED'} ({found} rows on page)"))
    engine.dispose()
    print_table(rows)


if __name__ == "__main__":
    main()
