"""`rcc-bot demo --once`: the one-command demo runs the whole mission and exits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devkit.synapse import environment_without_proxies

pytestmark = [pytest.mark.synapse, pytest.mark.timeout(1000)]


def test_demo_once(tmp_path):
    script = Path(sys.executable).with_name("rcc-bot")
    out = tmp_path / "out"
    done = subprocess.run(
        [script, "demo", "--once", "--out", out],
        capture_output=True,
        text=True,
        timeout=900,
        env=environment_without_proxies(),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    transcript = done.stdout
    for expected in (
        "🗳️ MO-1 adopted: adopt legal.strategy",
        "The catalogue is now version 2.",
        "💬 jm: !status set legal.strategy met",
        "PR-1 “CSIRT set-up” registered",
        "Who can help with coop.cert",
        "🤖 rcc-bot: ✅ Jamaica (JM): National Cyber Security Strategy (legal.strategy) is now "
        "met",
        "is filed",
        "INC-1 [TLP:AMBER] high: Phishing wave",
        "LL-1 shared by",
        "BC-1 (critical, TLP:AMBER, to every national contact): 3/3 countries acknowledged",
        "(reaction)",
        "(reply)",
        "(command)",
        "digest for",
    ):
        assert expected in transcript, expected
    assert (out / "digest.html").read_text().startswith("<!DOCTYPE html>")
    assert (out / "digest.png").read_bytes().startswith(b"\x89PNG")
    assert "Traceback" not in done.stderr
