"""A server under uvicorn in a process of its own, load driven at it, and its CPU time."""

import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import ASSETS, ROOT
from tests.servers import free_port

TICK = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time of pid and its child processes (uvicorn's workers), every thread included."""
    total = 0.0
    for each in [pid, *_children(pid)]:
        # utime and stime, fields 14 and 15, count every thread of the process
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / TICK
    return total


@dataclass
class Server:
    name: str
    target: str
    """module:app for uvicorn"""
    env: dict[str, str]
    ready_path: str
    workers: int = 1
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, **self.env, "PYTHONPATH": f"{ASSETS}{os.pathsep}{ROOT}"}
        # a worker kept busy by the load answers uvicorn's health check late; the default 5 s
        # would get it killed and its connections reset in the middle of a measurement
        workers = (
            ["--workers", str(self.workers), "--timeout-worker-healthcheck", "120"]
            if self.workers > 1
            else []
        )
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
                *workers,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    async def wait_ready(self, seconds: float = 180.0) -> None:
        deadline = time.monotonic() + seconds
        # every worker must answer: with several, each new connection may reach another
        answered = 0
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"{self.name} exited: {err[-500:]}")
            try:
                if await asyncio.wait_for(self._answers(), 5.0):
                    answered += 1
                    if answered >= 4 * self.workers:
                        return
                    continue
            except (OSError, TimeoutError):
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer {self.ready_path} in {seconds} s")

    async def _answers(self) -> bool:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(f"GET {self.ready_path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            return b" 200 " in await reader.readline()
        finally:
            writer.close()

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


async def drive(server: Server, load: Load, tag: str) -> dict[str, float]:
    """One bounded load run against server: requests/s, CPU ms per request, p50 and p99 ms,
    and the share of the machine's two cores the server kept busy."""
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
    cpu_before = cpu_seconds(server.proc.pid)
    outputs = [json.loads((await p.communicate())[0]) for p in procs]
    cpu = cpu_seconds(server.proc.pid) - cpu_before
    done = sum(o["done"] for o in outputs)
    elapsed = max(o["end"] for o in outputs) - min(o["start"] for o in outputs)
    bad = {k: v for o in outputs for k, v in o["statuses"].items() if not k.startswith("2")}
    if bad or done == 0:
        raise RuntimeError(f"{server.name} {load.method} {load.path}: statuses {bad}, {done} done")
    latencies = sorted(x for o in outputs for x in o["latencies_ms"])
    return {
        "done": float(done),
        "rps": done / elapsed,
        "cpu_ms": cpu * 1000 / done,
        "cores": cpu / elapsed,
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }
