"""The platform's components (the gateway and the four services): their packages, schemas and
migrations, for the launcher, the operator CLI, the migration image command and the tests."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Component:
    name: str
    package: str
    schema: str

    @property
    def root(self) -> Path:
        module = importlib.import_module(self.package)
        assert module.__file__ is not None
        return Path(module.__file__).resolve().parent.parent

    @property
    def migrations_dir(self) -> Path:
        return self.root / "migrations"


COMPONENTS = (
    Component("gateway", "gateway", "iam"),
    Component("appraisal", "appraisal", "appraisal"),
    Component("welfare", "welfare", "welfare"),
    Component("eldercare", "eldercare", "eldercare"),
    Component("renewal", "renewal", "renewal"),
)
