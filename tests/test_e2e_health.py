"""/healthz and /metrics of a running bot, through Synapse."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest

from devkit.synapse import free_port, wait_for

pytestmark = pytest.mark.synapse


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


async def test_health_and_metrics(world):
    port = free_port()
    world.extra_config = f'[health]\nlisten = "127.0.0.1:{port}"'
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    runtime = await world.start_bot()
    base = f"http://127.0.0.1:{port}"
    room = await world.rcc_room(chair, [jm])
    await jm.ask(room, "!whoami")
    await jm.ask(room, "!status set nosuch met")
    await chair.ask(room, "!broadcast Metrics check of the phone tree")
    await jm.ask(room, "!ack")
    status, body = await asyncio.to_thread(get, f"{base}/healthz")
    assert status == 200 and json.loads(body)["ok"]
    status, metrics = await asyncio.to_thread(get, f"{base}/metrics")
    assert status == 200
    for line in (
        'rcc_commands_total{command="whoami",outcome="accepted"} 1.0',
        'rcc_commands_total{command="status set",outcome="invalid"} 1.0',
        'rcc_broadcast_acks_total{via="command"} 1.0',
        "rcc_command_seconds_count",
        "rcc_sync_errors_total 0.0",
    ):
        assert line in metrics, line
    await wait_for(lambda: runtime.app.metrics.deliveries._value.get() >= 2)
    # Jobs are counted like commands: the broadcast's delivery ran, and how long it took.
    _, metrics = await asyncio.to_thread(get, f"{base}/metrics")
    assert 'rcc_jobs_total{job="broadcast",outcome="again"}' in metrics, metrics
    assert 'rcc_job_seconds_count{job="broadcast"}' in metrics

    world.hs.stop()  # the homeserver goes away: unhealthy once a sync has failed
    try:

        async def unhealthy():
            code, text = await asyncio.to_thread(get, f"{base}/healthz")
            return code == 503 and "the last sync failed" in text

        await wait_for(unhealthy, 120, interval=0.5)
        _, metrics = await asyncio.to_thread(get, f"{base}/metrics")
        assert "rcc_sync_errors_total 0.0" not in metrics
    finally:
        world.hs.start()

    async def healthy():
        return (await asyncio.to_thread(get, f"{base}/healthz"))[0] == 200

    await wait_for(healthy, 120, interval=0.5)
