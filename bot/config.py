"""The config file, validated into one typed model. Read in `main` only, never at import."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from commands.directory import (
    EMAIL_ONLY,
    check_kind,
    valid_email,
    valid_phone,
    valid_text,
)
from commands.framework import NATIONAL, ONE_PER_PERSON, Role
from commands.reference import Reference, ReferenceDataError, load_reference
from commands.sections import (
    CommitteeConfig,
    Duration,
    LimitsConfig,
    Section,
    Sections,
    known_language,
)
from commands.types import USER_ID
from storage.db import SUPPORTED_DRIVERS
from storage.roster import SeedEntry

# Secrets may come from the environment instead of the file; the environment wins.
ENV_OVERRIDES = {
    "RCC_MATRIX_PASSWORD": ("matrix", "password"),
    "RCC_MATRIX_ACCESS_TOKEN": ("matrix", "access_token"),
    "RCC_STORAGE_URL": ("storage", "url"),
    "RCC_SMTP_PASSWORD": ("smtp", "password"),
}


class ConfigError(Exception):
    """A config problem, as one line naming the file, the key and what is expected."""


class MatrixConfig(Section):
    homeserver: str = Field(description='the homeserver URL, e.g. "https://matrix.example.org"')
    user_id: str = Field(description='the bot\'s Matrix ID, e.g. "@rccbot:example.org"')
    password: SecretStr | None = Field(
        None, description="the bot account's password (or RCC_MATRIX_PASSWORD)"
    )
    access_token: SecretStr | None = Field(
        None,
        description="instead of a password, an access token issued for the bot's device (or "
        "RCC_MATRIX_ACCESS_TOKEN); with device_id",
    )
    device_id: str | None = Field(
        None, description='the device the access token belongs to, e.g. "RCCBOTA1B2C3"'
    )
    store_path: Path = Field(description='a directory for session and keys, e.g. "data/store"')
    device_name: str = Field("rcc-bot", description="a short device name")
    first_contact_within: Duration = Field(
        timedelta(minutes=5), description='a duration such as "5m" or "1h"'
    )

    @field_validator("homeserver")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v.rstrip("/")

    @field_validator("user_id")
    @classmethod
    def _user(cls, v: str) -> str:
        if not USER_ID.match(v):
            raise ValueError(f"{v!r} is not a Matrix user ID")
        return v

    @field_validator("device_id")
    @classmethod
    def _device(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z0-9_.:=-]{1,255}", v):
            raise ValueError(f"{v!r} is not a device ID")
        return v

    @model_validator(mode="after")
    def _token_has_device(self) -> MatrixConfig:
        if self.access_token is not None and not self.device_id:
            raise ValueError(
                "an access_token belongs to a device: set device_id too (a homeserver behind "
                "Matrix Authentication Service issues both)"
            )
        return self


class StorageConfig(Section):
    url: str = Field(
        description='a database URL, "sqlite+aiosqlite:///data/rcc.db" or '
        '"postgresql+asyncpg://user@host/db" (or RCC_STORAGE_URL)'
    )

    @field_validator("url")
    @classmethod
    def _driver(cls, v: str) -> str:
        if not v.startswith(tuple(f"{d}://" for d in SUPPORTED_DRIVERS)):
            raise ValueError("unsupported database driver")
        return v


class BotConfig(Section):
    undecryptable_notice_after: Duration = Field(
        timedelta(seconds=30), description='a duration such as "30s" or "2m"'
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="one of DEBUG, INFO, WARNING, ERROR"
    )


class SmtpConfig(Section):
    host: str = Field("", description='the SMTP server, e.g. "smtp.example.org" ("" : no email)')
    port: int = Field(587, ge=1, le=65535, description="a port number, e.g. 587")
    starttls: bool = Field(True, description="true or false: upgrade with STARTTLS (not with tls)")
    tls: bool = Field(False, description="true or false: TLS from the start (port 465)")
    from_: str = Field(
        "", alias="from", description='the sender\'s address, e.g. "rcc-bot@example.org"'
    )
    user: str = Field("", description="the login name, or empty for none")
    password: SecretStr | None = Field(None, description="set RCC_SMTP_PASSWORD instead")
    timeout: Duration = Field(timedelta(seconds=30), description='a duration such as "30s"')

    @field_validator("from_")
    @classmethod
    def _from(cls, v: str) -> str:
        return valid_email(v) if v else v

    @property
    def enabled(self) -> bool:
        return bool(self.host)


class HealthConfig(Section):
    listen: str = Field(
        "", description='"host:port" for /healthz and /metrics, e.g. "127.0.0.1:9090" (or "")'
    )

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        if v and not re.match(r"^[\w.\-\[\]:]*:\d{1,5}$", v):
            raise ValueError(f"{v!r} is not host:port")
        return v


class HaConfig(Section):
    """Two sites on one PostgreSQL: the node holding the lease acts, the other stands by."""

    role: Literal["single", "active", "standby"] = Field(
        "single",
        description="single (one node), active or standby (two sites on one PostgreSQL: "
        "whichever holds the lease acts; rcc-bot run --standby sets standby)",
    )
    node: str = Field(
        "", max_length=64, description='this node\'s name, e.g. "site-a" (default: its device)'
    )
    takeover_after: Duration = Field(
        timedelta(seconds=30),
        description='a duration such as "30s": how long a silent active node keeps the lease',
    )

    @property
    def enabled(self) -> bool:
        return self.role != "single"


class SecurityConfig(Section):
    exclude_insecure_devices: bool = Field(
        True, description="true or false (commands only from cross-signed devices)"
    )


class RosterEntryConfig(Section):
    user_id: str | None = Field(
        None, description='a Matrix user ID, e.g. "@jm1:example.org" (a contact: or none)'
    )
    role: Role = Field(description="one of ncpoc, chair, steering, rifc, admin, contact")
    country: str | None = Field(
        None, description='a country code, e.g. "JM" (NCPOCs and contacts only)'
    )
    kind: str | None = Field(
        None,
        description="a contact's kind (cirt, le-24x7, oas-cicte, other) or an NCPOC's "
        "(primary, alternate)",
    )
    agency: str | None = Field(None, description="the agency's name, up to 200 characters")
    title: str | None = Field(None, description="the person's title, up to 200 characters")
    email: str | None = Field(None, description='an email address, e.g. "cert@example.gov"')
    phone: str | None = Field(None, description='a phone number in E.164, e.g. "+18685550100"')
    lang: str | None = Field(None, description='a language code the bot speaks, e.g. "fr"')
    master_key: str | None = Field(
        None, description="the member's cross-signing master key (unpadded base64), or none"
    )

    @field_validator("master_key")
    @classmethod
    def _key(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z0-9+/]{43}", v.replace(" ", "")):
            raise ValueError(f"{v!r} is not a cross-signing master key (43 base64 characters)")
        return v.replace(" ", "") if v else v

    @field_validator("user_id")
    @classmethod
    def _user(cls, v: str | None) -> str | None:
        if v is not None and not USER_ID.match(v):
            raise ValueError(f"{v!r} is not a Matrix user ID")
        return v

    @property
    def key(self) -> str:
        """The roster's key: the Matrix ID, or for an email-only contact its address."""
        return self.user_id or f"{EMAIL_ONLY}{self.email}"

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return valid_phone(v) if v is not None else None

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        return valid_email(v) if v is not None else None

    @field_validator("lang")
    @classmethod
    def _lang(cls, v: str | None) -> str | None:
        return known_language(v) if v is not None else None

    @field_validator("agency", "title")
    @classmethod
    def _text(cls, v: str | None) -> str | None:
        return valid_text(v) if v is not None else None

    @property
    def details(self) -> tuple[tuple[str, str], ...]:
        """The contact details given, as the roster stores them (an NCPOC's kind is its rank)."""
        found = {
            "agency": self.agency,
            "title": self.title,
            "email": self.email,
            "phone": self.phone,
            "lang": self.lang,
        }
        if self.kind is not None:
            found["rank" if self.role is Role.NCPOC else "kind"] = self.kind
        return tuple(sorted((k, v) for k, v in found.items() if v is not None))


