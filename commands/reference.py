"""Reference data: the countries the committee serves and the Action Plan catalogue.

Both ship as editable TOML files in `commands/data/`; the config can point at the committee's own.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from commands.i18n import N_, _

# A member state, an associate member, or an observer: a state outside CARICOM the plan
# invites (section 2), which sees and reports but is neither scored nor votes.
MEMBERSHIPS = ("member", "associate", "observer")
SCOPES = ("national", "regional")
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")  # YYYY-MM: an item's target date
ITEM_STATUSES = ("illustrative", "proposed", "adopted", "retired")


class ReferenceDataError(ValueError):
    """A reference data file is missing, unreadable or inconsistent."""


# How many items of the catalogue have each status, for its label.
STATUS_COUNTS = {
    "adopted": N_("{n} adopted"),
    "proposed": N_("{n} proposed"),
    "illustrative": N_("{n} illustrative"),
}


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    zone: str
    membership: str
    aliases: tuple[str, ...] = ()

    @property
    def scored(self) -> bool:
        """Counted in the region's compliance (an observer is not)."""
        return self.membership != "observer"


@dataclass(frozen=True)
class Area:
    id: str
    name: str


@dataclass(frozen=True)
class Item:
    """One specific area of the plan. `standard` is empty where the plan names a need only
    (its tables) and the committee has not adopted one."""

    id: str
    area: str
    name: str
    standard: str = ""
    source: str = ""  # where in the plan: "section 5", "Table 2, need 3"
    need: str = ""
    solution: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()
    scope: str = "national"
    status: str = "illustrative"
    target: str | None = None  # YYYY-MM
    related: str = ""  # the table row a section 5 example belongs to

    @property
    def table_ref(self) -> tuple[int, int] | None:
        """(table, need) when the item is a row of a section 7 table."""
        found = re.search(r"Table (\d+), need (\d+)", self.source)
        return (int(found.group(1)), int(found.group(2))) if found else None

    @property
    def scored(self) -> bool:
        """Counted per country: a national item in force."""
        return self.scope == "national" and self.status != "retired"

    @property
    def measured(self) -> bool:
        """Has a minimum standard to be measured against (the plan's own, or one the
        committee adopted); an item without one is a need: its progress is tracked, but it
        never counts as "at minimum standard"."""
        return bool(self.standard)

    def to_data(self) -> dict:
        data = {k: getattr(self, k) for k in ITEM_KEYS}
        data["solution"], data["partners"] = list(self.solution), list(self.partners)
        return {k: v for k, v in data.items() if v not in ("", None, [])}


ITEM_KEYS = (
    "id", "name", "standard", "source", "need", "solution", "partners", "scope", "status",
    "target", "related",
)  # fmt: skip


def _fold(text: str) -> str:
    """Case- and accent-insensitive key, with punctuation and spacing normalised."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(c for c in decomposed if c.isalnum() or c.isspace())
    return " ".join(kept.split())


@dataclass(frozen=True)
class Countries:
    by_code: dict[str, Country]
    _by_key: dict[str, Country] = field(repr=False)

    def __iter__(self) -> Iterator[Country]:
        return iter(self.by_code.values())

    def __len__(self) -> int:
        return len(self.by_code)

    def scored(self) -> list[Country]:
        """The countries the region's compliance counts: all but observers."""
        return [c for c in self.by_code.values() if c.scored]

    def name_of(self, code: str | None, unknown: str = "—") -> str:
        """A country's name by its code; the code itself if it is not known."""
        found = self.by_code.get(code or "")
        return found.name if found else (code or unknown)

    def resolve(self, text: str) -> Country | None:
        """The country a user means by a code or a name, or None."""
        return self._by_key.get(_fold(text))

    def suggest(self, text: str) -> list[str]:
        """Codes of the countries closest to an unknown input."""
        keys = difflib.get_close_matches(_fold(text), self._by_key, n=3, cutoff=0.6)
        return list(dict.fromkeys(self._by_key[k].code for k in keys))


