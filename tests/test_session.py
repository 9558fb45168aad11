"""The bot's wrapper around nio's crypto store, without a homeserver."""

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
