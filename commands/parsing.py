"""From a message body to a command and its typed arguments.

`parse(body)` strips reply fallbacks and the prefix, finds the command (names case-insensitive,
aliases and unambiguous prefixes work), then binds positionals, `key=value` options (recognised
anywhere) and the trailing free text. Every failure is an `ArgumentError` naming what was wrong.

It meets people halfway: `key="a quoted value"` works for every option and for the free text
by its name (`title="Tax portal down"`); an option declared with `words` takes the following
words while they still make a valid value (`area=Legal environment`); two positionals typed
in the wrong order are swapped when only that reading fits (`!status set met legal.privacy`).
The bot's own notation is read back: a label written as the bot writes it (`TLP:AMBER`,
`[TLP:RED]`) is the command's `tlp=`, and a free text typed inside one pair of quotes
(straight or a phone's typographic ones) is the text without them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from commands.framework import ArgumentError, Command, Opt, ParseEnv, Pos, Router
from commands.i18n import _
from commands.tlp import spelled

MAX_COMMAND = 4000  # characters: a longer message is refused before it is read
NAME_SPAN = 200  # characters enough to name a command (what a stranger's message costs)
LONGEST_NAME = 40  # a first word longer than this is no command name (no suggestions)
OPENING = {'"': '"', "“": "”", "”": "”", "„": "“"}
CLOSING = {'"', "”", "“"}
OPENS = re.compile('["“”„]')
CLOSES = re.compile('["”“]')
RUN = re.compile('[^\\s"“”„]+')  # a run of a word's characters up to its next quote
WORD = re.compile("\\S+")
OPTION = re.compile(r"^([A-Za-z][A-Za-z0-9_+\-]*)=(.*)$", re.DOTALL)
LABEL = "tlp"  # the option a label written as the bot writes it stands for
LABEL_WORD = re.compile(r"^\[?tlp:([^\s\[\]]+?)\]?[.,;:]?$", re.IGNORECASE)


@dataclass(frozen=True)
class Token:
    raw: str  # as typed, quotes included: used to rebuild free text
    value: str  # quotes removed: used for arguments
    start: int
    end: int


class UnknownCommand(ArgumentError):
    """No command has that name; carries the closest known names."""

    def __init__(self, message: str, suggestions: list[str]) -> None:
        super().__init__(message)
        self.suggestions = suggestions


class IncompleteCommand(ArgumentError):
    """A family without a default was named without a (known) subcommand."""

    def __init__(self, message: str, family: str) -> None:
        super().__init__(message)
        self.family = family


def strip_reply_fallback(body: str) -> str:
    """Drop the `> quoted` lines a client puts before a reply, and the blank line after."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith(">"):
        return body
    i = 0
    while i < len(lines) and lines[i].startswith(">"):
        i += 1
    if i < len(lines) and not lines[i].strip():
        i += 1
    return "\n".join(lines[i:])


class TooLong(ArgumentError):
    """A command longer than the committee allows: refused before it is read."""


