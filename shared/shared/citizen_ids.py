"""Citizen ID numbers (居民身份证号码) are personal data: encrypted at rest, masked in answers.

Stored three ways: AES-GCM ciphertext (for roles allowed to see it), a keyed HMAC for
finding a person by number without decrypting, and the masked form ``2111**********1234``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BeforeValidator, WithJsonSchema

logger = logging.getLogger(__name__)

# ASCII only: \d would also take fullwidth, Arabic-Indic and other Unicode digits
CITIZEN_ID = re.compile(r"[0-9]{17}[0-9X]")
CITIZEN_ID_PATTERN = "^[0-9]{17}[0-9X]$"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


class CitizenIdError(ValueError):
    """A text that is not a citizen ID number; the message never repeats the text."""


def check_digit(first_17: str) -> str:
    """The GB 11643-1999 check digit (18th character) of the first 17 ASCII digits."""
    if not re.fullmatch(r"[0-9]{17}", first_17):
        raise CitizenIdError("the first 17 characters must be the digits 0-9")
    return _CHECK[sum(int(d) * w for d, w in zip(first_17, _WEIGHTS, strict=True)) % 11]


def check_digit_ok(number: str) -> bool:
    return CITIZEN_ID.fullmatch(number) is not None and check_digit(number[:17]) == number[17]


def normalise(text: str) -> str:
    """The one form of a citizen ID number every service stores, hashes and compares.

    NFKC (fullwidth ２１１… becomes 211…), surrounding white space stripped, a final lower-case
    x read as X; then exactly 17 ASCII digits and a digit or X, with a matching GB 11643 check
    digit and a real birth date. Anything else — Arabic-Indic or other non-ASCII digits, inner
    spaces, a trailing newline inside, letters — is refused, so one person is one number.
    """
    number = unicodedata.normalize("NFKC", text).strip()
    if number.endswith("x"):
        number = number[:-1] + "X"
    if CITIZEN_ID.fullmatch(number) is None:
        raise CitizenIdError("must be 18 characters: 17 digits 0-9 and a digit or X (GB 11643)")
    if check_digit(number[:17]) != number[17]:
        raise CitizenIdError("the check digit does not match (GB 11643)")
    birth_date_in(number)
    return number


def birth_date_in(number: str) -> dt.date:
    """The birth date in characters 7–14 of a citizen ID number."""
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise CitizenIdError("characters 7-14 are not a real birth date") from exc


def sex_in(number: str) -> Literal["male", "female"]:
    """GB 11643: the 17th character (order code) is odd for men, even for women."""
    return "male" if int(number[16]) % 2 else "female"


def _normalise_field(value: object) -> object:
    return normalise(value) if isinstance(value, str) else value


CitizenId = Annotated[
    str,
    BeforeValidator(_normalise_field),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": CITIZEN_ID_PATTERN,
            "description": "18-character resident identity number (GB 11643) with a valid check digit; "
            "fullwidth digits, surrounding white space and a lower-case x are normalised first",
            "examples": ["411702193306010012"],
        }
    ),
]
"""A citizen ID number in a request (body, query, import row, CLI argument), normalised."""


def mask(number: str) -> str:
    return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"


@dataclass(frozen=True)
class ProtectedId:
    cipher: bytes
    lookup_hash: str
    masked: str


class CitizenIdVault:
    def __init__(self, key_b64: str) -> None:
        key = base64.b64decode(key_b64)
        if len(key) != 32:
            raise ValueError("the citizen-ID key must be 32 bytes, base64-encoded")
        self._aead = AESGCM(key)
        self._hmac_key = hashlib.sha256(b"lookup:" + key).digest()

    def protect(self, number: str) -> ProtectedId:
        nonce = os.urandom(12)
        cipher = nonce + self._aead.encrypt(nonce, number.encode(), b"citizen-id")
        return ProtectedId(cipher=cipher, lookup_hash=self.lookup_hash(number), masked=mask(number))

    def lookup_hash(self, number: str) -> str:
        return hmac.new(self._hmac_key, number.encode(), hashlib.sha256).hexdigest()

    def reveal(self, cipher: bytes, masked: str) -> str:
        """The number in clear; the masked form (and an error in the log) when the configured
        key cannot decrypt it, so one misconfigured record does not fail a whole listing."""
        try:
            return self._aead.decrypt(cipher[:12], cipher[12:], b"citizen-id").decode()
        except InvalidTag:
            logger.error("a citizen ID cannot be decrypted with the configured key", extra={"masked": masked})
            return masked
