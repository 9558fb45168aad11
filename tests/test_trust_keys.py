"""The cross-signing chain checked on keys fed directly: the pinned identity's devices keep
counting after the homeserver publishes another; a malformed answer from `/keys/query` is
data that counts for nothing, never an exception."""

from __future__ import annotations

import copy
import logging

import pytest

from bot.matrix.crosssign import SigningKey
from bot.matrix.trust import CrossSigningTrust, Pin, chain, of_user, signer

USER = "@jm1:test.org"


def identity() -> dict[str, SigningKey]:
    return {"master": SigningKey.generate(), "self_signing": SigningKey.generate()}


def device(name: str) -> tuple[dict, SigningKey]:
    key = SigningKey.generate()
    obj = {
        "user_id": USER,
        "device_id": name,
        "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
        "keys": {f"ed25519:{name}": key.public, f"curve25519:{name}": "curve" + name},
    }
    obj["signatures"] = {USER: {f"ed25519:{name}": key.sign(obj)}}
    return obj, key


def published(keys: dict[str, SigningKey], devices: list[dict]) -> dict:
    """A /keys/query answer for USER: these keys published, these devices listed."""
    master, ssk = keys["master"], keys["self_signing"]
    master_obj = {
        "user_id": USER,
        "usage": ["master"],
        "keys": {f"ed25519:{master.public}": master.public},
    }
    ssk_obj = {
        "user_id": USER,
        "usage": ["self_signing"],
        "keys": {f"ed25519:{ssk.public}": ssk.public},
    }
    ssk_obj["signatures"] = {USER: {f"ed25519:{master.public}": master.sign(ssk_obj)}}
    return {
        "master_keys": {USER: master_obj},
        "self_signing_keys": {USER: ssk_obj},
        "device_keys": {USER: {d["device_id"]: d for d in devices}},
    }


def sign(device_obj: dict, keys: dict[str, SigningKey]) -> None:
    ssk = keys["self_signing"]
    device_obj["signatures"][USER][f"ed25519:{ssk.public}"] = ssk.sign(device_obj)


def ed(device_obj: dict) -> str:
    return device_obj["keys"][f"ed25519:{device_obj['device_id']}"]


def test_the_owners_device_counts_under_the_pinned_key_after_a_reset():
    old, new = identity(), identity()
    phone, _ = device("PHONE")
    sign(phone, old)
    thief, _ = device("THIEF")
    sign(thief, new)
    before = published(old, [phone])
    pin = Pin(old["master"].public, old["self_signing"].public)
    assert chain(before, USER, "PHONE", ed(phone)) == (pin.master, pin.self_signing)

    after = published(new, [phone, thief])  # the homeserver publishes the thief's identity
    assert chain(after, USER, "PHONE", ed(phone)) is None  # the old chain is gone from it
    assert signer(after, USER, "PHONE", ed(phone), pin) == (pin.master, pin.self_signing)
    new_master = new["master"].public
    assert signer(after, USER, "THIEF", ed(thief), pin)[0] == new_master  # another identity
    assert signer(after, USER, "THIEF", ed(thief), None)[0] == new_master
    assert signer(after, USER, "PHONE", "not-its-key", pin) is None  # a device posing as it


async def test_room_keys_go_only_to_devices_under_the_pinned_identity():
    old, new = identity(), identity()
    phone, _ = device("PHONE")
    sign(phone, old)
    thief, _ = device("THIEF")
    sign(thief, new)
    pins = {USER: Pin(old["master"].public, old["self_signing"].public)}

    async def pinned(user):
        return pins.get(user)

    trust = CrossSigningTrust(None, pins=pinned)  # type: ignore[arg-type]
    keys = of_user(published(new, [phone, thief]), USER)
    assert await trust.counts(keys, USER, "PHONE", ed(phone))
    assert not await trust.counts(keys, USER, "THIEF", ed(thief))
    pins[USER] = Pin(new["master"].public, new["self_signing"].public)  # the chair confirmed
    assert await trust.counts(keys, USER, "THIEF", ed(thief))  # the memo follows the pin
    assert not await trust.counts(keys, USER, "PHONE", ed(phone))


