"""The scheme histories and interpretations the app loaded at start-up (on ``app.state``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from fastapi import FastAPI, Request

from appraisal.config import Settings
from appraisal.interpretations import AppraisalInterpretations
from appraisal.schemes.history import SchemeHistory
from appraisal.schemes.pack import Scheme, load_histories
from shared.errors import InvalidInput


async def load_on_startup(app: FastAPI) -> None:
    """Start-up hook: a broken pack stops the start with the PackError (file, field, problem)."""
    settings: Settings = app.state.settings
    app.state.schemes = load_histories(settings.packs_dir)


def schemes_of(request: Request) -> dict[str, SchemeHistory]:
    schemes: dict[str, SchemeHistory] = request.app.state.schemes
    return schemes


def interpretations_of(request: Request) -> AppraisalInterpretations:
    settings: Settings = request.app.state.settings
    return settings.interpretations


def schemes_in_force(
    histories: Mapping[str, SchemeHistory], *, scheme: str, on: dt.date, field: str = "body.scheme"
) -> dict[str, Scheme]:
    """The version of each scheme in force on ``on``, for the grading rules; ``scheme``, the
    one asked for, is refused (422) when none of its versions is in force that day."""
    history = histories.get(scheme)
    if history is not None and history.in_force(on) is None:
        known = "; ".join(f"version {v.number}: {v.stated}" for v in history.versions.values())
        raise InvalidInput.field(
            field, f"no version of scheme {scheme} is in force on {on.isoformat()} ({known})"
        )
    in_force = {name: each.in_force(on) for name, each in histories.items()}
    return {name: version.scheme for name, version in in_force.items() if version is not None}
