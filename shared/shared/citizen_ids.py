"""Citizen ID numbers (居民身份证号码) are personal data: encrypted at rest, masked in answers.

Stored four ways: the ciphertext (AES-256-GCM, or SM4-GCM where commercial cryptography is
required) for roles allowed to see it, the id of the key that made it, a keyed hash (HMAC-SHA256
or HMAC-SM3, under a key of its own) for finding a person by number without decrypting, and the
masked form ``2111**********1234``. Every number is normalised first (:func:`normalise`).
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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
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


def canonical_form(text: str) -> str:
    """What a number stored before numbers were normalised reads as: NFKC, white space
    stripped, every Unicode decimal digit (Arabic-Indic, Devanagari, …) as its ASCII digit, a
    lower-case x as X. Only for finding such records (``personal_data.find_duplicates``); input
    is refused unless :func:`normalise` accepts it."""
    folded = unicodedata.normalize("NFKC", text).strip()
    digits = "".join(
        str(unicodedata.decimal(c)) if unicodedata.decimal(c, None) is not None else c for c in folded
    )
    return digits[:-1] + "X" if digits.endswith("x") else digits


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


Algorithm = Literal["aes-256-gcm", "sm4-gcm"]
LookupAlgorithm = Literal["hmac-sha256", "hmac-sm3"]
_KEY_BYTES: dict[str, int] = {"aes-256-gcm": 32, "sm4-gcm": 16}
_AAD = b"citizen-id"


@dataclass(frozen=True)
class DataKey:
    """One key that encrypts citizen ID numbers at rest, with its algorithm.

    ``aes-256-gcm`` (32 bytes) or ``sm4-gcm`` (16 bytes, GB/T 32907, for deployments that
    must use commercial cryptography). Its id — the algorithm and a fingerprint of the key, never
    the key — is stored beside every ciphertext it makes, so rotation knows what is left to move.
    """

    algorithm: Algorithm
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != _KEY_BYTES[self.algorithm]:
            size = _KEY_BYTES[self.algorithm]
            raise ValueError(f"a {self.algorithm} citizen-ID key must be {size} bytes, base64-encoded")

    @classmethod
    def parse(cls, spec: str, default_algorithm: Algorithm = "aes-256-gcm") -> DataKey:
        """``BASE64`` or ``ALGORITHM:BASE64`` (e.g. ``sm4-gcm:…``)."""
        algorithm, _, encoded = spec.rpartition(":") if ":" in spec else ("", "", spec)
        chosen = algorithm or default_algorithm
        if chosen not in _KEY_BYTES:
            raise ValueError(f"unknown citizen-ID key algorithm {chosen!r} (aes-256-gcm or sm4-gcm)")
        try:
            secret = base64.b64decode(encoded.strip(), validate=True)
        except ValueError as exc:
            raise ValueError("a citizen-ID key must be base64") from exc
        return cls(chosen, secret)  # type: ignore[arg-type]

    @property
    def id(self) -> str:
        fingerprint = hashlib.sha256(b"citizen-id-key:" + self.algorithm.encode() + b":" + self.secret)
        return f"{'aes' if self.algorithm == 'aes-256-gcm' else 'sm4'}-{fingerprint.hexdigest()[:12]}"

    def encrypt(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(12)
        if self.algorithm == "aes-256-gcm":
            return nonce + AESGCM(self.secret).encrypt(nonce, plaintext, _AAD)
        encryptor = Cipher(algorithms.SM4(self.secret), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(_AAD)
        body = encryptor.update(plaintext) + encryptor.finalize()
        return nonce + body + encryptor.tag

    def decrypt(self, cipher: bytes) -> bytes:
        nonce, body = cipher[:12], cipher[12:]
        if self.algorithm == "aes-256-gcm":
            return AESGCM(self.secret).decrypt(nonce, body, _AAD)
        if len(body) < 16:
            raise InvalidTag
        decryptor = Cipher(algorithms.SM4(self.secret), modes.GCM(nonce, body[-16:])).decryptor()
        decryptor.authenticate_additional_data(_AAD)
        return decryptor.update(body[:-16]) + decryptor.finalize()


@dataclass(frozen=True)
class LookupKey:
    """The key of the keyed hash that finds a person by number (and makes one number one
    person). Its own key, never derived from the encryption key, so rotating the encryption
    key never changes who is a duplicate."""

    algorithm: LookupAlgorithm
    secret: bytes = field(repr=False)

    def digest(self, number: str) -> str:
        if self.algorithm == "hmac-sha256":
            return hmac.new(self.secret, number.encode(), hashlib.sha256).hexdigest()
        mac = crypto_hmac.HMAC(self.secret, hashes.SM3())
        mac.update(number.encode())
        return mac.finalize().hex()


def legacy_lookup_secret(key_b64: str) -> bytes:
    """The lookup secret releases before the separate lookup key derived from the encryption
    key: an operator sets CITIZEN_ID_LOOKUP_KEY to its base64 once, and stored hashes stay valid."""
    return hashlib.sha256(b"lookup:" + base64.b64decode(key_b64)).digest()


@dataclass(frozen=True)
class ProtectedId:
    cipher: bytes
    key_id: str
    lookup_hash: str
    masked: str

    def columns(self) -> dict[str, str | bytes]:
        """The number as a person register stores it (``citizen_id_hash``, ``…_cipher``,
        ``…_key_id``, ``…_masked``)."""
        return {
            "citizen_id_hash": self.lookup_hash,
            "citizen_id_cipher": self.cipher,
            "citizen_id_key_id": self.key_id,
            "citizen_id_masked": self.masked,
        }


class CitizenIdVault:
    """Encrypts, reveals, hashes and masks citizen ID numbers.

    ``key`` encrypts new records; ``previous_keys`` still decrypt older ones (rotation moves
    them to the current key and then they can go). ``lookup_key`` makes the lookup hash; while a
    lookup key is being replaced, ``previous_lookup_keys`` are searched too.
    """

    def __init__(
        self,
        key: str,
        *,
        algorithm: Algorithm = "aes-256-gcm",
        previous_keys: Sequence[str] = (),
        lookup_key: str | None = None,
        lookup_algorithm: LookupAlgorithm = "hmac-sha256",
        previous_lookup_keys: Sequence[str] = (),
    ) -> None:
        self.current = DataKey.parse(key, algorithm)
        self.keys = {k.id: k for k in (self.current, *(DataKey.parse(p) for p in previous_keys))}
        if lookup_key is None:
            logger.warning(
                "no separate citizen-ID lookup key is set: the lookup hash is derived from the "
                "encryption key, so rotating that key would change who is a duplicate"
            )
            lookup_secret = legacy_lookup_secret(key.rpartition(":")[2])
        else:
            lookup_secret = base64.b64decode(lookup_key)
        if len(lookup_secret) < 32:
            raise ValueError("the citizen-ID lookup key must be at least 32 bytes, base64-encoded")
        self.lookup = LookupKey(lookup_algorithm, lookup_secret)
        self.previous_lookups = tuple(
            LookupKey(lookup_algorithm, base64.b64decode(spec)) for spec in previous_lookup_keys
        )

    def protect(self, number: str) -> ProtectedId:
        return ProtectedId(
            cipher=self.current.encrypt(number.encode()),
            key_id=self.current.id,
            lookup_hash=self.lookup_hash(number),
            masked=mask(number),
        )

    def lookup_hash(self, number: str) -> str:
        return self.lookup.digest(number)

    def lookup_hashes(self, number: str) -> list[str]:
        """Every hash the number may be stored under (the current lookup key first)."""
        return [self.lookup.digest(number), *(key.digest(number) for key in self.previous_lookups)]

    def decrypt(self, cipher: bytes, key_id: str | None) -> str:
        """The number in clear; raises ``InvalidTag`` when no configured key opens it. A record
        without a key id predates key ids: every configured key is tried."""
        candidates = [self.keys[key_id]] if key_id in self.keys else list(self.keys.values())
        if key_id is not None and key_id not in self.keys:
            raise InvalidTag
        for candidate in candidates:
            try:
                return candidate.decrypt(cipher).decode()
            except InvalidTag:
                continue
        raise InvalidTag

    def reveal(self, cipher: bytes, masked: str, key_id: str | None = None) -> str:
        """The number in clear; the masked form (and an error in the log) when no configured
        key can decrypt it, so one misconfigured record does not fail a whole listing."""
        try:
            return self.decrypt(cipher, key_id)
        except InvalidTag:
            logger.error("no configured key decrypts a citizen ID", extra={"masked": masked})
            return masked

    def reencrypt(self, cipher: bytes, key_id: str | None) -> tuple[bytes, str]:
        """The same number under the current key (for key rotation)."""
        return self.current.encrypt(self.decrypt(cipher, key_id).encode()), self.current.id


class _VaultSettings(Protocol):
    citizen_id_key: str
    citizen_id_algorithm: Algorithm
    citizen_id_previous_keys: list[str]
    citizen_id_lookup_key: str | None
    citizen_id_lookup_algorithm: LookupAlgorithm
    citizen_id_previous_lookup_keys: list[str]


def vault_from(settings: _VaultSettings) -> CitizenIdVault:
    """The vault a service's settings (``shared.settings.PersonalDataSettings``) describe."""
    return CitizenIdVault(
        settings.citizen_id_key,
        algorithm=settings.citizen_id_algorithm,
        previous_keys=settings.citizen_id_previous_keys,
        lookup_key=settings.citizen_id_lookup_key,
        lookup_algorithm=settings.citizen_id_lookup_algorithm,
        previous_lookup_keys=settings.citizen_id_previous_lookup_keys,
    )
