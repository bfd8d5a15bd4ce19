"""Request and response models of the token endpoint and the admin API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, Field, StrictBool, StringConstraints, WithJsonSchema

from gateway.iam.scopes import KNOWN_SCOPES, unknown_jurisdictions, unknown_scopes
from shared.auth import ALL_JURISDICTIONS
from shared.jurisdictions import CODE_PATTERN
from shared.schemas import Name, NotABool, RequestModel, ResponseModel

Username = Annotated[str, StringConstraints(min_length=3, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")]
Password = Annotated[str, StringConstraints(min_length=12, max_length=200)]


def _known_scopes(value: list[str]) -> list[str]:
    if unknown := unknown_scopes(value):
        raise ValueError(f"unknown scopes: {', '.join(unknown)}")
    return value


def _known_jurisdictions(value: list[str]) -> list[str]:
    if unknown := unknown_jurisdictions(value):
        raise ValueError(f"unknown jurisdictions: {', '.join(unknown)}")
    return value


Role = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,64}$")]
RoleList = Annotated[list[Role], Field(max_length=16)]
ScopeList = Annotated[
    list[Annotated[str, WithJsonSchema({"type": "string", "enum": sorted(KNOWN_SCOPES)})]],
    Field(max_length=64),
    AfterValidator(_known_scopes),
]
# "*" (every jurisdiction) or a code of the registry, checked by _known_jurisdictions
GRANTED_CODE = f"^(\\{ALL_JURISDICTIONS}|{CODE_PATTERN[1:-1]})$"
CodeList = Annotated[
    list[
        Annotated[
            str,
            StringConstraints(pattern=GRANTED_CODE),
            WithJsonSchema({"type": "string", "pattern": GRANTED_CODE}),
        ]
    ],
    Field(max_length=64),
    AfterValidator(_known_jurisdictions),
]
UnitList = Annotated[list[Name], Field(max_length=64)]


class TokenResponse(ResponseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - OAuth2 token type
    expires_in: int
    scope: str


class RevocationsRead(ResponseModel):
    not_before: dict[str, float] = Field(
        description="Digest of a subject → epoch seconds; its tokens issued earlier are refused."
    )


class GrantsIn(RequestModel):
    roles: RoleList = []
    scopes: ScopeList = []
    jurisdictions: CodeList = []
    units: UnitList = []


class AccountCreate(GrantsIn):
    username: Username
    display_name: Name
    password: Password


class AccountUpdate(RequestModel):
    display_name: Name | None = None
    password: Password | None = None
    roles: RoleList | None = None
    scopes: ScopeList | None = None
    jurisdictions: CodeList | None = None
    units: UnitList | None = None
    active: StrictBool | None = None


class AccountRead(ResponseModel):
    username: str
    display_name: str
    roles: list[str]
    scopes: list[str]
    jurisdictions: list[str]
    units: list[str]
    active: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ClientCreate(GrantsIn):
    client_id: Annotated[str, StringConstraints(min_length=3, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
    name: Name
    rate_limit_per_minute: Annotated[int, Field(ge=1, le=1_000_000), NotABool] | None = None


class ClientUpdate(RequestModel):
    name: Name | None = None
    roles: RoleList | None = None
    scopes: ScopeList | None = None
    jurisdictions: CodeList | None = None
    units: UnitList | None = None
    active: StrictBool | None = None
    rate_limit_per_minute: Annotated[int, Field(ge=1, le=1_000_000), NotABool] | None = None
    rotate_secret: StrictBool = False


class ClientRead(ResponseModel):
    client_id: str
    name: str
    roles: list[str]
    scopes: list[str]
    jurisdictions: list[str]
    units: list[str]
    active: bool
    rate_limit_per_minute: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ClientWithSecret(ClientRead):
    client_secret: str = Field(description="Shown once; store it now.")


class SigningKeyRead(ResponseModel):
    kid: str
    algorithm: str
    created_at: dt.datetime
    retired_at: dt.datetime | None