@dataclass(frozen=True)
class Catalogue:
    areas: tuple[Area, ...]
    items: tuple[Item, ...]
    version: int = 1

    @property
    def scored(self) -> tuple[Item, ...]:
        """The items each country is assessed against: national, not retired."""
        return tuple(i for i in self.items if i.scored)

    @property
    def label(self) -> str:
        """`version 2: 5 adopted, 21 illustrative; 9 with a minimum standard`: what a count is
        measured against."""
        counts: dict[str, int] = {}
        for i in self.scored:
            counts[i.status] = counts.get(i.status, 0) + 1
        parts = ", ".join(
            _(words).format(n=counts[s]) for s, words in STATUS_COUNTS.items() if counts.get(s)
        )
        measured = sum(1 for i in self.scored if i.measured)
        parts += "; " + _("{n} with a minimum standard").format(n=measured)
        return _("version {version}: {parts}").format(version=self.version, parts=parts)

    def scored_in(self, area_id: str) -> tuple[Item, ...]:
        return tuple(i for i in self.scored if i.area == area_id)

    def to_data(self) -> dict:
        """The catalogue as stored in a database version (JSON)."""
        return {
            "area": [{"id": a.id, "name": a.name} for a in self.areas],
            "item": [i.to_data() for i in self.items],
        }

    @classmethod
    def from_data(cls, data: dict, version: int, origin: str = "catalogue") -> Catalogue:
        return _catalogue(data, origin, version)

    def item(self, item_id: str) -> Item | None:
        return next((i for i in self.items if i.id == item_id.casefold()), None)

    def number_of(self, item: Item) -> int:
        """An item's number in the catalogue (1, 2, …): typed in its place when its name is
        ambiguous (`!status set 18 met`)."""
        return self.items.index(item) + 1

    def numbered(self, number: int) -> Item | None:
        return self.items[number - 1] if 1 <= number <= len(self.items) else None

    def named(self, text: str, names: Callable[[Item], Iterable[str]]) -> list[Item]:
        """The items a person may mean by `text`: the whole of a name (in any language
        `names` gives) or a run of its words, case and accents aside; one word may also be
        the start of a word of the name or of the ID (`strategy`, `cyberc`)."""
        key = _fold(text)
        if not key:
            return []
        padded, one_word = f" {key} ", " " not in key and len(key) >= 3
        found, exact = [], []
        for item, folded, words in self._folded(names):
            if key in folded:
                exact.append(item)
            if any(padded in f" {n} " for n in folded) or (
                one_word and any(w.startswith(key) for w in words)
            ):
                found.append(item)
        # `cybercrime`: the item whose ID ends so, before those whose names mention it.
        tail = [i for i in found if i.id.rsplit(".", 1)[-1] == key.replace(" ", "-")]
        return exact or (tail if len(tail) == 1 else found)

    def _folded(
        self, names: Callable[[Item], Iterable[str]]
    ) -> tuple[tuple[Item, frozenset[str], frozenset[str]], ...]:
        """Each item with its names folded and the words of its names and ID: computed once
        per catalogue (a command may try several readings of its words)."""
        cache = self.__dict__.setdefault("_folded_names", {})
        if names not in cache:
            cache[names] = tuple(
                (item, folded, frozenset(w for n in folded for w in n.split())
                 | frozenset(re.split(r"[.\-]", item.id)))
                for item in self.items
                for folded in [frozenset(_fold(n) for n in (item.name, *names(item)))]
            )  # fmt: skip
        return cache[names]

    def area(self, area_id: str) -> Area | None:
        key = area_id.casefold()
        return next((a for a in self.areas if key in (a.id, a.name.casefold())), None)

    def items_in(self, area_id: str) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.area == area_id)

    def suggest(self, item_id: str) -> list[str]:
        """IDs closest to an unknown item ID, best first."""
        ids = [i.id for i in self.items]
        close = difflib.get_close_matches(item_id.casefold(), ids, n=3, cutoff=0.5)
        tail = item_id.casefold().rsplit(".", 1)[-1]
        by_tail = [i for i in ids if i.rsplit(".", 1)[-1].startswith(tail) and tail]
        return list(dict.fromkeys(close + by_tail))[:3]


@dataclass
class Reference:
    """The countries, and the catalogue in force (replaced when a new version is adopted)."""

    countries: Countries
    catalogue: Catalogue


def _read_toml(path: Path | None, default: str) -> tuple[dict, str]:
    if path is None:
        text = resources.files("commands.data").joinpath(default).read_text("utf-8")
        return tomllib.loads(text), f"built-in {default}"
    try:
        return tomllib.loads(path.read_text("utf-8")), str(path)
    except OSError as exc:
        raise ReferenceDataError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceDataError(f"{path}: not valid TOML ({exc})") from None


