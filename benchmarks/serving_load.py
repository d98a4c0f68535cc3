"""Loopback load test of ``tfless-serve``: many clients, bad requests mixed in, limits checked.

  python benchmarks/serving_load.py EXPORT_DIR [--clients 8] [--requests 200]

:func:`run_load_test` starts ``tfless-serve`` on 127.0.0.1 (a separate process, so its
memory is measured alone) with small limits, then at the same time:

* holds ``clients`` connections that send half a body and stall (they must be closed
  after the read timeout, while the others are served);
* runs ``clients`` threads of ``requests`` REST requests each: mostly valid batches of
  8 images, with malformed JSON, wrong-shape inputs and bodies over the size limit
  mixed in (each must get its 4xx with a ``{"error": ...}`` body);

then fires a burst of ``2 * clients`` simultaneous maximum-size batches at a server that
runs 2 at once (the others must wait or get 503). Returns counts, latency percentiles,
the server's RSS before and after, and whether each limit held. Bounded by
``seconds_limit`` (the load phase stops early when it runs out).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
from serving import start_server  # noqa: E402  (benchmarks/serving.py)

IN_FLIGHT = 2
QUEUE_SECONDS = 1.0
READ_TIMEOUT = 1.0
BATCH = 8


def _serve_root(export_dir: str, tmp: str) -> tuple[str, str]:
    """(export root, model name) to serve ``export_dir``: an export root (its first model), a
    model directory or a version directory (linked alone into ``tmp``)."""
    path = os.path.abspath(export_dir)
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        name = os.path.basename(os.path.dirname(path))
        os.makedirs(os.path.join(tmp, name))
        os.symlink(path, os.path.join(tmp, name, os.path.basename(path)))
        return tmp, name
    subdirs = sorted(d for d in os.listdir(path) if not d.startswith("."))
    if not subdirs:
        raise ValueError(f"{export_dir!r} holds no export (expected <root>/<name>/<version>/).")
    if all(d.isdigit() for d in subdirs):
        name = os.path.basename(path)
        os.symlink(path, os.path.join(tmp, name))
        return tmp, name
    return path, subdirs[0]


def _start(root: str, clients: int, seconds: float):
    proc, url, _ = start_server(
        root,
        "--port=-1",
        f"--max_concurrent_requests={IN_FLIGHT}",
        f"--request_queue_timeout_seconds={QUEUE_SECONDS}",
        f"--rest_api_read_timeout_seconds={READ_TIMEOUT}",
        f"--rest_api_max_connections={6 * clients}",
        "--file_system_poll_wait_seconds=0",
        f"--exit_after_seconds={seconds}",
    )
    return proc, url


def _rss_mb(pid: int) -> dict:
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return {
        k: int(fields[key].split()[0]) / 1024 for k, key in (("rss", "VmRSS"), ("peak", "VmHWM"))
    }


def _stall(port: int, path: str, length: int, wait: float) -> dict:
    """Opens a connection that sends half a body and stalls; a thread times its closing."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=wait)
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n"
    sock.sendall(head.encode() + b'{"instances": [')
    item = {"t0": time.monotonic(), "open_seconds": float("inf"), "answer": b""}

    def watch():
        try:
            while chunk := sock.recv(65536):
                item["answer"] += chunk
            item["open_seconds"] = time.monotonic() - item["t0"]
        except OSError:  # still open after ``wait``
            pass
        sock.close()

    item["thread"] = threading.Thread(target=watch, daemon=True)
    item["thread"].start()
    return item


def _bodies(shape, limit_values: int):
    import numpy as np

    rng = np.random.default_rng(0)
    good = json.dumps({"instances": rng.random((BATCH, *shape), dtype=np.float32).tolist()})
    wrong = json.dumps({"instances": rng.random((BATCH, *shape[:-1], 2)).tolist()})
    # Random float32 values average 21 JSON bytes, so 1.3x the auto limit's values overflow it.
    n = int(1.3 * limit_values / int(np.prod(shape))) + 1
    over = json.dumps({"instances": rng.random((n, *shape), dtype=np.float32).tolist()})
    full = json.dumps({"instances": rng.random((256, *shape), dtype=np.float32).tolist()})
    return {
        "ok": (good.encode(), 200),
        "malformed_json": (good[: len(good) // 2].encode(), 400),
        "wrong_shape": (wrong.encode(), 400),
        "oversize": (over.encode(), 413),
    }, full.encode()


def _kind(i: int) -> str:
    if i % 10 == 3:
        return "malformed_json"
    if i % 10 == 7:
        return "wrong_shape"
    if i % 50 == 25:
        return "oversize"
    return "ok"


def _client(url, bodies, n, deadline, out, lock):
    import requests

    session = requests.Session()
    for i in range(n):
        if time.monotonic() > deadline:
            break
        kind = _kind(i)
        data, want = bodies[kind]
        t0 = time.perf_counter()
        try:
            r = session.post(url, data=data, timeout=30)
            status = r.status_code
            ok = status == want and (status == 200 or set(r.json()) == {"error"})
        except Exception as e:  # a dropped connection is a result here
            status, ok = type(e).__name__, False
        with lock:
            out.append((kind, status, ok, time.perf_counter() - t0))


def _burst(url, body, n) -> Counter:
    import requests

    barrier, results = threading.Barrier(n), Counter()

    def one():
        barrier.wait()
        try:
            results[requests.post(url, data=body, timeout=60).status_code] += 1
        except Exception as e:  # counted like a status
            results[type(e).__name__] += 1

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q / 100 * len(values)))] if values else None


