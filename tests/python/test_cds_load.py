"""A bounded load test of the CDS Hooks service on loopback (issue 13).

The real command line serves on 127.0.0.1 in a subprocess; several client threads, each on its own
keep-alive connection, send a fixed number of hook calls in rounds. The test asserts that every
answer is a 200 with the expected cards (no error, no 500), that the server's resident memory does
not grow across rounds after a warm-up, and it prints the throughput and latency percentiles.
During the measured rounds one more connection keeps sending requests at the default count
limits, so that the small requests are measured while large ones run on a worker. It stops by
itself: the request counts are fixed and every round has a deadline.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

pytest.importorskip("starlette", reason="needs the cds extra: pip install 'rxcaution[cds]'")
pytest.importorskip("uvicorn", reason="needs the cds extra: pip install 'rxcaution[cds]'")

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cds"
CONNECTIONS = 8
REQUESTS_PER_CONNECTION = 100  # per round
ROUNDS = 4  # the first is the warm-up
ROUND_DEADLINE_S = 60.0
RSS_GROWTH_BOUND = 16 * 1024 * 1024


def server_rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def large_body() -> bytes:
    """A hook call at the default limits: 100 draft orders and 1000 prefetched medications."""
    import rxcaution

    names = [s.name for s in rxcaution.KnowledgeBase.builtin().substances()]

    def med(rid: str, text: str, status: str) -> Dict[str, Any]:
        return {"resourceType": "MedicationRequest", "id": rid, "status": status, "intent": "order",
                "medicationCodeableConcept": {"text": text}}

    def bundle(resources: List[Dict[str, Any]]) -> Dict[str, Any]:
        return {"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}

    body = {
        "hook": "order-sign",
        "hookInstance": "load-test-large",
        "context": {"patientId": "p", "draftOrders": bundle([med(f"d{i}", names[i], "draft") for i in range(100)])},
        "prefetch": {
            "medicationRequests": bundle([med(f"a{i}", f"unknown remedy {i % 97}", "active") for i in range(1000)]),
            "medicationStatements": None,
            "conditions": None,
        },
    }
    return json.dumps(body).encode("utf-8")


def bodies() -> List[Tuple[str, bytes]]:
    out = []
    for path in sorted(FIXTURES.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        out.append(("/cds-services/rxcaution-" + doc["hook"], json.dumps(doc).encode("utf-8")))
    return out


def post(conn: http.client.HTTPConnection, path: str, body: bytes) -> Tuple[int, bytes]:
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    return resp.status, resp.read()


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="measures the server's memory through /proc (Linux)")
def test_load_rounds_have_no_errors_and_no_memory_growth() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # the subprocess binds it; a lost race shows as a server that does not come up
    proc = subprocess.Popen(
        [sys.executable, "-m", "rxcaution.cds_hooks", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        up_deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > up_deadline:
                    raise AssertionError(f"the server did not come up: {proc.stderr.read() if proc.stderr else ''}")
                time.sleep(0.05)

        requests = bodies()
        expected: Dict[str, bytes] = {}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for path, body in requests:
            status, answer = post(conn, path, body)
            assert status == 200, answer
            expected[path + body.decode()] = answer
        conn.close()

        large = large_body()
        large_count = [0]
        rss: List[int] = []
        latencies: List[float] = []
        total_time = 0.0
        for round_no in range(ROUNDS):
            failures: List[str] = []
            small_done = threading.Event()
            round_latencies: List[List[float]] = [[] for _ in range(CONNECTIONS)]
            deadline = time.monotonic() + ROUND_DEADLINE_S

            def client(k: int) -> None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                try:
                    for i in range(REQUESTS_PER_CONNECTION):
                        if time.monotonic() > deadline:
                            failures.append(f"connection {k}: round deadline passed after {i} requests")
                            return
                        path, body = requests[(k + i) % len(requests)]
                        start = time.perf_counter()
                        status, answer = post(conn, path, body)
                        round_latencies[k].append(time.perf_counter() - start)
                        if status != 200 or answer != expected[path + body.decode()]:
                            failures.append(f"connection {k} request {i}: HTTP {status} {answer[:200]!r}")
                            return
                except Exception as exc:  # noqa: BLE001 - reported as a failure of the test
                    failures.append(f"connection {k}: {type(exc).__name__}: {exc}")
                finally:
                    conn.close()

            def large_client() -> None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                try:
                    while not small_done.is_set() and time.monotonic() < deadline:
                        status, answer = post(conn, "/cds-services/rxcaution-order-sign", large)
                        if status != 200:
                            failures.append(f"large request: HTTP {status} {answer[:200]!r}")
                            return
                        large_count[0] += 1
                except Exception as exc:  # noqa: BLE001 - reported as a failure of the test
                    failures.append(f"large request: {type(exc).__name__}: {exc}")
                finally:
                    conn.close()

            threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(CONNECTIONS)]
            large_thread = threading.Thread(target=large_client, daemon=True)
            start = time.perf_counter()
            for t in threads:
                t.start()
            large_thread.start()
            for t in threads:
                t.join(timeout=ROUND_DEADLINE_S + 30)
            small_done.set()
            large_thread.join(timeout=ROUND_DEADLINE_S + 30)
            threads.append(large_thread)
            elapsed = time.perf_counter() - start
            assert not any(t.is_alive() for t in threads), "a client thread did not stop"
            assert failures == [], failures[:5]
            assert proc.poll() is None, "the server exited"
            rss.append(server_rss(proc.pid))
            if round_no > 0:
                total_time += elapsed
                latencies += [x for per in round_latencies for x in per]

        latencies.sort()
        n = len(latencies)
        p50, p99 = latencies[n // 2], latencies[min(n - 1, int(n * 0.99))]
        print(
            f"\nCDS load: {n} requests over {CONNECTIONS} connections in {ROUNDS - 1} measured rounds, "
            f"{n / total_time:.0f} req/s, p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, while "
            f"{large_count[0]} requests at the count limits ran alongside (all rounds), "
            f"server RSS per round (MiB): {[round(r / 2**20, 1) for r in rss]}"
        )
        growth = rss[-1] - rss[0]
        assert growth < RSS_GROWTH_BOUND, f"server RSS grew by {growth / 2**20:.1f} MiB after the warm-up round"
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.communicate()
