"""The checker page's server (`python -m rxcaution.web`): its JSON API, the page and its assets, and
the CDS Hooks service in the same app, tested over real HTTP on 127.0.0.1. The page itself, in a
browser, is tested by test_web_browser.py.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Dict, Iterator, Optional, Tuple, Union

import pytest

import rxcaution

pytest.importorskip("starlette", reason="needs the web extra: pip install 'rxcaution[web]'")
uvicorn = pytest.importorskip("uvicorn", reason="needs the web extra: pip install 'rxcaution[web]'")

from rxcaution import web  # noqa: E402

HAVE_DOT = shutil.which("dot") is not None


class Answer:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Client:
    def __init__(self, base: str) -> None:
        self.base = base

    def request(self, method: str, path: str, body: Union[bytes, Any, None] = None) -> Answer:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return Answer(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as err:
            payload = err.read()
            err.close()
            return Answer(err.code, err.headers, payload)

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, body: Union[bytes, Any]) -> Answer:
        return self.request("POST", path, body)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def wait_until_up(client: Client, proc: Optional[subprocess.Popen] = None, deadline_s: float = 20.0) -> None:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            if client.get("/api/info").status == 200:
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        if time.monotonic() > deadline:
            raise AssertionError("the web server did not answer in time")
        time.sleep(0.05)


@contextlib.contextmanager
def running(app: Any) -> Iterator[Client]:
    """Serves `app` with uvicorn in a thread on a free loopback port; stops it on exit."""
    sock = free_socket()
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none", lifespan="off", access_log=False))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        client = Client(f"http://127.0.0.1:{sock.getsockname()[1]}")
        wait_until_up(client)
        yield client
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        sock.close()
    assert not thread.is_alive(), "the server thread did not stop"


@pytest.fixture(scope="module")
def server() -> Iterator[Tuple[Client, Any]]:
    app = web.create_app()
    with running(app) as client:
        yield client, app


@pytest.fixture
def client(server: Tuple[Client, Any]) -> Client:
    return server[0]


REGIMEN = {"medications": ["ketamine", "Suboxone"], "conditions": ["hypertension"]}


# --- /api/check, /api/resolve -----------------------------------------------------------------------


def test_check_answers_the_report_json_contract(client: Client, kb: rxcaution.KnowledgeBase) -> None:
    answer = client.post("/api/check", REGIMEN)
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    report = answer.json()
    assert report == kb.check(["ketamine", "Suboxone"], conditions=["hypertension"]).to_dict()
    majors = [w["rule"] for w in report["warnings"] if w["severity"] == "major"]
    assert majors == ["buprenorphine-cns-depressants", "ketamine-buprenorphine"]
    assert report["complete"] is True


def test_check_reports_an_unknown_medication_as_unresolved(client: Client) -> None:
    report = client.post("/api/check", {"medications": ["ketamin", " methadone "]}).json()
    assert report["unresolved"] == ["ketamin"]
    assert report["complete"] is False
    assert report["inputs"][0]["suggestions"] == ["ketamine"]
    assert report["inputs"][1]["input"] == "methadone"  # surrounding blanks are not part of the name


def test_resolve_answers_each_text(client: Client, kb: rxcaution.KnowledgeBase) -> None:
    answer = client.post("/api/resolve", {"medications": ["Subutex", "buprenorfine"], "conditions": ["high blood pressure"]})
    assert answer.status == 200
    body = answer.json()
    assert body == {
        "medications": [kb.resolve("Subutex").to_dict(), kb.resolve("buprenorfine").to_dict()],
        "conditions": [kb.resolve_condition("high blood pressure").to_dict()],
    }
    assert body["medications"][1]["resolved"] is False and body["medications"][1]["suggestions"] == ["buprenorphine"]
    assert body["conditions"][0]["id"] == "hypertension"
    assert client.post("/api/resolve", {"conditions": ["pregnancy"]}).status == 200


# --- /api/suggest -----------------------------------------------------------------------------------


def suggest(client: Client, text: str, kind: str = "medication", limit: int = 8) -> list:
    answer = client.post("/api/suggest", {"text": text, "kind": kind, "limit": limit})
    assert answer.status == 200, answer.text
    body = answer.json()
    assert body["text"] == text and body["kind"] == kind
    return body["suggestions"]


def test_suggestions_start_with_what_was_typed(client: Client) -> None:
    # Starts with it (substances before brands), then contains it.
    assert [s["value"] for s in suggest(client, "keta")] == ["ketamine", "Ketalar", "esketamine"]
    first = suggest(client, "KETA")[0]
    assert first == {"value": "ketamine", "name": "ketamine", "id": "ketamine", "kind": "substance", "match": "name"}
    assert [s["value"] for s in suggest(client, "Subo")][0] == "Suboxone"
    assert suggest(client, "Subo")[0]["kind"] == "product"


def test_suggestions_name_each_entity_once_and_respect_the_limit(client: Client) -> None:
    found = suggest(client, "hypert", kind="condition", limit=20)
    ids = [s["id"] for s in found]
    assert len(ids) == len(set(ids))
    assert found[0]["id"] == "hypertension" and found[0]["match"] == "name"
    assert len(suggest(client, "a", limit=3)) == 3


def test_a_misspelling_gets_the_resolver_suggestion(client: Client) -> None:
    assert suggest(client, "buprenorfine") == [
        {"value": "buprenorphine", "name": "buprenorphine", "id": "buprenorphine", "kind": "substance", "match": "similar"}
    ]
    assert [s["id"] for s in suggest(client, "hypertensoin", kind="condition")][:1] == ["hypertension"]


def test_synonyms_point_to_the_entity(client: Client) -> None:
    found = suggest(client, "high blood", kind="condition")
    assert {"value": "high blood pressure", "name": "Hypertension", "id": "hypertension", "kind": "condition", "match": "synonym"} in found


def test_nothing_typed_gives_no_suggestions(client: Client) -> None:
    assert suggest(client, "   ") == []
    assert suggest(client, "zzzzqqqq") == []


def test_suggestion_index_is_usable_alone(tiny_kb: rxcaution.KnowledgeBase) -> None:
    index = web.SuggestionIndex(tiny_kb)
    # alpha's synonym "alfa" and AlphaBeta's "Alpha-Beta" name the same entities: one line each.
    assert index.suggest("al") == [
        {"value": "alpha", "name": "alpha", "id": "alpha", "kind": "substance", "match": "name"},
        {"value": "AlphaBeta", "name": "AlphaBeta", "id": "alphabeta", "kind": "product", "match": "name"},
    ]
    assert index.suggest("al", limit=1) == index.suggest("al")[:1]
    assert index.suggest("blood", kind="condition") == [
        {"value": "high blood pressure", "name": "Hypertension", "id": "hypertension", "kind": "condition", "match": "synonym"}
    ]
    assert index.suggest("alpa") == [{"value": "alpha", "name": "alpha", "id": "alpha", "kind": "substance", "match": "similar"}]
    assert index.suggest("beta") == [
        {"value": "beta", "name": "beta", "id": "beta", "kind": "substance", "match": "name"},
        # A word of the synonym starts with it, which ranks above the name merely containing it.
        {"value": "Alpha-Beta", "name": "AlphaBeta", "id": "alphabeta", "kind": "product", "match": "synonym"},
    ]


# --- /api/graph -------------------------------------------------------------------------------------


@pytest.mark.skipif(not HAVE_DOT, reason="needs Graphviz 'dot' (apt-get install graphviz)")
def test_graph_is_a_self_contained_svg(client: Client) -> None:
    answer = client.post("/api/graph", REGIMEN)
    assert answer.status == 200
    assert answer.headers["content-type"] == "image/svg+xml"
    svg = answer.text
    assert svg.startswith("<svg ") and svg.rstrip().endswith("</svg>")
    assert 'aria-label="Regimen graph of ketamine + Suboxone with hypertension"' in svg
    texts = set(re.findall(r">([^<>]+)</text>", svg))
    assert {"ketamine", "Suboxone", "buprenorphine", "naloxone", "cns-depressants", "cardiovascular-disease"} <= texts
    for forbidden in ("<script", "href", "<a ", "<!DOCTYPE", "<?xml", "<!--", "style="):
        assert forbidden not in svg
    root = svg.split(">", 1)[0]
    assert " width=" not in root and " height=" not in root and "viewBox=" in root  # scales with the page


@pytest.mark.skipif(not HAVE_DOT, reason="needs Graphviz 'dot' (apt-get install graphviz)")
def test_graph_escapes_what_was_typed(client: Client) -> None:
    svg = client.post("/api/graph", {"medications": ["<script>alert(1)</script>", "ketamine"]}).text
    assert "<script" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg


def test_graph_without_graphviz_is_a_503_with_the_reason(kb: rxcaution.KnowledgeBase) -> None:
    with running(web.create_app(kb, graphviz_dot=None)) as client:
        answer = client.post("/api/graph", REGIMEN)
        assert answer.status == 503
        assert answer.json() == {"error": "the regimen graph needs Graphviz 'dot' on the server's PATH (apt-get install graphviz)"}
        assert client.get("/api/info").json()["graph"] is False


def test_sanitize_svg_drops_scripts_links_and_handlers() -> None:
    hostile = (
        '<?xml version="1.0"?><!DOCTYPE svg><!-- c --><svg xmlns="http://www.w3.org/2000/svg" '
        'xmlns:xlink="http://www.w3.org/1999/xlink" width="10pt" height="10pt" viewBox="0 0 10 10" onload="x()">'
        '<script>alert(1)</script><g onclick="y()" style="fill:url(http://evil/)"><a xlink:href="http://evil/">'
        '<text x="1">inside a link</text></a><text x="2" fill="url(http://evil/#p)">t</text>'
        '<image href="http://evil/i.png"/><foreignObject><div>x</div></foreignObject>'
        '<polygon points="0,0 1,1" fill="red"/></g></svg>'
    )
    clean = web.sanitize_svg(hostile, "A graph")
    assert clean == (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" role="img" aria-label="A graph" focusable="false">'
        '<g><text x="2">t</text><polygon points="0,0 1,1" fill="red" /></g></svg>'
    )
    with pytest.raises(ValueError, match="not an SVG document"):
        web.sanitize_svg("<html></html>")
    with pytest.raises(ValueError, match="not an SVG document"):
        web.sanitize_svg("not xml")


# --- errors and limits ------------------------------------------------------------------------------

BAD_REQUESTS = {
    "not json": ("/api/check", b"{medications", 400, "request body is not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
    "empty body": ("/api/check", b"", 400, "request body is empty (expected a JSON object)"),
    "array body": ("/api/check", b"[]", 400, "request body must be a JSON object, not an array"),
    "not utf-8": ("/api/check", b'{"medications": ["\xff"]}', 400, "request body is not UTF-8 text"),
    "missing medications": ("/api/check", {"conditions": ["x"]}, 400, "medications is missing (an array of medication names)"),
    "empty medications": ("/api/check", {"medications": []}, 400, "medications is empty (give at least one medication name)"),
    "medications a string": ("/api/check", {"medications": "ketamine"}, 400, "medications must be an array of strings, not a string"),
    "medication a number": ("/api/check", {"medications": ["ketamine", 3]}, 400, "medications[1] must be a string, not a number"),
    "blank medication": ("/api/check", {"medications": ["ketamine", "  "]}, 400, "medications[1] is empty"),
    "condition null": ("/api/check", {"medications": ["ketamine"], "conditions": [None]}, 400, "conditions[0] must be a string, not null"),
    "unknown field": ("/api/check", {"medications": ["ketamine"], "medication": ["x"]}, 400, "unknown field 'medication' (expected medications, conditions)"),
    "long name": ("/api/check", {"medications": ["k" * 201]}, 400, "medications[0] is longer than 200 characters"),
    "too many medications": ("/api/check", {"medications": ["ketamine"] * 51}, 413, "medications has 51 entries; at most 50 are accepted"),
    "too many conditions": ("/api/check", {"medications": ["ketamine"], "conditions": ["hypertension"] * 21}, 413, "conditions has 21 entries; at most 20 are accepted"),
    "resolve nothing": ("/api/resolve", {"medications": [], "conditions": []}, 400, "give medications or conditions to resolve (both are empty)"),
    "graph empty": ("/api/graph", {"medications": []}, 400, "medications is empty (give at least one medication name)"),
    "suggest no text": ("/api/suggest", {"kind": "medication"}, 400, "text is missing (a string: what was typed so far)"),
    "suggest text number": ("/api/suggest", {"text": 5}, 400, "text must be a string, not a number"),
    "suggest bad kind": ("/api/suggest", {"text": "a", "kind": "drug"}, 400, "kind must be 'medication' or 'condition'"),
    "suggest bad limit": ("/api/suggest", {"text": "a", "limit": 0}, 400, "limit must be an integer from 1 to 20"),
    "suggest bool limit": ("/api/suggest", {"text": "a", "limit": True}, 400, "limit must be an integer from 1 to 20"),
    "suggest long text": ("/api/suggest", {"text": "a" * 201}, 400, "text is longer than 200 characters"),
    "suggest unknown field": ("/api/suggest", {"text": "a", "q": "a"}, 400, "unknown field 'q' (expected text, kind, limit)"),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_requests_get_a_4xx_with_a_clear_message(client: Client, case: str) -> None:
    path, body, status, message = BAD_REQUESTS[case]
    answer = client.post(path, body)
    assert answer.status == status
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"error": message}


def test_body_size_limit(kb: rxcaution.KnowledgeBase) -> None:
    with running(web.create_app(kb, limits=web.Limits(max_body_bytes=1000))) as client:
        answer = client.post("/api/check", b'{"medications": ["ketamine"]' + b" " * 1000 + b"}")
        assert answer.status == 413
        assert answer.json() == {"error": "request body is larger than 1000 bytes"}
        assert client.post("/api/check", {"medications": ["ketamine"]}).status == 200


def test_wrong_method_and_unknown_path_are_json_errors(client: Client) -> None:
    answer = client.get("/api/check")
    assert answer.status == 405 and answer.json() == {"error": "GET is not allowed on /api/check"}
    answer = client.get("/api/nothing")
    assert answer.status == 404 and answer.json() == {"error": "nothing at /api/nothing"}
    answer = client.get("/assets/secret.py")
    assert answer.status == 404 and answer.json() == {"error": "no asset 'secret.py'"}


# --- the page and its assets ------------------------------------------------------------------------


def test_page_shows_the_pack_and_the_disclaimer(client: Client, kb: rxcaution.KnowledgeBase) -> None:
    answer = client.get("/")
    assert answer.status == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    page = answer.text
    info = kb.info
    assert f"<strong>{info.name}</strong> version <strong>{info.version}</strong>" in page
    assert "licence: CC BY 4.0" in page
    assert web.DISCLAIMER in page
    assert '<label for="med-input"' in page and '<label for="cond-input"' in page
    config = json.loads(re.search(r'<script type="application/json" id="rx-config">(.*?)</script>', page).group(1))
    assert config["limits"] == web.Limits().to_dict()
    assert "{{" not in page  # every placeholder filled


def test_page_loads_nothing_from_elsewhere(client: Client) -> None:
    answer = client.get("/")
    csp = answer.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp and "script-src 'self'" in csp
    page = answer.text
    refs = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert refs and all(r.startswith(("/assets/", "#")) for r in refs), refs
    for path in re.findall(r'"(/assets/[^"]+)"', page):
        asset = client.get(path)
        assert asset.status == 200, path
        assert "immutable" in asset.headers["cache-control"]
        # No URL that a browser would load on its own (links the person follows are built from data).
        assert not re.search(r"(?:url\(|@import|https?://(?!www\.w3\.org/2000/svg))", asset.text), path


def test_asset_urls_change_with_their_content(client: Client) -> None:
    page = client.get("/").text
    js = re.search(r'src="/assets/app\.js\?v=([0-9a-f]{12})"', page)
    assert js is not None
    import hashlib

    assert hashlib.sha256(client.get("/assets/app.js").body).hexdigest()[:12] == js.group(1)


def test_info(client: Client, kb: rxcaution.KnowledgeBase) -> None:
    info = client.get("/api/info").json()
    assert info["name"] == kb.info.name and info["version"] == kb.info.version and info["licence"] == kb.info.licence
    assert info["disclaimer"] == web.DISCLAIMER
    assert info["graph"] is HAVE_DOT


def test_a_markup_pack_name_is_escaped_in_the_page(tiny_pack: Dict[str, Any]) -> None:
    tiny_pack["manifest"]["name"] = "<b>tiny</b>"
    tiny_pack["manifest"]["description"] = "</script><script>alert(1)</script>"
    kb = rxcaution.KnowledgeBase.from_json(json.dumps(tiny_pack))
    page = web.render_page(kb)
    assert "<b>tiny</b>" not in page and "&lt;b&gt;tiny&lt;/b&gt;" in page
    config = re.search(r'id="rx-config">(.*?)</script>', page, re.S).group(1)
    assert json.loads(config)["pack"]["name"] == "<b>tiny</b>"


# --- one process, two services ----------------------------------------------------------------------


def test_the_cds_hooks_service_is_served_by_the_same_app(client: Client) -> None:
    answer = client.get("/cds-services")
    assert answer.status == 200
    assert [s["id"] for s in answer.json()["services"]] == [
        "rxcaution-order-select",
        "rxcaution-order-sign",
        "rxcaution-medication-prescribe",
    ]
    # Its own error handling is kept.
    answer = client.post("/cds-services/rxcaution-order-sign", b"{")
    assert answer.status == 400 and answer.json()["error"].startswith("request body is not valid JSON")
    assert client.post("/cds-services/nope", {}).status == 404


@contextlib.contextmanager
def command_line(*args: str) -> Iterator[Client]:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()  # the subprocess binds it; a lost race shows as a clear failure below
    proc = subprocess.Popen(
        [sys.executable, "-m", "rxcaution.web", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        client = Client(f"http://127.0.0.1:{port}")
        wait_until_up(client, proc=proc)
        yield client
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.communicate()


def test_command_line_serves_the_page_and_the_api() -> None:
    with command_line() as client:
        assert "rxcaution" in client.get("/").text
        report = client.post("/api/check", REGIMEN).json()
        assert report["max_severity"] == "major"
        assert client.get("/cds-services").status == 200


def test_command_line_with_a_pack(write_pack, tiny_pack: Dict[str, Any]) -> None:
    with command_line("--pack", str(write_pack(tiny_pack))) as client:
        assert client.get("/api/info").json()["name"] == "tiny"
        assert "<strong>tiny</strong> version <strong>0.0.1</strong> · licence: CC0-1.0" in client.get("/").text
        report = client.post("/api/check", {"medications": ["alpha", "gamma"]}).json()
        assert [w["rule"] for w in report["warnings"]] == ["alpha-depressants"]


def test_module_is_typed_strictly(tmp_path) -> None:
    pytest.importorskip("mypy", reason="mypy is part of the test requirements: pip install 'rxcaution[test]'")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path), "-p", "rxcaution.web"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_module_is_documented() -> None:
    assert "not medical advice" in (web.__doc__ or "")
    for name in web.__all__:
        obj = getattr(web, name)
        if callable(obj):
            assert obj.__doc__, name
    help_text = subprocess.run([sys.executable, "-m", "rxcaution.web", "--help"], capture_output=True, text=True, timeout=60)
    assert help_text.returncode == 0 and "--port" in help_text.stdout and "--host" in help_text.stdout