def run_load_test(
    export_dir: str, *, clients: int = 8, requests: int = 200, seconds_limit: float = 90.0
) -> dict:
    """Loads ``tfless-serve`` from ``clients`` threads; returns what was served and refused.

    Args:
      export_dir: an export root, a model directory or a version directory.
      clients: concurrent client threads (and as many stalled connections).
      requests: requests per client (1 in 5 is a bad one, 1 in 50 oversized).
      seconds_limit: wall-time budget of the whole test, server start included.

    Returns:
      ``ok`` (every answer as expected and every limit held), ``requests_sent``,
      ``requests_served`` (HTTP 200), ``errors_by_kind`` (``{kind: {status: count}}``),
      ``unexpected`` (answers other than the expected status), ``latency_ms`` (p50/p99
      of valid requests), ``rss_mb`` (server before/after load, peak), ``limits`` (each
      limit and what it did) and ``seconds``.
    """
    import numpy as np
    import requests as http

    start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="tfless-load-")
    try:
        root, model = _serve_root(export_dir, tmp)
        proc, base = _start(root, clients, seconds_limit + 60)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        url = f"{base}/v1/models/{model}:predict"
        meta = http.get(f"{base}/v1/models/{model}/metadata", timeout=30).json()
        image = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]["inputs"]
        dims = [int(d["size"]) for d in next(iter(image.values()))["tensor_shape"]["dim"]]
        shape = tuple(dims[1:])
        values = 256 * int(np.prod(shape))
        bodies, full = _bodies(shape, values)
        assert http.post(url, data=bodies["ok"][0], timeout=30).status_code == 200
        rss_before = _rss_mb(proc.pid)
        port, path = int(base.rsplit(":", 1)[1]), f"/v1/models/{model}:predict"
        stalled = [_stall(port, path, 1000, READ_TIMEOUT + 5) for _ in range(clients)]
        results, lock = [], threading.Lock()
        deadline = start + 0.7 * seconds_limit
        threads = [
            threading.Thread(target=_client, args=(url, bodies, requests, deadline, results, lock))
            for _ in range(clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for item in stalled:
            item["thread"].join()
        closed = [item["open_seconds"] for item in stalled]
        answered_408 = sum(1 for item in stalled if item["answer"].startswith(b"HTTP/1.1 408"))
        burst = _burst(url, full, 2 * clients)
        rss_after = _rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        shutil.rmtree(tmp, ignore_errors=True)
    match = re.search(r"stopped; (\{.*\})", out or "")
    server = json.loads(match.group(1)) if match else {}
    ok_latency = [r[3] * 1e3 for r in results if r[0] == "ok" and r[1] == 200]
    by_kind = {}
    for kind, status, _, _ in results:
        by_kind.setdefault(kind, Counter())[str(status)] += 1
    oversize = by_kind.get("oversize", Counter())
    held = (
        results
        and not any(not r[2] for r in results)
        and oversize.get("413", 0) == sum(oversize.values())
        and all(s <= READ_TIMEOUT + 1 for s in closed)
        and set(burst) <= {200, 503}
        and burst.get(200, 0) >= IN_FLIGHT
    )
    return {
        "ok": bool(held),
        "model": model,
        "input_shape": list(shape),
        "clients": clients,
        "requests_sent": len(results),
        "requests_served": sum(1 for r in results if r[1] == 200),
        "errors_by_kind": {k: dict(v) for k, v in by_kind.items() if k != "ok"},
        "unexpected": sum(1 for r in results if not r[2]),
        "latency_ms": {"p50": _percentile(ok_latency, 50), "p99": _percentile(ok_latency, 99)},
        "rss_mb": {
            "before": round(rss_before["rss"], 1),
            "after": round(rss_after["rss"], 1),
            "peak": round(rss_after["peak"], 1),
        },
        "limits": {
            "oversize_rejected_413": oversize.get("413", 0),
            "oversize_sent": sum(oversize.values()),
            "stalled_closed": sum(1 for s in closed if s <= READ_TIMEOUT + 1),
            "stalled_opened": len(closed),
            "stalled_answered_408": answered_408,
            "stalled_close_seconds_max": round(max(closed), 2) if closed else None,
            "read_timeout_seconds": READ_TIMEOUT,
            "burst_sent": 2 * clients,
            "burst_served": burst.get(200, 0),
            "burst_busy_503": burst.get(503, 0),
            "burst_other": {str(k): v for k, v in burst.items() if k not in (200, 503)},
            "max_in_flight": IN_FLIGHT,
            "queue_timeout_seconds": QUEUE_SECONDS,
            "server_stats": server,
        },
        "seconds": round(time.monotonic() - start, 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("export_dir")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds_limit", type=float, default=90.0)
    args = parser.parse_args()
    result = run_load_test(
        args.export_dir,
        clients=args.clients,
        requests=args.requests,
        seconds_limit=args.seconds_limit,
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
