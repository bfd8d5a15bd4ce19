"""The schemes and interpretations the app loaded at start-up (on ``app.state``)."""

from __future__ import annotations

from fastapi import FastAPI, Request

from appraisal.config import Settings
from appraisal.interpretations import AppraisalInterpretations
from appraisal.schemes.pack import Scheme, load_schemes
from shared.errors import Conflict


async def load_on_startup(app: FastAPI) -> None:
    """Start-up hook: a broken pack stops the start with the PackError (file, field, problem)."""
    settings: Settings = app.state.settings
    app.state.schemes = load_schemes(settings.packs_dir)


def schemes_of(request: Request) -> dict[str, Scheme]:
    schemes: dict[str, Scheme] = request.app.state.schemes
    return schemes


def scheme_named(request: Request, scheme_id: str) -> Scheme:
    """A year's scheme; a year whose pack was since removed cannot go on (409)."""
    scheme = schemes_of(request).get(scheme_id)
    if scheme is None:
        raise Conflict(f"The scheme {scheme_id} of this year is no longer loaded.")
    return scheme


def interpretations_of(request: Request) -> AppraisalInterpretations:
    settings: Settings = request.app.state.settings
    return settings.interpretations
