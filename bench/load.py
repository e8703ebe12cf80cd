"""List APIs under load (employees, customers): a real gunicorn on loopback, not the
test client.

The test client skips the socket, the WSGI server and the worker processes, which is
where a deployment spends part of every request; so the bench starts gunicorn the way
``bizdept serve`` does and loads it with wrk when it is installed, else with the small
threaded client below. That client shares the CPU (and its own GIL) with the server, so
its numbers are a floor, not the ceiling; the table says which tool was used.
"""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

from .report import Row, percentile

HOST = "127.0.0.1"  # the only address this module ever sends a request to
PATH = "/api/v1/employees?page=1&page_size=25"
# (row name, path, what the persona sees): the first page of 25 in the default ordering.
ENDPOINTS = [
    ("employees-list API", PATH, "employees"),
    ("customers-list API", "/api/v1/customers?page=1&page_size=25", "customers"),
]
PERSONAS = [("director", "director"), ("salesperson", "sales")]


@dataclass
class LoadResult:
    requests: int  # completed, whatever their status
    errors: int  # non-200 answers, timeouts and socket errors
    seconds: float
    median_ms: float
    p95_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def get(port: int, path: str, headers: dict | None = None, timeout: float = 10.0):
    """One GET on a fresh connection: (status, body)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@contextmanager
def gunicorn(env: dict, workers: int, log_path: Path, ready_timeout: float = 60.0):
    """gunicorn on a free loopback port; stopped however the block ends."""
    import gunicorn as gunicorn_package

    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "bizdept.wsgi:application",
           "--bind", f"{HOST}:{port}", "--workers", str(workers)]
    if gunicorn_package.version_info >= (27,):
        cmd.append("--no-control-socket")  # else it takes over ~/.gunicorn/gunicorn.ctl
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(proc, port, ready_timeout, log_path)
            yield port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(proc, port: int, timeout: float, log_path: Path) -> None:
    """Poll until the server answers at all (any status): loading it earlier measures
    worker start-up, not requests."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {proc.returncode}; see {log_path}")
        try:
            get(port, "/api/v1/openapi.json", timeout=5)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s; see {log_path}")


def python_load(port: int, headers: dict, duration: float, concurrency: int,
                path: str = PATH) -> LoadResult:
    """``concurrency`` threads, each with its own keep-alive connection (http.client
    reconnects by itself when the server closes it), sending GETs until the deadline."""
    deadline = time.monotonic() + duration
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        mine, bad = [], 0
        while time.monotonic() < deadline:
            start = perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                bad += response.status != 200
                mine.append((perf_counter() - start) * 1000)
            except (OSError, http.client.HTTPException):
                conn.close()
                bad += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    start = perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 30)  # a request times out after 10 s
    seconds = perf_counter() - start
    return LoadResult(requests=len(latencies), errors=errors[0], seconds=seconds,
                      median_ms=percentile(latencies or [0.0], 50),
                      p95_ms=percentile(latencies or [0.0], 95))


# wrk's own summary has no p95; its done() hook can print any percentile.
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %.0f %.0f %.0f %.0f %.0f\\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(95),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def wrk_load(port: int, headers: dict, duration: int, concurrency: int,
             path: str = PATH) -> LoadResult:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "report.lua"
        script.write_text(WRK_REPORT)
        cmd = ["wrk", "-t", str(min(2, concurrency)), "-c", str(concurrency),
               "-d", f"{duration}s", "-s", str(script)]
        for name, value in headers.items():
            cmd += ["-H", f"{name}: {value}"]
        cmd.append(f"http://{HOST}:{port}{path}")
        out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                             timeout=duration + 30).stdout
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    requests, duration_us, p50_us, p95_us, errors = (int(x) for x in line.split()[1:])
    return LoadResult(requests=requests, errors=errors, seconds=duration_us / 1e6,
                      median_ms=p50_us / 1000, p95_ms=p95_us / 1000)


def choose_tool(wanted: str = "auto") -> str:
    if wanted == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if wanted == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not on PATH; use --loadgen python")
    return wanted


def api_rows(size: str, *, env: dict, duration: int, concurrency: int, workers: int,
             log_path: Path, tool: str = "python",
             endpoints: list[tuple[str, str, str]] | None = None) -> list[Row]:
    """GET the first page of each endpoint (``ENDPOINTS`` by default) as each persona,
    with a personal token each that is revoked afterwards (a user may hold only a few).
    One gunicorn serves every row."""
    from django.contrib.auth import get_user_model

    from bizdept.core.services import api_token_create, api_token_revoke

    User = get_user_model()
    endpoints = ENDPOINTS if endpoints is None else endpoints
    tokens = []
    try:
        for label, username in PERSONAS:
            user = User.objects.get(username=username)
            token, key = api_token_create(user=user, name="bench")
            tokens.append((label, user, token, {"Authorization": f"Bearer {key}"}))
        rows = []
        with gunicorn(env, workers, log_path) as port:
            for name, path, what in endpoints:
                for label, _user, _token, headers in tokens:
                    status, body = get(port, path, headers)
                    if status != 200:
                        raise RuntimeError(f"GET {path} as {label} answered {status}: "
                                           f"{body[:200]!r}")
                    visible = json.loads(body)["count"]
                    python_load(port, headers, 1, concurrency, path)  # warm every worker
                    run = wrk_load if tool == "wrk" else python_load
                    result = run(port, headers, duration, concurrency, path)
                    rows.append(Row(
                        name=f"{name}, {label}, size {size}",
                        rate=result.rate, median_ms=result.median_ms, p95_ms=result.p95_ms,
                        errors=result.errors, visible=visible,
                        notes=(f"sees {visible:,} {what}; {result.requests:,} requests in "
                               f"{result.seconds:.1f} s; {tool}, {concurrency} connections, "
                               f"gunicorn {workers} sync workers"),
                    ))
        return rows
    finally:
        for _label, user, token, _headers in tokens:
            api_token_revoke(user=user, token_id=token.pk)
