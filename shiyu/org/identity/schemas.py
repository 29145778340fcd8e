"""API shapes for accounts. Personal data only ever leaves masked, except through ``RevealOut``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shiyu.org.identity.passwords import MIN_LENGTH


class TokenIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds")


class GrantIn(BaseModel):
    role: str = Field(description="one of the role names, e.g. grid_worker, centre_operator")
    area_id: int | None = Field(None, description="for area roles: the subtree granted")
    department_id: int | None = Field(None, description="for department roles: the department")


class GrantOut(BaseModel):
    id: int
    role: str
    area_id: int | None
    department_id: int | None


class UserIn(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    password: str = Field(min_length=MIN_LENGTH, max_length=256,
                          description="at least 10 characters, 5 different ones; not containing the username; "
                                      "not a common password")
    home_area_id: int
    full_name: str | None = Field(None, max_length=50)
    phone: str | None = Field(None, max_length=20)
    id_number: str | None = Field(None, max_length=18)
    language: str = Field("zh", pattern="^(zh|en)$")
    grants: list[GrantIn] = []


class UserOut(BaseModel):
    id: int
    username: str
    full_name: str | None = Field(description="masked, e.g. 张*三")
    phone: str | None = Field(description="masked, e.g. 138****5678")
    id_number: str | None = Field(description="masked, e.g. 3502**********1234")
    is_active: bool
    language: str
    area_path: str
    last_login_at: datetime | None
    grants: list[GrantOut]


class UserPatch(BaseModel):
    is_active: bool | None = Field(None, description="false: deactivate — every token and session of the account "
                                                     "ends at once and its log-ins are refused; true: activate")
    language: str | None = Field(None, pattern="^(zh|en)$")


class PasswordChangeIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256,
                              description="at least 10 characters, 5 different ones; not containing the username; "
                                          "not a common password")


class RevealIn(BaseModel):
    field: str = Field(description="full_name, phone or id_number")
    reason: str = Field(min_length=4, max_length=500, description="why you need to see it; recorded")


class RevealOut(BaseModel):
    field: str
    value: str | None
