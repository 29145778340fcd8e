"""What a register record may say: GB 32100 credit codes, GB 11643 ID numbers with sex and birth date taken
from them, choices by code or Chinese label, and the rules that differ by residence type."""

from __future__ import annotations

from datetime import date

import pytest

from shiyu.core.errors import ValidationFailed
from shiyu.core.validators import validate_credit_code
from shiyu.registry import fields
from tests.registry.registry_fixtures import id_number


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L", "911100001000079554"])
def test_published_credit_codes_pass(code):
    assert validate_credit_code(code.lower()) == code


@pytest.mark.parametrize("code", ["91350100M000100Y44", "91350100M000100Y4", "9135010OM000100Y43",
                                  "91350100M000I00Y43"])
def test_wrong_credit_codes_are_refused(code):
    with pytest.raises(ValidationFailed) as refused:
        validate_credit_code(code)
    assert refused.value.code == "invalid_credit_code" and refused.value.detail == {"field": "credit_code"}


def test_sex_and_birth_date_come_from_the_id_number():
    number = id_number("19850312", serial=7)
    values = fields.person_values({"name": "张伟", "id_number": number, "residence_type": "流动"})
    assert (values["sex"], values["birth_date"], values["residence_type"]) == ("M", date(1985, 3, 12), "floating")
    assert fields.person_values({"name": "李娜", "id_number": id_number(serial=8)})["sex"] == "F"


def test_residents_need_an_id_number_people_from_abroad_may_go_without():
    with pytest.raises(ValidationFailed):
        fields.person_values({"name": "张伟", "residence_type": "户籍"})
    foreign = fields.person_values({"name": "John Smith", "residence_type": "境外", "sex": "M",
                                    "birth_date": "1990-05-01"})
    assert foreign["id_number"] is None and foreign["birth_date"] == date(1990, 5, 1)


@pytest.mark.parametrize("data, field", [
    ({"name": ""}, "name"),
    ({"name": "张伟", "id_number": id_number(), "relation": "邻居"}, "relation"),
    ({"name": "张伟", "id_number": id_number(), "residence_type": "常住"}, "residence_type"),
    ({"name": "张伟", "id_number": id_number(), "arrival_date": "去年"}, "arrival_date"),
    ({"name": "张伟", "id_number": id_number(), "phone": "1234"}, "phone"),
])
def test_each_refusal_names_its_field(data, field):
    with pytest.raises(ValidationFailed) as refused:
        fields.person_values(data)
    assert refused.value.detail["field"] == field


def test_component_class_and_place():
    ok = fields.component_values({"class_code": "0101", "lon": "118.1", "lat": "24.6", "status": "破损"})
    assert (ok["class_code"], ok["status"]) == ("0101", "damaged")
    for bad in ({"class_code": "0901", "lon": 1, "lat": 1}, {"class_code": "0101"}):
        with pytest.raises(ValidationFailed):
            fields.component_values(bad)
