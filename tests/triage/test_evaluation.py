import pytest

from shiyu.triage.classification.evaluation import evaluate, expected_calibration_error, format_report


def test_metrics_and_confusion():
    report = evaluate(["甲", "甲", "乙", "乙"], ["甲", "乙", "乙", "乙"])
    assert report.accuracy == 0.75
    assert report.labels == ["乙", "甲"]
    assert report.confusion == [[2, 0], [1, 1]]
    assert report.macro_f1 == pytest.approx((0.8 + 2 / 3) / 2)
    text = format_report(report)
    assert "macro-F1" in text and "C1 乙" in text


def test_expected_calibration_error():
    assert expected_calibration_error([0.9] * 10, [True] * 9 + [False]) == pytest.approx(0.0)
    assert expected_calibration_error([1.0, 1.0], [False, False]) == pytest.approx(1.0)
