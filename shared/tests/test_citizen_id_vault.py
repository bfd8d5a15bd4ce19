"""The citizen-ID vault: AES-256-GCM or SM4-GCM, key ids beside every ciphertext, older keys
still readable, and a lookup hash under a key of its own that no encryption-key rotation moves."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag

from shared.citizen_ids import Algorithm, CitizenIdVault, DataKey, legacy_lookup_secret

NUMBER = "11010519491231002X"


def b64(size: int) -> str:
    return base64.b64encode(os.urandom(size)).decode()


LOOKUP = b64(32)


@pytest.mark.parametrize(("algorithm", "size"), [("aes-256-gcm", 32), ("sm4-gcm", 16)])
def test_each_algorithm_round_trips_and_names_its_key(algorithm: Algorithm, size: int) -> None:
    vault = CitizenIdVault(b64(size), algorithm=algorithm, lookup_key=LOOKUP)
    protected = vault.protect(NUMBER)
    assert NUMBER.encode() not in protected.cipher
    assert protected.key_id.startswith(algorithm[:3])
    assert vault.reveal(protected.cipher, protected.masked, protected.key_id) == NUMBER
    tampered = protected.cipher[:-1] + bytes([protected.cipher[-1] ^ 1])
    assert vault.reveal(tampered, protected.masked, protected.key_id) == protected.masked


def test_a_key_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        CitizenIdVault(b64(32), algorithm="sm4-gcm", lookup_key=LOOKUP)
    with pytest.raises(ValueError, match="32 bytes"):
        CitizenIdVault(b64(16), lookup_key=LOOKUP)


def test_rotation_keeps_old_records_readable_and_moves_them_to_the_new_key() -> None:
    old_key, new_key = b64(32), "sm4-gcm:" + b64(16)
    before = CitizenIdVault(old_key, lookup_key=LOOKUP)
    stored = before.protect(NUMBER)
    after = CitizenIdVault(
        new_key.split(":")[1], algorithm="sm4-gcm", previous_keys=[old_key], lookup_key=LOOKUP
    )
    assert after.reveal(stored.cipher, stored.masked, stored.key_id) == NUMBER
    cipher, key_id = after.reencrypt(stored.cipher, stored.key_id)
    assert key_id == after.current.id != stored.key_id
    assert after.reveal(cipher, stored.masked, key_id) == NUMBER
    # the lookup hash belongs to its own key: rotating the encryption key moves no duplicate
    assert after.lookup_hash(NUMBER) == before.lookup_hash(NUMBER) == stored.lookup_hash
    # once the old key is retired, what it made is no longer readable
    retired = CitizenIdVault(new_key.split(":")[1], algorithm="sm4-gcm", lookup_key=LOOKUP)
    with pytest.raises(InvalidTag):
        retired.decrypt(stored.cipher, stored.key_id)


def test_records_from_before_key_ids_are_read_with_any_configured_key() -> None:
    old_key = b64(32)
    legacy_cipher = DataKey.parse(old_key).encrypt(NUMBER.encode())
    vault = CitizenIdVault(b64(32), previous_keys=[old_key], lookup_key=LOOKUP)
    assert vault.decrypt(legacy_cipher, None) == NUMBER


def test_the_legacy_lookup_hash_can_be_kept_with_its_own_key() -> None:
    key = b64(32)
    legacy = CitizenIdVault(key)  # no separate lookup key: derived as releases before did
    kept = CitizenIdVault(b64(32), lookup_key=base64.b64encode(legacy_lookup_secret(key)).decode())
    assert kept.lookup_hash(NUMBER) == legacy.lookup_hash(NUMBER)


def test_hmac_sm3_lookup_and_previous_lookup_keys() -> None:
    old_lookup = b64(32)
    vault = CitizenIdVault(
        b64(32), lookup_key=b64(32), lookup_algorithm="hmac-sm3", previous_lookup_keys=[old_lookup]
    )
    hashes = vault.lookup_hashes(NUMBER)
    assert len(hashes) == 2
    assert len(hashes[0]) == 64
    assert hashes[0] != hashes[1]
    previous = CitizenIdVault(b64(32), lookup_key=old_lookup, lookup_algorithm="hmac-sm3")
    assert hashes[1] == previous.lookup_hash(NUMBER)
