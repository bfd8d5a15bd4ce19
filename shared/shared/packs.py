"""Loading policy packs: YAML data files in the repository, checked on load.

Every loader in every service goes through :func:`load_yaml` and raises
:class:`shared.errors.PackError` naming the file, the field and the problem.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from shared.errors import PackError

ModelT = TypeVar("ModelT", bound=BaseModel)
PackT = TypeVar("PackT")

# LibYAML's safe loader where PyYAML was built with it (its wheels are): the same documents as
# yaml.safe_load, parsed about eight times faster (each process loads its packs as it starts)
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=SafeLoader)  # noqa: S506 - a safe loader
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


def load_pack_folder(
    folder: Path,
    load: Callable[[Path], PackT],
    *,
    key: Callable[[PackT], str],
    what: str,
    key_field: str,
) -> dict[str, PackT]:
    """Every ``*.yaml`` pack in ``folder`` (sorted by name), loaded and checked by ``load``,
    by ``key``; the first problem raises PackError naming the file, the field and the problem.

    ``what`` names a pack in messages (``"standards pack"``), ``key_field`` the field that
    must be unique across files (``"jurisdiction"``).
    """
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise PackError(str(folder), "-", f"no {what} files (*.yaml) in this folder")
    packs: dict[str, PackT] = {}
    origin: dict[str, str] = {}
    for path in files:
        pack = load(path)
        name = key(pack)
        if name in packs:
            raise PackError(path.name, key_field, f"{what} {name} is also defined in {origin[name]}")
        packs[name] = pack
        origin[name] = path.name
    return packs
