"""`platformctl test` and `run` byte-compile the project's packages before starting processes
(where PYTHONDONTWRITEBYTECODE is set, each process would compile them again as it starts)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from platformctl import cli, database


def test_sources_are_compiled_and_test_modules_left_to_pytest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for folder in cli.SOURCE_FOLDERS:
        (tmp_path / folder / "pkg" / "tests").mkdir(parents=True)
        (tmp_path / folder / "pkg" / "module.py").write_text("VALUE = 1\n")
        (tmp_path / folder / "pkg" / "tests" / "test_x.py").write_text("def test_x() -> None: ...\n")
    monkeypatch.setattr(database, "REPO_ROOT", tmp_path)
    cli.compile_sources()
    for folder in cli.SOURCE_FOLDERS:
        module = tmp_path / folder / "pkg" / "module.py"
        assert Path(importlib.util.cache_from_source(str(module))).exists()
        assert not (tmp_path / folder / "pkg" / "tests" / "__pycache__").exists()
