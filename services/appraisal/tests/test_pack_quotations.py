"""Quoted source text in the packs is verbatim (appraisal.md, Consequences: "Quoted source
text in packs and answers is verbatim: explanations go in a note field, never inside the
quotation"). Every ``text`` of a scheme is the gazette's wording; "……" marks words left
out between two quoted pieces. The sources are kept next to the tests (the two documents
as the gazettes print them) and checked against the gazettes where they are at hand."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

HERE = Path(__file__).resolve().parent
PACKS = HERE.parent / "packs"
SOURCES = {
    "panjin": HERE / "sources" / "panjin-2024-5.txt",
    "zhumadian": HERE / "sources" / "zhumadian-2023-36.txt",
}
GAZETTES = {
    "panjin": (Path("/work/shared/seeds/panjin-gazette-2024-05-06.txt"), 448, 582),
    "zhumadian": (Path("/work/shared/seeds/zhumadian-gazette-2023-06.txt"), 527, 665),
}
QUOTED = {"text", "ranking_text", "barred_text", "key_points", "interviewer", "who", "by"}
GAP = "……"


def plain(text: str) -> str:
    """Without the gazette's line and page breaks, spaces and markup, with ASCII brackets
    read as the document's fullwidth ones."""
    text = re.sub(r"[\s*#]", "", text)
    return text.replace("(", "（").replace(")", "）")


def quotations(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{where}.{key}" if where else str(key)
            if key in QUOTED and isinstance(value, str):
                yield path, value
            else:
                yield from quotations(value, path)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from quotations(value, f"{where}.{index}")


def pack_quotations(scheme: str) -> list[tuple[str, str]]:
    data = yaml.safe_load((PACKS / f"{scheme}.yaml").read_text(encoding="utf-8"))
    return list(quotations(data))


@pytest.mark.parametrize("scheme", sorted(SOURCES))
def test_the_kept_sources_are_the_gazettes(scheme: str) -> None:
    gazette, first, last = GAZETTES[scheme]
    if not gazette.exists():
        pytest.skip(f"{gazette} is not on this machine; the kept copy stands for it")
    lines = gazette.read_text(encoding="utf-8").splitlines(keepends=True)[first - 1 : last]
    assert SOURCES[scheme].read_text(encoding="utf-8") == "".join(lines)


@pytest.mark.parametrize("scheme", sorted(SOURCES))
def test_every_quotation_is_the_documents_wording(scheme: str) -> None:
    source = plain(SOURCES[scheme].read_text(encoding="utf-8"))
    quoted = pack_quotations(scheme)
    assert len(quoted) > 40
    wrong = [
        (path, piece)
        for path, text in quoted
        for piece in plain(text).split(GAP)
        if piece and piece not in source
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("scheme", "added"),
    [
        ("panjin", "开发区管委会不是考核对象"),  # an explanation, not art. 3's words
        ("panjin", "并列者同名次"),  # a tie rule neither document has
        ("zhumadian", "并列者同名次"),
    ],
)
def test_explanations_are_notes_not_quotations(scheme: str, added: str) -> None:
    assert [path for path, text in pack_quotations(scheme) if added in plain(text)] == []
