"""A standard version's multiplier is read as its pattern says: ASCII digits and the whole text
(a multiplier in other digits was stored as given)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from welfare.standards.schemas import DerivedIn

CITATION = {"document": "盘政办发〔2024〕4号", "article": "一（二）"}


@pytest.mark.parametrize("multiplier", ["1.８", "1٥", "１.8", "1.8\n", " 1.8", "0", "1.80000"])
def test_a_multiplier_in_other_digits_or_shapes_is_refused(multiplier: str) -> None:
    with pytest.raises(ValidationError):
        DerivedIn.model_validate({"multiplier": multiplier, "stated_amount": "1440.00", "citation": CITATION})


@pytest.mark.parametrize("multiplier", ["1.8", "2", "0.5", "1.35"])
def test_a_multiplier_in_ascii_digits_is_read(multiplier: str) -> None:
    read = DerivedIn.model_validate(
        {"multiplier": multiplier, "stated_amount": "1440.00", "citation": CITATION}
    )
    assert read.multiplier == multiplier
