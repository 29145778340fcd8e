"""The two test workers' shares (tests/conftest.py): a journey file never runs on both, a long parametrised
test's cases may."""

from __future__ import annotations

from tests.conftest import SPREAD, FileOrCaseScheduling, work_unit


def test_a_files_tests_are_one_unit_and_a_spread_tests_cases_are_each_their_own() -> None:
    journey = "tests/journeys/test_admin_sets_up_city.py"
    assert work_unit(f"{journey}::test_the_administrator_creates_a_user") == journey
    assert work_unit(f"{journey}::test_the_administrators_home_shows_what_is_left_to_set_up") == journey
    corpus = "tests/security/test_bad_input_corpus.py::test_no_bad_input_answers_a_server_error[sqlite-citizen]"
    assert work_unit(corpus) == corpus
    bench = "tests/bench/test_bench_smoke.py::"
    assert work_unit(f"{bench}test_every_bench_is_listed") == "tests/bench/test_bench_smoke.py"
    smoke = f"{bench}test_bench_runs_at_smoke_size[intake.py]"
    assert work_unit(smoke) == smoke
    assert all(s.startswith("tests/") for s in SPREAD)


def test_the_scheduler_splits_by_work_unit() -> None:
    assert FileOrCaseScheduling._split_scope(object.__new__(FileOrCaseScheduling), "tests/a.py::b[c]") == "tests/a.py"
