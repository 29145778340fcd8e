from datetime import date

import pytest

from shiyu.core.errors import ValidationFailed
from shiyu.core.validators import id_check_digit, validate_id_number, validate_phone


def make_id(first17: str) -> str:
    return first17 + id_check_digit(first17)


def test_known_valid_id_number():
    # The GB 11643 worked example: 11010519491231002X.
    assert validate_id_number("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize(
    "value, reason",
    [
        ("1101051949123100", "has 18 characters"),
        ("110105194912310021", "check digit"),
        ("990105194912310020", "region code"),
        (make_id("11010519491331002"), "birth date"),
        (make_id("11010520990101002"), "birth date"),
    ],
)
def test_invalid_id_numbers(value, reason):
    with pytest.raises(ValidationFailed) as err:
        validate_id_number(value, today=date(2026, 11, 22))
    assert err.value.code == "invalid_id_number"
    assert reason in err.value.en


def test_leap_day_birth_is_accepted_only_in_leap_years():
    assert validate_id_number(make_id("35020320000229123"))
    with pytest.raises(ValidationFailed):
        validate_id_number(make_id("35020320010229123"))


@pytest.mark.parametrize("value", ["13812345678", "+86 138 1234 5678", "0592-5123456", "02112345678", "12345"])
def test_valid_phones(value):
    assert validate_phone(value)


@pytest.mark.parametrize("value", ["12812345678", "1381234567", "abc", "5123456"])
def test_invalid_phones(value):
    with pytest.raises(ValidationFailed) as err:
        validate_phone(value)
    assert err.value.code == "invalid_phone"