async def test_a_member_is_pinned_on_first_sight_of_their_keys():
    keys_ = identity()
    phone, _ = device("PHONE")
    sign(phone, keys_)
    pins: dict[str, Pin] = {}

    async def pinned(user):
        return pins.get(user)

    async def first_sight(user, master, ssk):
        pins[user] = Pin(master, ssk)

    trust = CrossSigningTrust(None, pins=pinned, first_sight=first_sight)  # type: ignore[arg-type]
    keys = of_user(published(keys_, [phone]), USER)
    assert await trust.counts(keys, USER, "PHONE", ed(phone))
    assert pins[USER] == Pin(keys_["master"].public, keys_["self_signing"].public)


def _hostile_answers():
    keys_ = identity()
    phone, _ = device("PHONE")
    sign(phone, keys_)
    good = published(keys_, [phone])
    master_id = next(iter(good["master_keys"][USER]["keys"]))

    def mutate(change):
        answer = copy.deepcopy(good)
        change(answer)
        return answer

    return [
        ("nothing at all", {}),
        ("parts that are lists", {"master_keys": [], "device_keys": "x", "self_signing_keys": 3}),
        ("a user that is a string", mutate(lambda a: a["master_keys"].__setitem__(USER, "x"))),
        ("no usage", mutate(lambda a: a["master_keys"][USER].pop("usage"))),
        (
            "usage not a list",
            mutate(lambda a: a["master_keys"][USER].__setitem__("usage", "master")),
        ),
        (
            "two master keys",
            mutate(lambda a: a["master_keys"][USER]["keys"].__setitem__("ed25519:b", "b")),
        ),
        ("no keys", mutate(lambda a: a["master_keys"][USER].__setitem__("keys", {}))),
        ("keys a list", mutate(lambda a: a["master_keys"][USER].__setitem__("keys", ["a"]))),
        (
            "a key that is a number",
            mutate(lambda a: a["master_keys"][USER]["keys"].__setitem__(master_id, 7)),
        ),
        (
            "a huge key",
            mutate(lambda a: a["master_keys"][USER]["keys"].__setitem__(master_id, "A" * 100_000)),
        ),
        (
            "signatures a string",
            mutate(lambda a: a["self_signing_keys"][USER].__setitem__("signatures", "s")),
        ),
        (
            "a signature not base64",
            mutate(
                lambda a: a["self_signing_keys"][USER]["signatures"][USER].__setitem__(
                    master_id, "!!!"
                )
            ),
        ),
        (
            "a wrong signature",
            mutate(
                lambda a: a["self_signing_keys"][USER]["signatures"][USER].__setitem__(
                    master_id, "A" * 86
                )
            ),
        ),
        (
            "a device that is a list",
            mutate(lambda a: a["device_keys"][USER].__setitem__("PHONE", [])),
        ),
        (
            "device keys a string",
            mutate(lambda a: a["device_keys"][USER]["PHONE"].__setitem__("keys", "k")),
        ),
        (
            "a device of someone else",
            mutate(lambda a: a["device_keys"][USER]["PHONE"].__setitem__("user_id", "@x:y")),
        ),
        (
            "a device under another ID",
            mutate(lambda a: a["device_keys"][USER]["PHONE"].__setitem__("device_id", "OTHER")),
        ),
        (
            "ten thousand devices",
            mutate(
                lambda a: a["device_keys"].__setitem__(
                    USER, {f"D{n}": {"keys": {}} for n in range(10_000)}
                )
            ),
        ),
        (
            "a non-JSON float",
            mutate(lambda a: a["device_keys"][USER]["PHONE"].__setitem__("x", float("nan"))),
        ),
    ], ed(phone)


HOSTILE, PHONE_KEY = _hostile_answers()


@pytest.mark.parametrize("answer", [a for _, a in HOSTILE], ids=[n for n, _ in HOSTILE])
async def test_a_malformed_keys_answer_is_untrusted_never_an_exception(answer, caplog):
    caplog.set_level(logging.WARNING, logger="bot.matrix.trust")
    keys = of_user(answer, USER) if isinstance(answer, dict) else {}
    assert chain(keys, USER, "PHONE", PHONE_KEY) is None
    assert signer(keys, USER, "PHONE", PHONE_KEY, Pin("m", "s")) is None
    trust = CrossSigningTrust(None)  # type: ignore[arg-type]
    for _ in range(3):
        assert not await trust.counts(keys, USER, "PHONE", PHONE_KEY)
    assert len(caplog.records) <= 1, "logged once per user at most"
