"""Case 6: the asset app under uvicorn vs the same endpoints on a raw asyncpg pool (PostgreSQL).

Servers run as subprocesses (one worker, 127.0.0.1, a free port); load comes from separate
bench.loadgen processes; server CPU time comes from /proc/<pid>/stat before and after.
"""

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import ASSETS
from bench.db import Backend, asset_engine, reset_schema
from bench.runner import Mode, Row
from bench.seed import copy_rows, user_rows

CASE = "HTTP"
ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    # utime and stime, fields 14 and 15, count every thread of the process (scrypt threads too)
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@dataclass
class Server:
    name: str
    target: str
    env: dict[str, str]
    ready_path: str
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, **self.env, "PYTHONPATH": f"{ASSETS}{os.pathsep}{ROOT}"}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                self.target,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    async def wait_ready(self, seconds: float = 60.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"{self.name} exited: {err[-500:]}")
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.write(f"GET {self.ready_path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                line = await reader.readline()
                writer.close()
                if b" 200 " in line:
                    return
            except OSError:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer {self.ready_path} in {seconds} s")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@dataclass
class Load:
    path: str
    method: str
    requests: int
    seconds: float
    connections: int
    processes: int


async def _drive(server: Server, load: Load, tag: str) -> dict[str, float]:
    """One bounded load run against server: requests/s, CPU ms per request, p50 and p99 ms."""
    assert server.proc is not None
    start_at = time.monotonic() + 1.0
    per = load.requests // load.processes
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.loadgen",
            "--port",
            str(server.port),
            "--path",
            load.path,
            "--method",
            load.method,
            "--requests",
            str(per),
            "--seconds",
            str(load.seconds),
            "--connections",
            str(load.connections),
            "--tag",
            f"{tag}-{n}",
            "--start-at",
            str(start_at),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        for n in range(load.processes)
    ]
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    cpu_before = _cpu_seconds(server.proc.pid)
    outputs = [json.loads((await p.communicate())[0]) for p in procs]
    cpu = _cpu_seconds(server.proc.pid) - cpu_before
    done = sum(o["done"] for o in outputs)
    elapsed = max(o["end"] for o in outputs) - min(o["start"] for o in outputs)
    bad = {k: v for o in outputs for k, v in o["statuses"].items() if not k.startswith("2")}
    if bad or done == 0:
        raise RuntimeError(f"{server.name} {load.method} {load.path}: statuses {bad}, {done} done")
    latencies = sorted(x for o in outputs for x in o["latencies_ms"])
    return {
        "rps": done / elapsed,
        "cpu_ms": cpu * 1000 / done,
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


def _rows(backend: str, label: str, results: dict[str, list[dict[str, float]]]) -> list[Row]:
    names = list(results)
    base = results[names[0]]
    rows = []
    for name in names:
        runs = results[name]
        row = Row(
            CASE,
            backend,
            f"{label}: {name}",
            f"{label}: {names[0]}",
            samples=[r["rps"] for r in runs],
            ratios=[r["rps"] / b["rps"] for r, b in zip(runs, base, strict=True)],
            unit="req/s",
        )
        cpu_ratio = [r["cpu_ms"] / b["cpu_ms"] for r, b in zip(runs, base, strict=True)]
        row.extra = {
            "CPU ms/req": statistics.median(r["cpu_ms"] for r in runs),
            "CPU ratio": statistics.median(cpu_ratio),
            "CPU ratio range": (min(cpu_ratio), max(cpu_ratio)),
            "p50 ms": statistics.median(r["p50"] for r in runs),
            "p99 ms": statistics.median(r["p99"] for r in runs),
        }
        rows.append(row)
    return rows


async def _interleave(
    servers: dict[str, tuple[Server, Load]], reps: int, seconds: float, tag: str
) -> dict[str, list[dict[str, float]]]:
    results: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
    names = list(servers)
    started = time.monotonic()
    for rep in range(reps):
        if rep > 0 and time.monotonic() - started > seconds:
            break
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            server, load = servers[name]
            results[name].append(await _drive(server, load, f"{tag}{rep}{name[:3]}"))
    return results


async def run(backend: Backend, mode: Mode) -> list[Row]:
    if backend.name != "postgresql":
        return []
    engine = asset_engine(backend)
    await reset_schema(engine)
    await engine.dispose()
    await copy_rows(backend, "users", user_rows(1000))
    url = {"DATABASE_URL": backend.url}
    raw = Server("raw asyncpg app", "bench.rawapp:app", url, "/ping")
    asset = Server("asset app", "app.main:app", url, "/users/1")
    no_ping = Server("asset app", "app.main:app", {**url, "DB_POOL_PRE_PING": "false"}, "/users/1")
    reads = Server("asset app, AUTOCOMMIT reads", "bench.readapp:app", url, "/users/1")
    servers = [raw, asset, no_ping, reads]
    get = Load("/users/{id}", "GET", mode.pick(2500, 20), 3.0, 16, 2)
    ping = Load("/ping", "GET", mode.pick(2500, 20), 3.0, 16, 2)
    post = Load("/users", "POST", mode.pick(80, 4), 5.0, 8, 1)
    reps = mode.pick(7, 1)
    try:
        for server in servers:
            server.start()
        await asyncio.gather(*(s.wait_ready() for s in servers))
        gets = await _interleave(
            {
                "raw asyncpg app": (raw, get),
                "asset app": (asset, get),
                "asset app, pool_pre_ping off": (no_ping, get),
                "asset app, AUTOCOMMIT read session (bench/readapp.py)": (reads, get),
                "no-database /ping (ceiling)": (raw, ping),
            },
            reps,
            150,
            "g",
        )
        posts = await _interleave(
            {"raw asyncpg app": (raw, post), "asset app": (asset, post)}, mode.pick(3, 1), 60, "p"
        )
    finally:
        for server in servers:
            server.stop()
    return _rows(backend.name, "GET /users/{id}", gets) + _rows(backend.name, "POST /users", posts)
