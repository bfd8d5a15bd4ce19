"""The shared library's own rules: money, months, jurisdictions, masking, problems."""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.auth import Principal
from shared.citizen_ids import CitizenIdVault, check_digit_ok, mask
from shared.jurisdictions import registry
from shared.logs import JsonFormatter, mask_citizen_ids
from shared.money import Money, NonNegativeMoney, to_money
from shared.months import Month, YearMonth, completed_years
from shared.problems import problem_body


def test_money_is_a_string_rounded_half_up() -> None:
    assert to_money(Decimal("0.005")) == Decimal("0.01")
    assert to_money(Decimal("2.675")) == Decimal("2.68")
    money = TypeAdapter(Money)
    assert money.dump_json(Decimal("800")) == b'"800.00"'
    for bad in (800, 1.5, "1.234", "1e5", "9999999999999", True):
        with pytest.raises(ValidationError):
            money.validate_python(bad)
    with pytest.raises(ValidationError):
        TypeAdapter(NonNegativeMoney).validate_python("-0.01")


def test_months_and_ages() -> None:
    assert YearMonth.parse("2024-12").next() == YearMonth(2025, 1)
    assert YearMonth(2024, 7).last_day == dt.date(2024, 7, 31)
    assert YearMonth(2024, 1).months_until(YearMonth(2025, 3)) == 14
    for bad in ("2024-13", "24-01", "0000-01", "2300-01"):
        with pytest.raises(ValidationError):
            TypeAdapter(Month).validate_python(bad)
    assert completed_years(dt.date(1934, 3, 10), dt.date(2024, 3, 9)) == 89
    assert completed_years(dt.date(1934, 3, 10), dt.date(2024, 3, 10)) == 90


def test_jurisdiction_tree_with_zones() -> None:
    panjin = registry()
    assert panjin.subtree("211100") == [
        "211100",
        "211102",
        "211103",
        "211104",
        "211122",
        "211100-Z01",
        "211100-Z02",
    ]
    assert panjin.require("411700-Z02").is_zone
    county = Principal(subject="c", roles=frozenset(), scopes=frozenset(), jurisdictions=("211102",))
    city = Principal(subject="m", roles=frozenset(), scopes=frozenset(), jurisdictions=("211100",))
    assert county.can_access("211102")
    assert not county.can_access("211103")
    assert not county.can_access("211100")
    assert city.can_access("211100-Z01")
    assert not city.can_access("411702")


def test_citizen_ids_are_masked_in_logs_and_protected_at_rest() -> None:
    number = "11010519491231002X"
    assert check_digit_ok(number)
    assert mask(number) == "1101**********002X"
    assert mask_citizen_ids(f"person {number} registered") == "person 1101**********002X registered"
    record = logging.makeLogRecord(
        {"msg": "created %s", "args": (number,), "levelno": logging.INFO, "levelname": "INFO", "name": "test"}
    )
    line = JsonFormatter("welfare").format(record)
    assert number not in line
    assert json.loads(line)["message"] == "created 1101**********002X"
    vault = CitizenIdVault("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
    protected = vault.protect(number)
    assert number.encode() not in protected.cipher
    assert vault.reveal(protected.cipher, protected.masked) == number
    other = CitizenIdVault("ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=")
    assert other.reveal(protected.cipher, protected.masked) == protected.masked
    assert vault.lookup_hash(number) == vault.lookup_hash(number) != other.lookup_hash(number)


def test_problem_bodies_follow_rfc_9457() -> None:
    body = problem_body(422, "body.month: not a month", errors=[{"field": "body.month", "message": "x"}])
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(body)
    assert body["status"] == 422
    assert body["title"] == "Invalid input"


def test_one_tls_context_per_process_verifies_as_httpx_does() -> None:
    import ssl

    from shared.tls import client_tls

    assert client_tls() is client_tls()
    assert client_tls(trust_env=False) is client_tls(trust_env=False)
    for context in (client_tls(), client_tls(trust_env=False)):
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname
        assert context.cert_store_stats()["x509_ca"] > 0  # the roots are loaded
