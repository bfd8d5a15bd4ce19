"""Who may call the welfare API: one alias per scope, shared by every router."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, require_scope

Reader = Annotated[Principal, Depends(require_scope("welfare:read"))]
Writer = Annotated[Principal, Depends(require_scope("welfare:write"))]
Admin = Annotated[Principal, Depends(require_scope("welfare:admin"))]
