"""Config loading: the example is valid; every broken config fails with one line naming the key."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_config
from commands.broadcast.send import BroadcastConfig
from tests.helpers import config_text

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config.example.toml"
URL = "sqlite+aiosqlite:///data/rcc.db"


def check(tmp_path: Path, text: str, capsys) -> tuple[int, str]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    code = main(["check-config", "--config", str(path)])
    captured = capsys.readouterr()
    return code, (captured.err + captured.out).strip()


def test_example_config_is_valid(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # its data/ directory is made where the bot runs
    assert main(["check-config", "--config", str(EXAMPLE), "--offline"]) == 0
    assert "is valid" in capsys.readouterr().out


def test_console_script_checks_config(tmp_path):
    script = Path(sys.executable).with_name("rcc-bot")
    ok = subprocess.run(
        [script, "check-config", "--config", EXAMPLE, "--offline"],
        capture_output=True,
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(
        [script, "check-config", "--config", "/nonexistent.toml"], capture_output=True, text=True
    )
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "error: /nonexistent.toml: cannot read the config file (No such file or directory)"
    ]


BROKEN = [
    # (what to change in the example, text the one line must contain)
    (('homeserver = "https://matrix.example.org"', ""), "[matrix] homeserver: missing"),
    (('homeserver = "https', 'homeserver = "ftp'), "[matrix] homeserver: 'ftp://"),
    (("America/Port_of_Spain", "Mars/Olympus"), "[committee] timezone: 'Mars/Olympus' is not"),
    (('role = "steering"', 'role = "boss"'), "[[roster]] #2 role: 'boss' is not valid"),
    (('country = "TT"', 'country = "Atlantis"'), "[[roster]] #4 country: unknown country"),
    (('role = "chair"', 'role = "chair"\ncountry = "JM"'), "#1 country: only NCPOCs"),
    (('country = "TT"\n', ""), "[[roster]] #4 country: missing"),
    (
        ("homeserver =", "homeservr ="),
        "[matrix] homeservr: unknown key (did you mean homeserver?)",
    ),
    (('url = "sqlite+aiosqlite', 'url = "mysql'), "[storage] url: unsupported database driver"),
    (
        ('after = "30s"', 'after = "soon"'),
        "[bot] undecryptable_notice_after: 'soon' is not a duration",
    ),
    (('user_id = "@rccbot:example.org"', 'user_id = "rccbot"'), "[matrix] user_id: 'rccbot'"),
    (('rcc_room = "#rcc:example.org"', 'rcc_room = "rcc"'), "[committee] rcc_room: 'rcc' is"),
    (("max_ncpocs_per_country = 2", "max_ncpocs_per_country = 0"), "max_ncpocs_per_country"),
    (('log_level = "INFO"', 'log_level = "LOUD"'), "[bot] log_level: 'LOUD' is not valid"),
    (("[storage]", "[storage]\n[storage]"), "not valid TOML"),
    (
        ("# countries_file =", 'countries_file = "/nonexistent/countries.toml"\n#'),
        "[committee] reference data: /nonexistent/countries.toml: cannot read",
    ),
    (('default_tlp = "amber"', 'default_tlp = "purple"'), "[broadcast] default_tlp: 'purple'"),
    (('kind = "cirt"', 'kind = "police"'), "[[roster]] #5 kind: a contact's kind is one of"),
    (('kind = "primary"', 'kind = "cirt"'), "#4 kind: an NCPOC is kind=primary or kind=alternate"),
    (('phone = "+18685550111"', 'phone = "555-0111"'), "#5 phone: '555-0111' is not a phone"),
    (('email = "duty@', 'email = "duty-at-'), "[[roster]] #5 email: 'duty-at-ttcsirt"),
    (('role = "contact"\ncountry = "TT"', 'role = "contact"'), "#5 country: missing"),
    (
        ('role = "steering"', 'role = "steering"\nphone = "+18685550100"'),
        "for NCPOCs and contacts",
    ),
]


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ('{ after = "10m", notify = ["primary", "police"] }', "police: not one of"),
        ('{ after = "20m", notify = ["primary"] }, { after = "10m", notify = ["chair"] }',
         "steps must come in order"),
    ],
)  # fmt: skip
def test_a_broken_escalation_chain_is_named(tmp_path, capsys, steps, expected):
    text = EXAMPLE.read_text().replace('default_tlp = "amber"', f"escalation = [{steps}]", 1)
    code, output = check(tmp_path, text, capsys)
    assert code == 1 and "escalation" in output and expected in output, output


def test_the_escalation_chain_is_read_or_built(tmp_path):
    from commands.broadcast.escalation import Step

    steps = '[{ after = "5m", notify = ["primary"] }, { after = "1h", notify = ["all", "chair"] }]'
    path = tmp_path / "c.toml"
    path.write_text(EXAMPLE.read_text().replace('default_tlp = "amber"', f"escalation = {steps}"))
    assert load_config(path).sections[BroadcastConfig].chain() == (
        Step(timedelta(minutes=5), ("primary",)),
        Step(timedelta(hours=1), ("all", "chair")),
    )
    # every renotify_after, the next tier
    default = load_config(EXAMPLE).sections[BroadcastConfig].chain()
    assert [s.after for s in default] == [timedelta(minutes=15 * k) for k in (1, 2, 3)]
    assert [s.notify for s in default] == [
        ("primary", "chair"),
        ("alternate", "chair"),
        ("contacts", "chair"),
    ]


@pytest.mark.parametrize(("change", "expected"), BROKEN)
def test_a_broken_config_fails_with_a_line_for_its_problem(tmp_path, capsys, change, expected):
    text = EXAMPLE.read_text()
    assert change[0] in text, "the test's change must apply to the example"
    code, output = check(tmp_path, text.replace(change[0], change[1], 1), capsys)
    assert code == 1
    assert len(output.splitlines()) == 1, output
    assert "Traceback" not in output
    assert output.startswith(f"error: {tmp_path / 'config.toml'}: ")
    assert expected in output


def test_too_many_ncpocs_for_one_country(tmp_path):
    roster = "".join(
        f'[[roster]]\nuser_id = "@jm{n}:x.org"\nrole = "ncpoc"\ncountry = "JM"\n' for n in range(3)
    )
    (tmp_path / "c.toml").write_text(config_text(URL, roster=roster))
    with pytest.raises(ConfigError, match=r"#3: more than 2 NCPOCs for JM"):
        load_config(tmp_path / "c.toml")


def test_same_role_listed_twice(tmp_path):
    roster = '[[roster]]\nuser_id = "@c:x.org"\nrole = "chair"\n' * 2
    (tmp_path / "c.toml").write_text(config_text(URL, roster=roster))
    with pytest.raises(ConfigError, match=r"#2: @c:x.org is listed twice as chair"):
        load_config(tmp_path / "c.toml")


def test_secrets_from_environment(tmp_path, monkeypatch):
    text = config_text(URL).replace('password = "secret-password"\n', "")
    (tmp_path / "c.toml").write_text(text)
    assert load_config(tmp_path / "c.toml").matrix.password is None
    monkeypatch.setenv("RCC_MATRIX_PASSWORD", "from-env")
    monkeypatch.setenv("RCC_STORAGE_URL", "postgresql+asyncpg://rcc:pw@db/rcc")
    config = load_config(tmp_path / "c.toml")
    assert config.matrix.password.get_secret_value() == "from-env"
    assert config.storage.url == "postgresql+asyncpg://rcc:pw@db/rcc"
    assert "from-env" not in repr(config)


def test_values_are_typed_and_countries_resolved(tmp_path):
    (tmp_path / "c.toml").write_text(config_text(URL))
    config = load_config(tmp_path / "c.toml")
    assert config.bot.undecryptable_notice_after == timedelta(seconds=30)
    assert config.committee.zone.key == "America/Port_of_Spain"
    seeded = {(e.user_id, e.role, e.country) for e in config.roster_seed}
    assert ("@tt1:test.org", "ncpoc", "TT") in seeded  # given as "Trinidad and Tobago"


def test_replacement_reference_files(tmp_path):
    countries = tmp_path / "countries.toml"
    countries.write_text('[[country]]\ncode = "JM"\nname = "Jamaica"\nzone = "America/Jamaica"\n')
    extra = f'countries_file = "{countries}"'
    (tmp_path / "c.toml").write_text(
        config_text(URL, extra=extra, roster='[[roster]]\nuser_id="@c:x.org"\nrole="chair"\n')
    )
    config = load_config(tmp_path / "c.toml")
    assert [c.code for c in config.reference.countries] == ["JM"]
    countries.write_text('[[country]]\ncode = "JM"\nname = "Jamaica"\nzone = "Nowhere/City"\n')
    with pytest.raises(ConfigError, match="zone 'Nowhere/City' is not an IANA time zone"):
        load_config(tmp_path / "c.toml")


def test_db_upgrade_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("bot.cli.configure_logging", lambda level: None)  # keep pytest's
    url = f"sqlite+aiosqlite:///{tmp_path / 'rcc.db'}"
    (tmp_path / "c.toml").write_text(config_text(url))
    assert main(["db", "upgrade", "--config", str(tmp_path / "c.toml")]) == 0
    assert "0001" in capsys.readouterr().out
    assert main(["db", "upgrade", "--config", str(tmp_path / "c.toml")]) == 0
    assert "nothing to apply" in capsys.readouterr().out


def test_an_smtp_server_needs_a_from_address(tmp_path, capsys):
    text = EXAMPLE.read_text().replace('\nhost = ""', '\nhost = "smtp.example.org"', 1)
    text = text.replace('from = "rcc-bot@example.org"', 'from = ""')
    code, output = check(tmp_path, text, capsys)
    assert code == 1 and "[smtp] from: missing" in output, output


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ('role = "contact"\ncountry = "BB"\nkind = "cirt"\n', "#1 user_id: missing"),
        ('role = "ncpoc"\ncountry = "BB"\nemail = "a@b.example"\n', "#1 user_id: missing"),
    ],
)
def test_only_a_contact_with_an_email_address_may_have_no_matrix_id(tmp_path, entry, expected):
    (tmp_path / "c.toml").write_text(config_text(URL, roster=f"[[roster]]\n{entry}"))
    with pytest.raises(ConfigError, match=expected):
        load_config(tmp_path / "c.toml")
    by_email = (
        '[[roster]]\nrole = "contact"\ncountry = "BB"\nkind = "cirt"\nemail = "a@b.example"\n'
    )
    (tmp_path / "ok.toml").write_text(config_text(URL, roster=by_email))
    (seeded,) = load_config(tmp_path / "ok.toml").roster_seed
    assert seeded.user_id == "mailto:a@b.example"


def _example_keys() -> dict[str, dict[str, bool]]:
    """Each table of the example file, with its keys (set or commented out) and whether a
    comment explains each: a comment line in the paragraph above it."""
    tables: dict[str, dict[str, bool]] = {}
    above: dict[str, bool] = {}  # a list of tables is explained once, above its first
    table, explained = "", False
    for line in EXAMPLE.read_text().splitlines():
        header = re.fullmatch(r"#?\s*(\[\[?)([\w.]+)\]\]?", line.strip())
        if header and (line.startswith("[") or header.group(1) == "[["):
            table = header.group(2)
            above.setdefault(table, explained and header.group(1) == "[[")
            explained = False
            tables.setdefault(table, {})
            continue
        key = re.match(r"^#?\s?(\w+)\s*=", line)
        if key and table:
            tables[table].setdefault(key.group(1), explained or above[table])
        elif not line.strip():
            explained = False
        elif line.startswith("#"):
            explained = True
    return tables


def _model_tables() -> dict[str, type]:
    from bot.config import Config, family_sections

    found: dict[str, type] = {}
    for name, field in Config.model_fields.items():
        model = field.annotation
        model = getattr(model, "__args__", (model,))[0] if name == "roster" else model
        found[name] = model
    for name, (model, _many) in family_sections().items():
        found[name] = model
    for name, model in list(found.items()):
        for key, field in model.model_fields.items():
            inner = getattr(field.annotation, "__args__", (None,))[0]
            listed = getattr(field.annotation, "__origin__", None) is list
            if listed and isinstance(inner, type) and hasattr(inner, "model_fields"):
                found[f"{name}.{key}"] = inner  # a list of tables, such as escalation steps
    return found


def test_the_example_lists_every_key_of_every_section_with_a_comment():
    """config.example.toml is checked against the sections' models, the core's and each
    family's: every key is there (set, or commented out with its default), explained."""
    tables = _example_keys()
    for table, model in _model_tables().items():
        assert table in tables, f"config.example.toml has no [{table}]"
        for key, field in model.model_fields.items():
            if f"{table}.{key}" in _model_tables():
                continue  # a list of tables: listed as [[table.key]]
            name = field.alias or key
            assert name in tables[table], f"config.example.toml: [{table}] {name} is missing"
            assert tables[table][name], f"config.example.toml: [{table}] {name} is unexplained"
    for table, keys in tables.items():
        model = _model_tables().get(table)
        assert model is not None, f"config.example.toml: [{table}] is no section"
        known = {f.alias or k for k, f in model.model_fields.items()}
        assert set(keys) <= known, f"[{table}]: {sorted(set(keys) - known)} are not keys"


