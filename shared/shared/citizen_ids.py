"""Citizen ID numbers (居民身份证号码) are personal data: encrypted at rest, masked in answers.

Stored three ways: AES-GCM ciphertext (for roles allowed to see it), a keyed HMAC for
finding a person by number without decrypting, and the masked form ``2111**********1234``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

logger = logging.getLogger(__name__)

CITIZEN_ID = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_digit(first_17: str) -> str:
    """The GB 11643-1999 check digit (18th character) of the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(first_17, _WEIGHTS, strict=True)) % 11]


def check_digit_ok(number: str) -> bool:
    return check_digit(number[:17]) == number[17]


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
