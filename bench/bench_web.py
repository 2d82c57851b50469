"""Speed of the checker page and its API on loopback (a benchmark script, not a test).

Starts `python -m rxcaution.web` on a free 127.0.0.1 port and measures, against the targets of
issue 14 (first render <= 200 ms, a check round trip <= 20 ms for 10 medicines):

* `GET /` and `POST /api/check` with the 10-drug regimen of bench/bench_check.cpp, over one
  keep-alive connection (as a browser does) and over a new connection per request;
* `POST /api/graph` for that regimen, uncached (Graphviz `dot` draws it each time);
* with Chromium and chromium-driver installed: the page's first contentful paint and
  DOMContentLoaded in headless Chromium, cold cache, and the time from pressing Enter in the
  medication field to the results being on screen.

    python bench/bench_web.py [--requests 300] [--loads 15]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import shutil
import socket
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Tuple

import rxcaution

TEN = ["methadone", "Suboxone", "alprazolam", "clarithromycin", "ondansetron",
       "sertraline", "gabapentin", "ketamine", "naltrexone", "quetiapine"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rxcaution.web", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/info")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the server did not start: " + (proc.stderr.read().decode() if proc.stderr else ""))


def stats(ms: List[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"median {statistics.median(ms):7.2f} ms   p95 {p95:7.2f} ms   min {ms[0]:7.2f} ms   (n={len(ms)})"


def timed(n: int, call: Callable[[], None]) -> List[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def request(conn: http.client.HTTPConnection, method: str, path: str, body: Optional[Dict] = None) -> bytes:
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
    resp = conn.getresponse()
    payload = resp.read()
    if resp.status != 200:
        raise SystemExit(f"{method} {path}: HTTP {resp.status}: {payload[:200]!r}")
    return payload


def http_numbers(port: int, n: int) -> None:
    keep = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = {"medications": TEN}
    report = json.loads(request(keep, "POST", "/api/check", body))
    print(f"regimen: {len(TEN)} medications -> {len(report['warnings'])} warnings, {len(json.dumps(report)) // 1024} KiB of JSON")
    for _ in range(20):  # warm up
        request(keep, "POST", "/api/check", body)
        request(keep, "GET", "/")

    def fresh(method: str, path: str, b: Optional[Dict] = None) -> Callable[[], None]:
        def call() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            request(conn, method, path, b)
            conn.close()

        return call

    print("GET /                    keep-alive  ", stats(timed(n, lambda: request(keep, "GET", "/"))))
    print("GET /                    new conn.   ", stats(timed(n, fresh("GET", "/"))))
    print("POST /api/check (10)     keep-alive  ", stats(timed(n, lambda: request(keep, "POST", "/api/check", body))))
    print("POST /api/check (10)     new conn.   ", stats(timed(n, fresh("POST", "/api/check", body))))
    suggest = {"text": "keta", "kind": "medication"}
    print("POST /api/suggest 'keta' keep-alive  ", stats(timed(n, lambda: request(keep, "POST", "/api/suggest", suggest))))
    if shutil.which("dot"):
        orders = itertools.permutations(TEN)  # a new order is a new picture: no cache hit
        graph_n = min(n, 40)
        print(
            "POST /api/graph (10)     uncached    ",
            stats(timed(graph_n, lambda: request(keep, "POST", "/api/graph", {"medications": list(next(orders))}))),
        )
    keep.close()


def browser_numbers(port: int, loads: int) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        print("browser: selenium is not installed; skipped")
        return
    if not chromium or not driver_path:
        print("browser: chromium / chromium-driver not installed; skipped")
        return
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1366,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    base = f"http://127.0.0.1:{port}/"
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        fcp: List[float] = []
        dcl: List[float] = []
        for _ in range(loads + 2):
            driver.get("about:blank")
            driver.get(base)
            paint = WebDriverWait(driver, 10, 0.01).until(
                lambda d: d.execute_script(
                    "const p = performance.getEntriesByName('first-contentful-paint'); return p.length ? p[0].startTime : false"
                )
            )
            fcp.append(float(paint))
            dcl.append(float(driver.execute_script("return performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")))
        fcp, dcl = fcp[2:], dcl[2:]  # the first loads start the renderer
        print("page, cold cache: first contentful paint ", stats(fcp))
        print("page, cold cache: DOMContentLoaded       ", stats(dcl))
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
        # Enter in the field -> the check's summary on screen (a 10-drug regimen from the address).
        shown: List[float] = []
        for _ in range(loads):
            driver.get("about:blank")
            driver.get(base + "#" + "&".join("m=" + m for m in TEN[:9]))
            WebDriverWait(driver, 10, 0.01).until(lambda d: d.find_elements(By.ID, "summary"))
            field = driver.find_element(By.ID, "med-input")
            field.send_keys(TEN[9])
            driver.execute_script(
                "window.__t0 = null; document.getElementById('med-input').addEventListener('keydown', "
                "(e) => { if (e.key === 'Enter') window.__t0 = performance.now(); }, {capture: true});"
                "new MutationObserver(() => { if (window.__t0 !== null && document.getElementById('summary') && "
                "!window.__t1) window.__t1 = performance.now(); }).observe(document.getElementById('alerts'), {childList: true});"
            )
            field.send_keys(Keys.ENTER)
            t = WebDriverWait(driver, 10, 0.01).until(
                lambda d: d.execute_script("return window.__t1 ? window.__t1 - window.__t0 : false")
            )
            shown.append(float(t))
        print("Enter -> 10-drug results rendered        ", stats(shown))
    finally:
        driver.quit()


def main(argv: "list[str] | None" = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per HTTP case (default 300)")
    parser.add_argument("--loads", type=int, default=15, help="page loads in the browser (default 15)")
    args = parser.parse_args(argv)
    print(f"rxcaution {rxcaution.__version__}, Python {sys.version.split()[0]}")
    port = free_port()
    proc = start_server(port)
    try:
        http_numbers(port, args.requests)
        browser_numbers(port, args.loads)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
