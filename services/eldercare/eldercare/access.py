"""Who may call the eldercare API: one alias per scope, shared by every router."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, require_scope

Reader = Annotated[Principal, Depends(require_scope("eldercare:read"))]
Writer = Annotated[Principal, Depends(require_scope("eldercare:write"))]
Admin = Annotated[Principal, Depends(require_scope("eldercare:admin"))]
