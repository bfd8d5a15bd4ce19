"""Loading policy packs: YAML data files in the repository, checked on load.

Every loader in every service goes through :func:`load_yaml` and raises
:class:`shared.errors.PackError` naming the file, the field and the problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from shared.errors import PackError

ModelT = TypeVar("ModelT", bound=BaseModel)


def load_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError as exc:
        raise PackError(str(path), "-", "file not found") from exc
    except yaml.YAMLError as exc:
        raise PackError(str(path), "-", f"not valid YAML: {exc}") from exc


def parse_pack(path: Path, model: type[ModelT]) -> ModelT:
    """Load ``path`` and validate it against ``model``; the first problem becomes a PackError."""
    data = load_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "-"
        raise PackError(path.name, field, first["msg"]) from exc
