"""Hypothesis fuzzing of the CDS Hooks request parsing, over real HTTP on 127.0.0.1 (issue 13).

Hook requests are the FHIR fixtures with fields replaced by arbitrary JSON (lone UTF-16
surrogates, wrong types, nested structures), and arbitrary bytes. Whatever arrives, the service
answers with a card list (200) or an error naming the problem (400 or 413), never a 500.
The example counts follow the settings profile of test_properties.py (HYPOTHESIS_PROFILE).
"""

from __future__ import annotations

import copy
import http.client
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple, Union

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="needs hypothesis: pip install '.[test]'")
pytest.importorskip("starlette", reason="needs the cds extra: pip install 'rxcaution[cds]'")
uvicorn = pytest.importorskip("uvicorn", reason="needs the cds extra: pip install 'rxcaution[cds]'")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rxcaution import cds_hooks  # noqa: E402

_COMMON = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=40, derandomize=True, **_COMMON)
settings.register_profile("dev", max_examples=200, **_COMMON)
settings.register_profile("thorough", max_examples=3000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cds"
REQUESTS = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("*.json"))}

Path_ = Tuple[Union[str, int], ...]


def json_paths(value: Any, path: Path_ = ()) -> Iterator[Path_]:
    yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from json_paths(child, path + (key,))


PATHS = {name: list(json_paths(doc))[1:] for name, doc in REQUESTS.items()}

text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["\ud800", "x\udfff", "\udbff\udc00", "methadone", "rxcui:6813", "6813", "", " ", "\x00", "\u202e"]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.floats(allow_nan=False, allow_infinity=False) | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)


@st.composite
def mutated_requests(draw: st.DrawFn) -> Tuple[str, Dict[str, Any]]:
    name = draw(st.sampled_from(sorted(REQUESTS)), label="fixture")
    body = copy.deepcopy(REQUESTS[name])
    for path in draw(st.lists(st.sampled_from(PATHS[name]), min_size=1, max_size=3), label="paths"):
        target: Any = body
        try:
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = draw(json_values, label="value")
        except (KeyError, IndexError, TypeError):
            continue  # an earlier replacement removed this path
    return "/cds-services/rxcaution-" + REQUESTS[name]["hook"], body


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(cds_hooks.create_app(), log_level="warning", ws="none", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    port = sock.getsockname()[1]
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the CDS Hooks server did not start"
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def post(port: int, path: str, data: bytes) -> Tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


@given(request=mutated_requests())
def test_mutated_hook_requests_get_cards_or_a_400_never_a_500(port: int, request: Tuple[str, Dict[str, Any]]) -> None:
    path, body = request
    status, answer = post(port, path, json.dumps(body).encode("ascii"))  # surrogates travel as \ud800 escapes
    assert status in (200, 400, 413), (status, answer)
    if status == 200:
        assert isinstance(answer["cards"], list)
        for card in answer["cards"]:
            assert {"uuid", "summary", "indicator", "source"} <= set(card)
    else:
        assert set(answer) == {"error"} and answer["error"]


@given(data=st.binary(max_size=200), prefix=st.sampled_from([b"", b'{"hook": "order-sign", "x": "', b"[", b'"']))
def test_arbitrary_bytes_get_a_400_never_a_500(port: int, data: bytes, prefix: bytes) -> None:
    status, answer = post(port, "/cds-services/rxcaution-order-sign", prefix + data)
    assert status == 400, (status, answer)
    assert set(answer) == {"error"} and answer["error"]


@given(items=st.lists(json_values, max_size=3))
def test_arbitrary_feedback_gets_an_answer_or_a_400(port: int, items: List[Any]) -> None:
    status, answer = post(port, "/cds-services/rxcaution-order-sign/feedback", json.dumps({"feedback": items}).encode())
    assert status in (200, 400), (status, answer)
