"""The config file, section by section: each family declares the part it reads as a model
with its defaults and what each key expects, and registers it on its router
(`router.section("meetings", MeetingsConfig)`); the core builds the file's model from them
(`bot.config`). A command reads its family's as `ctx.config[MeetingsConfig]`.

The committee's own section and the limits are read by every family, so they live here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from commands import i18n
from commands.types import parse_duration


class Section(BaseModel):
    """One `[section]` of the config file (or one entry of a `[[list]]`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return timedelta(seconds=value)
    return value


def _offsets(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(parse_duration(part) for part in value.split(",") if part.strip())
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
Offsets = Annotated[tuple[timedelta, ...], BeforeValidator(_offsets)]
ROOM = re.compile(r"^(![^\s:]+(:\S+)?|#[^\s:]+:\S+)$")


def known_language(code: str) -> str:
    found = i18n.known(code)
    if found is None:
        raise ValueError(f"{code!r} is not one of {', '.join(i18n.languages())}")
    return found


class CommitteeConfig(Section):
    name: str = Field("Regional Cyber Committee", description="the committee's name")
    timezone: str = Field(description='an IANA time zone, e.g. "America/Port_of_Spain"')
    rcc_room: str = Field(description='a room ID or alias, e.g. "#rcc:example.org"')
    steering_room: str = Field(description='a room ID or alias, e.g. "#steering:example.org"')
    command_prefix: str = Field("!", description="one to three non-space characters, e.g. !")
    max_ncpocs_per_country: int = Field(2, ge=1, le=10, description="a number from 1 to 10")
    countries_file: Path | None = Field(None, description="a path to a countries TOML file")
    catalogue_file: Path | None = Field(None, description="a path to a catalogue TOML file")
    language: str = Field(
        "en", description='the rooms\' language, and that of people who chose none, e.g. "fr"'
    )

    @field_validator("language")
    @classmethod
    def _language(cls, v: str) -> str:
        return known_language(v)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{v!r} is not a known IANA time zone") from None
        return v

    @field_validator("rcc_room", "steering_room")
    @classmethod
    def _room(cls, v: str) -> str:
        if not ROOM.match(v):
            raise ValueError(f"{v!r} is neither a room ID (!id) nor an alias (#name:server)")
        return v

    @field_validator("command_prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if not 1 <= len(v) <= 3 or any(c.isspace() or c.isalnum() for c in v):
            raise ValueError(f"{v!r} is not a usable prefix")
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class LimitsConfig(Section):
    max_command_chars: int = Field(
        4000, ge=100, le=100_000, description="a number of characters, e.g. 4000"
    )


S = TypeVar("S", bound=Section)


class Sections:
    """The config's sections as validated, found by their model: `config[MeetingsConfig]`.
    A section the file leaves out has its defaults; a `[[list]]` section is read with
    `entries`. `mail`: whether an SMTP server is configured (email fallbacks depend on it)."""

    def __init__(
        self,
        values: Iterable[Section] = (),
        *,
        entries: Mapping[type[Section], Iterable[Section]] | None = None,
        mail: bool = False,
    ) -> None:
        self._by_model: dict[type[Section], Section] = {type(v): v for v in values}
        self._entries = {model: tuple(found) for model, found in (entries or {}).items()}
        self.mail = mail

    def __getitem__(self, model: type[S]) -> S:
        found = self._by_model.get(model)
        if found is None:
            found = self._by_model[model] = model()
        return cast(S, found)

    def entries(self, model: type[S]) -> tuple[S, ...]:
        return cast(tuple[S, ...], self._entries.get(model, ()))

    @property
    def committee(self) -> CommitteeConfig:
        return self[CommitteeConfig]

    def replaced(self, section: Section) -> Sections:
        """These sections with one replaced (a test's, or a command's own variant)."""
        copy = Sections(self._by_model.values(), entries=self._entries, mail=self.mail)
        copy._by_model[type(section)] = section
        return copy