class Tokenizer:
    """Splits on whitespace; a balanced pair of quotes keeps spaces inside one word.

    Straight and typographic double quotes pair up; a quote with no partner is kept as a
    character, so apostrophes and stray quotes in free text never fail a command.

    Linear in the length of the text whatever it holds: each character is looked at once,
    and the closing quotes are found by one pass of a regular expression and a pointer that
    only moves forward (a search from every unpaired quote to the end was quadratic: 16,000
    unpaired quotes took 36 s). `steps` counts the work done, for tests and benchmarks.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.steps = 0
        opens = OPENS.search(text) is not None
        self._closers = [m.start() for m in CLOSES.finditer(text)] if opens else []
        self._at = 0  # the first closing quote not yet passed

    def closing_after(self, i: int) -> int:
        """The position of the first closing quote after `i` (-1: none)."""
        closers, at = self._closers, self._at
        while at < len(closers) and closers[at] <= i:
            at += 1
        self.steps += at - self._at
        self._at = at
        return closers[at] if at < len(closers) else -1

    def tokens(self) -> list[Token]:
        text, tokens = self.text, []
        i, n, looked = 0, len(text), 0
        while i < n:
            looked += 1
            if text[i].isspace():
                i += 1
                continue
            start, value = i, []
            while i < n and not text[i].isspace():
                # A run without quotes, or the rest of the word once no closing quote is
                # left, is taken whole (one step a character, at the speed of `re`).
                plain = (RUN if self._at < len(self._closers) else WORD).match(text, i)
                if plain is not None:
                    value.append(plain.group())
                    looked += plain.end() - i
                    i = plain.end()
                    continue
                looked += 1
                close_at = self.closing_after(i)  # text[i] is a quote
                if close_at > i:
                    value.append(text[i + 1 : close_at])
                    looked += close_at - i
                    i = close_at + 1
                else:
                    value.append(text[i])
                    i += 1
            tokens.append(Token(text[start:i], "".join(value), start, i))
        self.steps += looked
        return tokens


def tokenize(text: str) -> list[Token]:
    """The words of `text` (see Tokenizer)."""
    return Tokenizer(text).tokens()


@dataclass(frozen=True)
class Invocation:
    """A parsed command: what to run and with which typed arguments."""

    command: Command
    arguments: dict[str, Any]


class Registry:
    """All commands, looked up by family and subcommand."""

    def __init__(self, routers: Iterable[Router]) -> None:
        routers = list(routers)
        self.commands: list[Command] = []
        self.listeners = [listener for router in routers for listener in router.listeners]
        self._families: dict[str, dict[str | None, Command]] = {}
        self._family_names: dict[str, str] = {}
        self._sub_aliases: dict[tuple[str, str], str] = {}
        # The families that are topics of `!help`: name -> (what it is about, its commands).
        self.topics: dict[str, tuple[str, list[Command]]] = {
            r.name: (r.topic, r.commands) for r in routers if r.topic and r.commands
        }
        for router in routers:
            for command in router.commands:
                self._add(command)
            for family, aliases in router.family_aliases.items():
                for alias in aliases:
                    self._name(alias, family)

    def _add(self, command: Command) -> None:
        subs = self._families.setdefault(command.family, {})
        if command.sub in subs:
            raise ValueError(f"command {command.name!r} declared twice")
        subs[command.sub] = command
        self.commands.append(command)
        self._name(command.family, command.family)
        for alias in command.aliases:
            if command.sub is None:
                self._name(alias, command.family)
            else:
                self._sub_aliases[(command.family, alias.casefold())] = command.sub

    def _name(self, name: str, family: str) -> None:
        key = name.casefold()
        if self._family_names.get(key, family) != family:
            raise ValueError(f"name {name!r} is used by two command families")
        self._family_names[key] = family

    def names(self, word: str) -> bool:
        """Whether `word` is the exact name (or alias) of a command family."""
        return word.casefold() in self._family_names

    @property
    def families(self) -> list[str]:
        return list(self._families)

    def family(self, name: str) -> dict[str | None, Command]:
        return self._families[name]

    def find(self, words: list[str]) -> tuple[Command, int]:
        """The command named by the first words, and how many words its name took."""
        if not words:
            raise UnknownCommand(_("no command given; type !help for the list"), [])
        family = self._resolve_family(words[0])
        subs = self._families[family]
        default = subs.get(None)
        if len(words) > 1 and len(subs) > (1 if default else 0):
            sub = self._resolve_sub(family, words[1], allow_prefix=_takes_no_text(default))
            if sub is not None:
                return subs[sub], 2
        if default is not None:
            return default, 1
        names = sorted(s for s in subs if s)
        needs = _("!{family} needs one of: {names}.").format(family=family, names=", ".join(names))
        if len(words) > 1:
            needs += " " + _("{word!r} is not one of them.").format(word=words[1])
        raise IncompleteCommand(
            needs,
            family,
        )

    def _resolve_family(self, word: str) -> str:
        key = word.casefold()
        if key in self._family_names:
            return self._family_names[key]
        matches = {f for name, f in self._family_names.items() if name.startswith(key)}
        if len(matches) == 1:
            return matches.pop()
        if matches:
            raise UnknownCommand(
                _("!{word} is ambiguous: it could be {commands}").format(
                    word=word, commands=", ".join("!" + m for m in sorted(matches))
                ),
                sorted(matches),
            )
        close = (
            difflib.get_close_matches(key, list(self._family_names), n=3, cutoff=0.6)
            if len(key) <= LONGEST_NAME
            else []
        )
        suggestions = list(dict.fromkeys(self._family_names[c] for c in close))
        told = _("unknown command !{word}.").format(word=word)
        if suggestions:
            ways = _(" or ").join("!" + s for s in suggestions)
            told += " " + _("Did you mean {commands}?").format(commands=ways)
        raise UnknownCommand(
            told + " " + _("Type !help for the list."),
            suggestions,
        )

    def _resolve_sub(self, family: str, word: str, *, allow_prefix: bool) -> str | None:
        key = word.casefold()
        subs = [s for s in self._families[family] if s]
        if key in subs:
            return key
        if (family, key) in self._sub_aliases:
            return self._sub_aliases[(family, key)]
        if allow_prefix:
            matches = [s for s in subs if s.startswith(key)]
            if len(matches) == 1:
                return matches[0]
        return None


def _takes_no_text(command: Command | None) -> bool:
    # A word after `!broadcast` may be the message itself, so only exact subcommand names
    # are taken there; where the default takes no free text, prefixes are safe.
    return command is None or command.text is None


@dataclass(frozen=True)
class Found:
    """A command named in a message, before its arguments are read."""

    command: Command
    text: str
    tokens: list[Token]

    def bind(self, env: ParseEnv) -> dict[str, Any]:
        return bind(self.command, self.text, self.tokens, env)


def command_text(body: str, prefix: str = "!") -> str | None:
    """The message after the prefix when it is a command, else None; cheap (no tokenizing),
    so that everyday chatter and strangers' floods cost nothing more."""
    text = strip_reply_fallback(body).lstrip()
    if text.startswith(prefix) and text[len(prefix) : len(prefix) + 1].isalpha():
        return text[len(prefix) :]
    return None


