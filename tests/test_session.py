"""The bot's wrapper around nio's crypto store, without a homeserver."""

import pytest

from bot.matrix.session import write_new_encrypted_rooms_only


class Store:
    """Records what nio's store would write; starts with the rooms of an earlier run."""

    def __init__(self, known: set[str]) -> None:
        self.rows = set(known)
        self.writes: list[set[str]] = []

    def load_encrypted_rooms(self) -> set[str]:
        return set(self.rows)

    def save_encrypted_rooms(self, rooms) -> None:
        self.writes.append(set(rooms))
        self.rows.update(rooms)


def test_only_rooms_not_yet_stored_are_written():
    store = Store({"!old:hs"})
    write_new_encrypted_rooms_only(store)

    store.save_encrypted_rooms({"!old:hs"})  # every sync names the rooms it touched
    store.save_encrypted_rooms(set())
    assert store.writes == []

    store.save_encrypted_rooms({"!old:hs", "!new:hs"})
    store.save_encrypted_rooms({"!new:hs"})
    assert store.writes == [{"!new:hs"}]
    assert store.load_encrypted_rooms() == {"!old:hs", "!new:hs"}


async def test_the_first_start_gives_up_on_an_unreachable_homeserver_and_names_it():
    import aiohttp

    from bot.matrix.session import SessionError, _patiently

    tries = []

    async def refused():
        tries.append(1)
        raise aiohttp.ClientConnectionError("refused")

    with pytest.raises(SessionError) as given_up:
        await _patiently(refused, "https://matrix.example.invalid", give_up_after=0)
    assert str(given_up.value).startswith(
        "[matrix] homeserver https://matrix.example.invalid: unreachable for 0s at the first start"
    )
    assert "check the URL and the network" in str(given_up.value) and tries == [1]