class Config(Section):
    """The config file: the core's sections here, each family's added from its router
    (`config_model`), read through `sections`."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    matrix: MatrixConfig = Field(description="a [matrix] section")
    storage: StorageConfig = Field(description="a [storage] section")
    committee: CommitteeConfig = Field(description="a [committee] section")
    bot: BotConfig = Field(BotConfig(), description="a [bot] section")
    smtp: SmtpConfig = Field(SmtpConfig(), description="an [smtp] section")
    health: HealthConfig = Field(HealthConfig(), description="a [health] section")
    security: SecurityConfig = Field(SecurityConfig(), description="a [security] section")
    ha: HaConfig = Field(HaConfig(), description="an [ha] section")
    limits: LimitsConfig = Field(LimitsConfig(), description="a [limits] section")
    roster: list[RosterEntryConfig] = Field([], description="[[roster]] entries")
    _reference: Reference | None = PrivateAttr(None)
    _seed: list[SeedEntry] = PrivateAttr(default_factory=list)

    @property
    def reference(self) -> Reference:
        assert self._reference is not None, "load the config with load_config()"
        return self._reference

    @property
    def templates_dir(self) -> Path | None:
        """The committee's own templates, read before the shipped ones (the reports family's
        `[reports] templates_dir`: the renderer is the core's, the key the family's)."""
        return getattr(getattr(self, "reports", None), "templates_dir", None)

    @property
    def pinned_identities(self) -> dict[str, str]:
        """Master keys the config vouches for (how the chair's new identity is confirmed)."""
        return {e.user_id: e.master_key for e in self.roster if e.master_key and e.user_id}

    @property
    def roster_seed(self) -> list[SeedEntry]:
        """The config roster with countries resolved to their codes."""
        return list(self._seed)

    @property
    def sections(self) -> Sections:
        """Every section as commands and jobs read them: `config.sections[MeetingsConfig]`."""
        single: list[Section] = [self.committee, self.limits]
        many: dict[type[Section], list[Section]] = {}
        for name, (model, is_list) in family_sections().items():
            value = getattr(self, name)
            if is_list:
                many[model] = list(value)
            else:
                single.append(value)
        return Sections(single, entries=many, mail=self.smtp.enabled)


def family_sections() -> dict[str, tuple[type[Section], bool]]:
    """The sections the families declare on their routers, by name."""
    from commands import all_routers

    found: dict[str, tuple[type[Section], bool]] = {}
    for router in all_routers():
        for name, declared in router.sections.items():
            if name in found or name in Config.model_fields:
                raise ValueError(f"config section [{name}] declared twice")
            found[name] = declared
    return found


@cache
def config_model() -> type[Config]:
    """The config file's model: the core's sections and every family's."""
    fields: dict[str, Any] = {}
    for name, (model, many) in family_sections().items():
        if many:
            fields[name] = (list[model], Field([], description=f"[[{name}]] entries"))  # type: ignore[valid-type]
        else:
            fields[name] = (model, Field(default_factory=model, description=f"a [{name}] section"))
    return create_model("Config", __base__=Config, **fields)


def load_config(path: Path | str, *, role: str | None = None) -> Config:
    """Read, validate and cross-check the config; raises `ConfigError` with one line.
    `role`: the `[ha] role` the command line gives (`rcc-bot run --standby`)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    _apply_environment(data)
    if role is not None and isinstance(data.setdefault("ha", {}), dict):
        data["ha"]["role"] = role
    try:
        config = config_model().model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc)) from None
    try:
        config._reference = load_reference(
            config.committee.countries_file, config.committee.catalogue_file
        )
    except ReferenceDataError as exc:
        raise ConfigError(f"{path}: [committee] reference data: {exc}") from None
    problems = _check_roster(path, config)
    if config.smtp.enabled and not config.smtp.from_:
        problems.append(
            f'{path}: [smtp] from: missing — expected an address, e.g. "rcc@example.org"'
        )
    if config.ha.enabled and not config.storage.url.startswith("postgresql"):
        problems.append(
            f"{path}: [ha] role: {config.ha.role!r} needs PostgreSQL — two sites share one "
            '[storage] url, e.g. "postgresql+asyncpg://rcc@/rcc?host=db1:5432&host=db2:5432'
            '&target_session_attrs=primary"'
        )
    if problems:
        raise ConfigError("\n".join(problems))
    return config


def _apply_environment(data: dict[str, Any]) -> None:
    for name, (section, key) in ENV_OVERRIDES.items():
        value = os.environ.get(name)
        if value:
            target = data.setdefault(section, {})
            if isinstance(target, dict):
                target[key] = value


def _describe(path: Path, exc: ValidationError) -> str:
    """Every problem pydantic found, a line each; an unknown key (usually a misspelt one,
    which also makes the real key "missing") first, with the closest known key."""
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    meant = {
        (*error["loc"][:-1], close[0])
        for error in errors
        if error["type"] == "extra_forbidden"
        for close in [_closest(error["loc"])]
        if close
    }  # the keys a misspelling was meant for: not also said to be missing
    kept = [e for e in errors if not (e["type"] == "missing" and tuple(e["loc"]) in meant)]
    return "\n".join(_problem(path, error) for error in kept)


def _closest(loc: tuple[Any, ...]) -> list[str]:
    return difflib.get_close_matches(str(loc[-1]), _known_keys(loc), n=1)


def _problem(path: Path, error: Any) -> str:
    where, expected = _locate(error["loc"])
    if error["type"] == "missing":
        problem = "missing"
    elif error["type"] == "extra_forbidden":
        problem, expected = "unknown key", ""
        close = _closest(error["loc"])
        problem += f" (did you mean {close[0]}?)" if close else " (config.example.toml lists all)"
    elif error["type"] in ("enum", "literal_error"):
        problem = f"{error['input']!r} is not valid"
    else:
        problem = error["msg"].removeprefix("Value error, ")
    tail = f" — expected {expected}" if expected else ""
    return f"{path}: {where}: {problem}{tail}"


def _locate(loc: tuple[Any, ...]) -> tuple[str, str]:
    """`[matrix] homeserver` and the expected-value text of the key at `loc`."""
    model: Any = Config
    section, expected = "", ""
    parts: list[str] = []
    for step in loc:
        if isinstance(step, int):  # an array of tables: [[roster]], [[broadcast.escalation]]
            table = ".".join([section.strip("[]"), *parts])
            section, parts = f"[[{table}]] #{step + 1}", []
            continue
        field = getattr(model, "model_fields", {}).get(step)
        if not section:
            section = f"[{step}]"
        else:
            parts.append(str(step))
        expected = field.description if field is not None and field.description else ""
        model = _inner_model(field)
    key = " ".join(parts)
    return (f"{section} {key}".strip() if key else section), expected


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    model: Any = Config
    for step in loc[:-1]:
        if isinstance(step, str) and model is not None:
            model = _inner_model(model.model_fields.get(step))
    return list(model.model_fields) if model is not None else []


def _inner_model(field: Any) -> Any:
    annotation = getattr(field, "annotation", None)
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _check_roster(path: Path, config: Config) -> list[str]:
    """Every roster entry checked; returns a line per problem (the seed is kept when there
    is none)."""
    seen: set[tuple[str, Role]] = set()
    per_country: dict[str, int] = {}
    codes: list[str | None] = [None] * len(config.roster)
    problems: list[str] = []
    for n, entry in enumerate(config.roster, start=1):
        where = f"{path}: [[roster]] #{n}"
        try:
            _check_entry(where, entry, seen)
            codes[n - 1] = _country_of(where, entry, config, per_country)
        except ConfigError as exc:
            problems.append(str(exc))
        seen.add((entry.key, entry.role))
    config._seed = [
        SeedEntry(e.key, e.role.value, code, e.details)
        for e, code in zip(config.roster, codes, strict=True)
    ]
    return problems


def _country_of(
    where: str, entry: RosterEntryConfig, config: Config, per_country: dict[str, int]
) -> str | None:
    """A national entry's country code, counted against the NCPOCs a country may have."""
    if entry.role not in NATIONAL:
        return None
    if entry.country is None:
        raise ConfigError(f'{where} country: missing — expected a country code, e.g. "JM"')
    countries = config.reference.countries
    found = countries.resolve(entry.country)
    if found is None:
        close = countries.suggest(entry.country)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ConfigError(
            f"{where} country: unknown country {entry.country!r} — {hint}expected one of the "
            f"{len(countries)} countries of [committee] countries_file, by code or name "
            f"({', '.join(c.code for c in countries)})"
        )
    if entry.role is Role.NCPOC:
        per_country[found.code] = per_country.get(found.code, 0) + 1
        limit = config.committee.max_ncpocs_per_country
        if per_country[found.code] > limit:
            raise ConfigError(f"{where}: more than {limit} NCPOCs for {found.code}")
    return found.code


def _check_entry(where: str, entry: RosterEntryConfig, seen: set[tuple[str, Role]]) -> None:
    """One roster entry on its own: reachable, listed once, one role, details it may have."""
    if entry.user_id is None and (entry.role is not Role.CONTACT or entry.email is None):
        raise ConfigError(
            f"{where} user_id: missing — expected a Matrix user ID (only a contact with an "
            "email address may have none: it is then reached by email)"
        )
    if (entry.key, entry.role) in seen:
        raise ConfigError(f"{where}: {entry.key} is listed twice as {entry.role.value}")
    same = (r for k, r in seen if k == entry.key and {r, entry.role} <= ONE_PER_PERSON)
    other = next(same, None)
    if other is not None and other is not entry.role:
        raise ConfigError(
            f"{where}: {entry.key} is {other.value} already — a person holds one role "
            "for one country (ncpoc, contact, chair or steering; admin may go with any)"
        )
    try:
        check_kind(entry.role.value, entry.kind)
    except ValueError as exc:
        raise ConfigError(f"{where} kind: {exc}") from None
    if entry.role in NATIONAL:
        return
    if entry.country is not None:
        raise ConfigError(f"{where} country: only NCPOCs and contacts have a country")
    agency_only = {k for k, _ in entry.details} <= {"agency"}
    if entry.details and not (entry.role is Role.STEERING and agency_only):
        raise ConfigError(
            f"{where}: contact details are for NCPOCs and contacts only (a Steering "
            "member may have an agency)"
        )