def test_every_problem_is_listed_at_once(tmp_path, capsys):
    text = EXAMPLE.read_text()
    for old, new in (
        ('timezone = "America/Port_of_Spain"', 'timezone = "Mars/Olympus"'),
        ("max_ncpocs_per_country = 2", "max_ncpocs_per_country = 0"),
        ("homeserver =", "homeservr ="),
    ):
        assert old in text
        text = text.replace(old, new, 1)
    code, output = check(tmp_path, text, capsys)
    lines = output.splitlines()
    assert code == 1 and len(lines) == 3, output
    assert all(line.startswith("error: ") for line in lines)
    assert "homeservr: unknown key (did you mean homeserver?)" in lines[0]
    assert "timezone" in output and "max_ncpocs_per_country" in output
    assert "homeserver: missing" not in output, "the misspelling says it already"


def test_roster_problems_are_listed_together_with_a_hint(tmp_path, capsys):
    text = EXAMPLE.read_text().replace('country = "JM"', 'country = "UK"', 1)
    text = text.replace('country = "TT"', 'country = "Jamica"', 1)
    code, output = check(tmp_path, text, capsys)
    assert code == 1 and len(output.splitlines()) == 2, output
    assert "unknown country 'UK' — expected one of the 20 countries" in output
    assert "unknown country 'Jamica' — did you mean JM?" in output