def _require(entry: dict, key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ReferenceDataError(f"{where}: `{key}` is missing or empty")
    return value.strip()


def load_countries(path: Path | None = None) -> Countries:
    """Load and check the countries file (the built-in one when `path` is None)."""
    data, origin = _read_toml(path, "countries.toml")
    by_code: dict[str, Country] = {}
    by_key: dict[str, Country] = {}
    for n, entry in enumerate(data.get("country", []), start=1):
        where = f"{origin}: country #{n}"
        code = _require(entry, "code", where).upper()
        if len(code) != 2 or not code.isalpha() or code in by_code:
            raise ReferenceDataError(f"{where}: code {code!r} is not a new two-letter ISO code")
        zone = _require(entry, "zone", where)
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ReferenceDataError(f"{where}: zone {zone!r} is not an IANA time zone") from None
        membership = entry.get("membership", "member")
        if membership not in MEMBERSHIPS:
            raise ReferenceDataError(f"{where}: membership must be one of {MEMBERSHIPS}")
        aliases = tuple(entry.get("aliases", ()))
        country = Country(code, _require(entry, "name", where), zone, membership, aliases)
        by_code[code] = country
        for key in (code, country.name, *aliases):
            by_key[_fold(key)] = country
    if not by_code:
        raise ReferenceDataError(f"{origin}: no [[country]] entries")
    return Countries(by_code, by_key)


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Load and check the Action Plan catalogue (the built-in one when `path` is None)."""
    data, origin = _read_toml(path, "catalogue.toml")
    return _catalogue(data, origin, 1)


def _strings(entry: dict, key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ReferenceDataError(f"{where}: `{key}` must be a list of texts")
    return tuple(v.strip() for v in value)


def _choice(entry: dict, key: str, choices: tuple[str, ...], where: str) -> str:
    value = entry.get(key, choices[0])
    if value not in choices:
        raise ReferenceDataError(f"{where}: `{key}` must be one of {', '.join(choices)}")
    return value


def _catalogue(data: dict, origin: str, version: int) -> Catalogue:
    areas = tuple(
        Area(
            _require(a, "id", f"{origin}: area #{n}"), _require(a, "name", f"{origin}: area #{n}")
        )
        for n, a in enumerate(data.get("area", []), start=1)
    )
    area_ids = {a.id for a in areas}
    items: list[Item] = []
    for n, entry in enumerate(data.get("item", []), start=1):
        where = f"{origin}: item #{n}"
        item_id = _require(entry, "id", where).casefold()
        area = item_id.split(".", 1)[0]
        if "." not in item_id or area not in area_ids:
            raise ReferenceDataError(f"{where}: id {item_id!r} must be <area>.<name>, area known")
        if any(i.id == item_id for i in items):
            raise ReferenceDataError(f"{where}: id {item_id!r} appears twice")
        standard, need = entry.get("standard", ""), entry.get("need", "")
        if not (isinstance(standard, str) and standard.strip()) and not (
            isinstance(need, str) and need.strip()
        ):
            raise ReferenceDataError(f"{where}: an item needs a `standard` or a `need`")
        target = entry.get("target")
        if target is not None and not MONTH.fullmatch(str(target)):
            raise ReferenceDataError(f"{where}: `target` must be YYYY-MM")
        items.append(
            Item(
                item_id,
                area,
                _require(entry, "name", where),
                standard=str(standard).strip(),
                source=str(entry.get("source", "")),
                need=str(need).strip(),
                solution=_strings(entry, "solution", where),
                partners=_strings(entry, "partners", where),
                scope=_choice(entry, "scope", SCOPES, where),
                status=_choice(entry, "status", ITEM_STATUSES, where),
                target=target,
                related=str(entry.get("related", "")),
            )
        )
    if not areas or not items:
        raise ReferenceDataError(f"{origin}: needs [[area]] and [[item]] entries")
    return Catalogue(areas, tuple(items), version)


def load_reference(countries: Path | None = None, catalogue: Path | None = None) -> Reference:
    """Both reference files, checked."""
    return Reference(load_countries(countries), load_catalogue(catalogue))
