"""An incident's observables (indicators), as typed by people who copy them from reports:
defanged (`hxxp://evil[.]example`), with capitals, Unicode domain names, or a hash of any
common length. Each is checked and normalised to one spelling, so that the same indicator
seen by two countries is recognised as one: refanged, domains in lower case and IDNA 2008
ASCII (punycode), IP addresses in their canonical form, URLs with a normalised host, hashes
in lower case and named by their length.

Each is also kept as a keyed hash (HMAC-SHA256 with a secret the bot keeps in its store),
which is what incidents are matched on: two countries learn that they share an indicator
without the bot showing either the other's value.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import idna

from commands.framework import ArgumentError, Labelled, ParseEnv
from commands.i18n import N_, _
from storage.state import StateStore

KINDS = ("ip", "domain", "url", "hash", "email")
HASHES = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
SECRET = "observable_key"  # the bot's state: the key of the keyed hashes
MAX_VALUE = 2000

# Defanged spellings, as threat reports write them so that nobody clicks.
DEFANGED = [
    (re.compile(r"^hxxp", re.I), "http"),
    (re.compile(r"^fxp", re.I), "ftp"),
    (re.compile(r"\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\}", re.I), "."),
    (re.compile(r"\[\s*:\s*\]"), ":"),
    (re.compile(r"\[\s*(?:@|at)\s*\]|\(\s*(?:@|at)\s*\)", re.I), "@"),
    (re.compile(r"\[\s*/\s*\]"), "/"),
]
HEX = re.compile(r"[0-9a-f]+")


def refang(text: str) -> str:
    text = text.strip().strip("<>\"'")
    for pattern, plain in DEFANGED:
        text = pattern.sub(plain, text)
    return text


def domain(text: str) -> str:
    """A domain name in lower-case ASCII (IDNA 2008), its final dot dropped."""
    name = refang(text).rstrip(".")
    if not name or len(name) > 253 or "." not in name or name.startswith("."):
        raise ValueError
    try:
        ascii_name = idna.encode(name, uts46=True).decode("ascii")
    except idna.IDNAError:
        raise ValueError from None
    labels = ascii_name.split(".")
    if not all(re.fullmatch(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?", x) for x in labels):
        raise ValueError
    if labels[-1].isdigit():  # an IP address is not a domain
        raise ValueError
    return ascii_name


def address(text: str) -> str:
    """An IPv4 or IPv6 address in its canonical form."""
    return str(ipaddress.ip_address(refang(text).strip("[]")))


def url(text: str) -> str:
    """A URL with its scheme and host in lower case, its host as `domain` or `address`
    writes it; path and query as given."""
    parts = urlsplit(refang(text))
    if parts.scheme.casefold() not in ("http", "https", "ftp") or not parts.hostname:
        raise ValueError
    host = parts.hostname
    try:
        host = address(host)
        host = f"[{host}]" if ":" in host else host
    except ValueError:
        host = domain(host)
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme.casefold(), host + port, parts.path or "/", parts.query, ""))


def file_hash(text: str) -> str:
    """A hash in lower-case hex, of a length that names its algorithm."""
    value = text.strip().casefold()
    if len(value) not in HASHES or not HEX.fullmatch(value):
        raise ValueError
    return value


def email(text: str) -> str:
    """An email address with its domain normalised (the local part kept as written)."""
    local, at, host = refang(text).rpartition("@")
    if not at or not local or len(local) > 64 or any(c.isspace() for c in local):
        raise ValueError
    return f"{local}@{domain(host)}"


NORMALISE = {"ip": address, "domain": domain, "url": url, "hash": file_hash, "email": email}
EXPECTED = {
    "ip": N_("an IPv4 or IPv6 address"),
    "domain": N_("a domain name"),
    "url": N_("an http, https or ftp URL"),
    "hash": N_("an MD5, SHA-1, SHA-256 or SHA-512 hash in hex"),
    "email": N_("an email address"),
}


def parser(kind: str) -> Labelled:
    """`ip=`, `domain=`, …: one or more values, comma-separated, each normalised; one that
    is not what it says refuses the whole command."""
    normalise = NORMALISE[kind]

    def parse(text: str, _env: ParseEnv) -> list[str]:
        values = []
        for part in (p for p in text.split(",") if p.strip()):
            if len(part) > MAX_VALUE:
                raise ArgumentError(_("{kind}= is too long").format(kind=kind))
            try:
                values.append(normalise(part))
            except ValueError:
                raise ArgumentError(
                    _("{value!r} is not {expected}").format(
                        value=part.strip(), expected=_(EXPECTED[kind])
                    )
                ) from None
        return values

    return Labelled(parse, "a,b")


def kind_of(kind: str, value: str) -> str:
    """What is stored and exported: a hash by its algorithm, the rest by kind."""
    return HASHES[len(value)] if kind == "hash" else kind


async def key(state: StateStore, now: datetime) -> bytes:
    """The secret of the keyed hashes, made once and kept in the bot's state."""
    kept = await state.get(SECRET)
    if kept is None:
        kept = secrets.token_hex(32)
        await state.set(SECRET, kept, now=now)
    return bytes.fromhex(kept)


def keyed(secret: bytes, kind: str, value: str) -> str:
    """What observables are matched on: equal for the same indicator, meaningless without
    the secret. A URL's host also matches its domain, an email address its domain."""
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def defanged(kind: str, value: str) -> str:
    """As shown to people: an address, domain or link nobody opens by a slip of the finger
    (`hxxps://evil[.]example/`), as threat reports write them; hashes as they are."""
    if kind in HASHES.values():
        return value
    shown = re.sub(r"^http", "hxxp", value, flags=re.I) if kind == "url" else value
    shown = shown.replace("@", "[@]")
    if kind == "ip" and ":" in value:
        return value  # no client takes an IPv6 address for a link
    head, sep, tail = shown.partition("://") if kind == "url" else ("", "", shown)
    host, slash, path = tail.partition("/")
    return head + sep + host.replace(".", "[.]") + slash + path