def spaced_command(body: str, registry: Registry, prefix: str = "!") -> str | None:
    """ "! status": a command name after a space, meant as a command; the name, or None."""
    text = strip_reply_fallback(body).lstrip()
    if not text.startswith(prefix) or not text[len(prefix) : len(prefix) + 1].isspace():
        return None
    spaced = text[len(prefix) : len(prefix) + NAME_SPAN].split(maxsplit=1)
    return spaced[0].casefold() if spaced and registry.names(spaced[0]) else None


def find(
    body: str, registry: Registry, prefix: str = "!", *, limit: int = MAX_COMMAND
) -> Found | None:
    """The command a message body names, or None when the body is not a command."""
    text = command_text(body, prefix)
    if text is None:
        spaced = spaced_command(body, registry, prefix)
        if spaced is not None:  # meant as a command: say what is wrong rather than stay silent
            raise ArgumentError(
                _("write commands without a space after {prefix}: {prefix}{command}").format(
                    prefix=prefix, command=spaced
                )
            )
        return None
    return find_in(text, registry, limit=limit)


def find_in(text: str, registry: Registry, *, limit: int = MAX_COMMAND) -> Found:
    """The command in the text after the prefix, with its words."""
    if len(text) > limit:
        raise TooLong(
            _("the message is too long for a command (over {MAX_BODY} characters)").format(
                MAX_BODY=limit
            )
        )
    # A NUL character means nothing in chat text, and PostgreSQL cannot store one in a
    # text column: it is dropped here, so both backends keep the same thing.
    text = text.replace("\x00", "")
    tokens = tokenize(text)
    command, used = registry.find([t.value for t in tokens[:2]])
    return Found(command, text, tokens[used:])


def named(text: str, registry: Registry) -> Command:
    """The command the text after the prefix names, read from its first words only: what a
    message from someone who may not run it costs."""
    words = [t.value for t in tokenize(text[:NAME_SPAN])[:2]]
    return registry.find(words)[0]


def parse(body: str, registry: Registry, env: ParseEnv, prefix: str = "!") -> Invocation | None:
    """The command in a message body with its typed arguments, or None if not a command."""
    found = find(body, registry, prefix)
    return None if found is None else Invocation(found.command, found.bind(env))


