"""The wheel, installed into a clean virtualenv as the Dockerfile installs it (the runtime
lock file, hashes checked, then the wheel) works alone: a missing dependency or data file
(templates, reference data, migrations) shows up here."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns("__pycache__")

pytestmark = pytest.mark.timeout(600)


def run(*args, cwd) -> str:
    done = subprocess.run(args, capture_output=True, text=True, cwd=cwd, timeout=500)
    assert done.returncode == 0, f"{args}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


def locked_packages() -> Path:
    """A folder holding exactly the runtime lock's packages (hashes checked), built once per
    version of the lock file under .cache/ and reused by later runs."""
    lock = ROOT / "requirements" / "pdf.txt"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()[:16]
    target = ROOT / ".cache" / f"locked-{digest}"
    if target.is_dir():
        return target
    building = target.with_name(f"{target.name}.{os.getpid()}.partial")
    shutil.rmtree(building, ignore_errors=True)
    run(
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--require-hashes",
        "--target", building, "-r", lock, cwd=ROOT,
    )  # fmt: skip
    building.rename(target)  # whole or not at all: an interrupted build is not reused
    return target


def test_wheel_in_a_clean_virtualenv(tmp_path):
    # The build stage of the Dockerfile: the runtime packages only, no devkit/.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("bot", "commands", "storage"):
        shutil.copytree(ROOT / package, source / package, ignore=IGNORE)
    wheels = str(tmp_path / "wheels")
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, source, cwd=source)
    (wheel,) = (tmp_path / "wheels").glob("rcc_bot-*.whl")
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    # The packages from the lock file the image installs (the runtime with the `pdf` extra),
    # checked against its hashes, then the wheel alone. The locked packages are installed
    # once per lock file into a cache the venv sees through a .pth file: the venv holds
    # exactly the lock and the wheel, and a second run skips the 25 s install.
    site = run(
        python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path
    )
    (Path(site.strip()) / "rcc-locked.pth").write_text(f"{locked_packages()}\n")
    pip = (python, "-m", "pip", "install", "--quiet", "--no-deps")
    run(*pip, wheel, cwd=tmp_path)
    run(python, "-m", "pip", "check", cwd=tmp_path)  # the lock has all the wheel needs
    script = env / "bin" / "rcc-bot"
    usage = run(script, "--help", cwd=tmp_path)
    assert "run" in usage and "check-config" in usage and "demo" in usage
    example = ROOT / "config.example.toml"
    checked = run(script, "check-config", "--config", example, "--offline", cwd=tmp_path)
    assert "is valid" in checked and "ok: the database answers" in checked
    # Package data: migrations, templates and matplotlib, from the installed wheel alone.
    config = tmp_path / "config.toml"
    config.write_text(
        (ROOT / "config.example.toml")
        .read_text()
        .replace("sqlite+aiosqlite:///data/rcc.db", f"sqlite+aiosqlite:///{tmp_path / 'rcc.db'}")
    )
    assert "0008" in run(str(script), "db", "upgrade", "--config", str(config), cwd=tmp_path)
    run(
        str(script),
        "digest",
        "--config",
        str(config),
        "--period",
        "last-30d",
        "--out",
        str(tmp_path / "d.html"),
        cwd=tmp_path,
    )
    assert (tmp_path / "d.html").read_text().startswith("<!DOCTYPE html>")
    assert (tmp_path / "d.png").read_bytes().startswith(b"\x89PNG")
    # The report templates are in the wheel, and the PDF is drawn by the installed WeasyPrint.
    for out in ("csm.pdf", "csm.xlsx"):
        args = ("--profile", "csm", "--period", "last-30d", "--out", str(tmp_path / out))
        run(str(script), "report", "--config", str(config), *args, cwd=tmp_path)
    assert (tmp_path / "csm.pdf").read_bytes().startswith(b"%PDF-")
    assert (tmp_path / "csm.xlsx").read_bytes().startswith(b"PK")
    # The translations: compiled into the wheel by its build (setup.py) and read from there.
    probe = (
        "from commands import i18n\n"
        "mo = i18n.LOCALE_DIR / 'fr' / 'LC_MESSAGES' / 'messages.mo'\n"
        "with i18n.speaking('fr'):\n"
        "    print(mo.exists(), i18n.languages(), i18n._('Deadlines'))\n"
    )
    assert run(python, "-c", probe, cwd=tmp_path).strip() == (
        "True ('en', 'es', 'fr', 'nl') Échéances"
    )
    where = run(str(python), "-c", "import bot; print(bot.__file__)", cwd=tmp_path)
    assert str(env) in where  # the installed package, not this checkout
    # Without devkit the demo says what is missing, in one line.
    demo = subprocess.run([script, "demo"], capture_output=True, text=True, cwd=tmp_path)
    assert demo.returncode == 1 and "the demo is not installed" in demo.stderr
    assert "Traceback" not in demo.stderr
