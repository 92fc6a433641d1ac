"""A light HTTP/1.1 keep-alive load generator on asyncio streams, one process of several.

Each connection sends one request at a time and reads the reply by Content-Length; the
process stops at its request count or its deadline, whichever comes first, and prints one
JSON document: requests done, status counts, start and end (time.monotonic, shared by all
processes on the machine) and latencies in milliseconds.
Run: python -m bench.loadgen --port 8000 --path /users/{id} --requests 1000
"""

import argparse
import asyncio
import json
import time
from collections import Counter


def _request(method: str, path: str, body: bytes, port: int) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


async def _connection(
    args: argparse.Namespace,
    state: dict[str, int],
    stop_at: float,
    latencies: list[float],
    statuses: Counter[int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
    try:
        await _requests(args, state, stop_at, latencies, statuses, reader, writer)
    except (ConnectionError, asyncio.IncompleteReadError, IndexError, ValueError):
        # a reset or a malformed answer ends this connection and counts as a failed request
        statuses[0] += 1
    finally:
        writer.close()


async def _requests(
    args: argparse.Namespace,
    state: dict[str, int],
    stop_at: float,
    latencies: list[float],
    statuses: Counter[int],
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    while state["next"] < args.requests and time.monotonic() < stop_at:
        i = state["next"]
        state["next"] += 1
        path = args.path.replace("{id}", str(i % args.ids + 1))
        body = b""
        if args.method == "POST":
            email = f"lg-{args.tag}-{i}@example.com"
            fields = {"email": email, "name": "Bench", "password": "pass-1234"}
            body = json.dumps(fields).encode()
        started = time.perf_counter()
        writer.write(_request(args.method, path, body, args.port))
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[status] += 1


async def _run(args: argparse.Namespace) -> dict[str, object]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    state = {"next": 0}
    delay = args.start_at - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
    start = time.monotonic()
    stop_at = start + args.seconds
    await asyncio.gather(
        *(_connection(args, state, stop_at, latencies, statuses) for _ in range(args.connections))
    )
    return {
        "done": len(latencies),
        "start": start,
        "end": time.monotonic(),
        "statuses": {str(k): v for k, v in statuses.items()},
        "latencies_ms": latencies,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--path", default="/ping", help="{id} cycles through --ids (default: /ping)"
    )
    parser.add_argument("--method", default="GET", help="GET or POST (default: GET)")
    parser.add_argument("--requests", type=int, default=1000, help="(default: 1000)")
    parser.add_argument("--seconds", type=float, default=5.0, help="deadline (default: 5.0)")
    parser.add_argument("--connections", type=int, default=16, help="(default: 16)")
    parser.add_argument("--ids", type=int, default=1000, help="(default: 1000)")
    parser.add_argument("--tag", default="0", help="makes POST emails unique (default: 0)")
    parser.add_argument(
        "--start-at", type=float, default=0.0, help="time.monotonic() to start at (default: now)"
    )
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(_run(args))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