def bind(command: Command, text: str, tokens: list[Token], env: ParseEnv) -> dict[str, Any]:
    """Typed arguments for `command` from the tokens after its name."""
    options, tails, rest, named_text = _split_options(command, tokens)
    arguments: dict[str, Any] = {}
    for opt in command.options.values():
        raw = options.get(opt.key)
        if raw is None:
            if opt.required:
                raise ArgumentError(_("missing {what}").format(what=f"{opt.key}={opt.metavar}"))
            arguments[opt.name] = None
        else:
            arguments[opt.name], unused = _parse_option(opt, raw, tails.get(opt.key, []), env)
            rest = sorted(rest + unused, key=lambda t: t.start)  # words the value did not take
    rest = _bind_positionals(command, rest, env, arguments)
    free = command.text
    if free is not None:
        typed = _unquoted(_free_text(text, rest, tokens))
        arguments[free.name] = " ".join(p for p in (named_text, typed) if p)
        if free.required and not arguments[free.name]:
            raise ArgumentError(_("missing {what}").format(what=free.metavar))
    elif rest:
        raise _unexpected(command, rest)
    return arguments


def _bind_positionals(
    command: Command, rest: list[Token], env: ParseEnv, arguments: dict[str, Any]
) -> list[Token]:
    """Positionals in order; two adjacent ones typed the other way round are swapped when
    only that reading fits. Returns the words left for the free text."""
    positionals = command.positionals
    i = 0
    while i < len(positionals):
        pos = positionals[i]
        if not rest:
            if not pos.optional:
                raise ArgumentError(_("missing {what}").format(what=pos.metavar))
            arguments[pos.name] = None
            i += 1
            continue
        try:
            arguments[pos.name], used = _parse_words(pos, rest, env)
            rest = rest[used:]
        except ArgumentError as exc:
            swapped = _swapped(positionals, i, rest, env)
            if swapped is not None:
                (first, second), used = swapped
                arguments[pos.name], arguments[positionals[i + 1].name] = first, second
                rest = rest[used:]
                i += 2
                continue
            if not pos.optional or command.text is None:
                raise exc from None
            arguments[pos.name] = None  # an optional word that does not fit starts the text
        i += 1
    return rest


def _swapped(
    positionals: tuple[Pos, ...], i: int, rest: list[Token], env: ParseEnv
) -> tuple[tuple[Any, Any], int] | None:
    if i + 1 >= len(positionals) or positionals[i].optional or positionals[i + 1].optional:
        return None
    this, following = positionals[i], positionals[i + 1]
    try:
        second, used = _parse_words(following, rest, env)
        first, more = _parse_words(this, rest[used:], env)
    except ArgumentError:
        return None
    return (first, second), used + more


def _parse_words(pos: Pos, rest: list[Token], env: ParseEnv) -> tuple[Any, int]:
    """The value of a positional, trying the longest run of words first."""
    errors: list[ArgumentError] = []
    for n in range(min(pos.words, len(rest)), 0, -1):
        try:
            return pos.parse(" ".join(t.value for t in rest[:n]), env), n
        except ArgumentError as exc:
            errors.append(exc)
    raise next((e for e in errors if e.specific), errors[0])


def _split_options(
    command: Command, tokens: list[Token]
) -> tuple[dict[str, str], dict[str, list[Token]], list[Token], str]:
    """The options' values, the words after each that may continue it, the other words, and
    the free text when it was given by name (`title="..."`)."""
    known = command.options
    free = command.text.name.casefold() if command.text else None
    options: dict[str, str] = {}
    tails: dict[str, list[Token]] = {}
    rest: list[Token] = []
    named_text = ""
    taking: tuple[str, int] | None = None  # an option still taking words, and how many more
    for token in tokens:
        match = OPTION.match(token.raw)
        key = match.group(1).casefold() if match else None
        if key is None and LABEL in known and _label_word(token, options, tails):
            taking = None
            continue
        if taking is not None and key is None and taking[1] > 0:
            tails[taking[0]].append(token)
            taking = (taking[0], taking[1] - 1)
            continue
        taking = None
        if key is not None and key == free and key not in known:
            if named_text:
                raise ArgumentError(_("{key}= is given twice").format(key=key))
            named_text = token.value.split("=", 1)[1].strip()
            continue
        if key is None or key not in known:
            rest.append(token)
            continue
        if key == LABEL and key in options:  # a label written twice must agree
            _one_label(options, token.value.split("=", 1)[1].strip())
            continue
        if key in options:
            raise ArgumentError(_("{key}= is given twice").format(key=key))
        value = token.value.split("=", 1)[1].strip()
        if not value:
            raise ArgumentError(
                _("{key}= needs a value: {form}").format(
                    key=key, form=f"{key}={known[key].metavar}"
                )
            )
        options[key] = value
        tails[key] = []
        if known[key].words > 1 and token.raw.split("=", 1)[1][:1] not in OPENING:
            taking = (key, known[key].words - 1)
    return options, tails, rest, named_text


def _label_word(token: Token, options: dict[str, str], tails: dict[str, list[Token]]) -> bool:
    """`TLP:AMBER` as the bot writes it: taken as the label (True), said once."""
    word = LABEL_WORD.match(token.value)
    if word is None:
        return False
    _one_label(options, word.group(1))
    tails.setdefault(LABEL, [])
    return True


def _one_label(options: dict[str, str], given: str) -> None:
    """Keep the label given (as `tlp=` or as `TLP:AMBER`); a second one must say the same."""
    before = options.get(LABEL)
    if before is not None and spelled(before) != spelled(given):
        raise ArgumentError(
            _("two labels are given ({first} and {second}); give one").format(
                first=f"TLP:{spelled(before).upper()}", second=f"TLP:{spelled(given).upper()}"
            )
        )
    options.setdefault(LABEL, given)


def _parse_option(opt: Opt, raw: str, tail: list[Token], env: ParseEnv) -> tuple[Any, list[Token]]:
    """The value of an option, with as many of the following words as still make a valid
    value (the longest first); returns the words it did not take."""
    error: ArgumentError | None = None
    for n in range(len(tail), -1, -1):
        try:
            value = opt.parse(" ".join([raw, *(t.value for t in tail[:n])]), env)
        except ArgumentError as exc:
            error = exc  # the shortest reading's error is the one to show
            continue
        return value, tail[n:]
    assert error is not None
    raise ArgumentError(f"{opt.key}=: {error.message}") from None


def _free_text(text: str, rest: list[Token], tokens: list[Token]) -> str:
    """The remaining words with their original spacing; removed options leave one space."""
    if not rest:
        return ""
    kept = {id(t) for t in rest}
    parts: list[str] = []
    previous: Token | None = None
    skipped = False
    for token in tokens:
        if id(token) not in kept:
            skipped = previous is not None or skipped
            continue
        if previous is not None:
            gap = text[previous.end : token.start]
            parts.append(("\n" if "\n" in gap else " ") if skipped else gap)
        parts.append(token.raw)
        previous, skipped = token, False
    return "".join(parts).strip()


def _unquoted(text: str) -> str:
    """A text typed inside one pair of quotes, without them (`“CSIRT set-up”`); quotes
    that only open or close part of it stay."""
    if len(text) < 2 or text[0] not in OPENING or text[-1] not in CLOSING:
        return text
    inner = text[1:-1]
    if OPENS.search(inner) or CLOSES.search(inner):
        return text  # `"a" and "b"`: not one quoted text
    return inner.strip()


def _unexpected(command: Command, rest: list[Token]) -> ArgumentError:
    first = rest[0].raw
    if OPTION.match(first) and command.options:
        keys = ", ".join(f"{k}=" for k in command.options)
        return ArgumentError(
            _("unknown option {value}= (this command takes {keys})").format(
                value=first.split("=", 1)[0], keys=keys
            )
        )
    if OPTION.match(first):
        return ArgumentError(
            _("this command takes no options, but got {value}=").format(
                value=first.split("=", 1)[0]
            )
        )
    extra = " ".join(t.raw for t in rest)
    if len(extra) > 60:
        extra = extra[:57] + "..."
    return ArgumentError(f"unexpected {extra!r}")
