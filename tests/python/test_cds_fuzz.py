"""Hostile CDS Hooks requests against the service's ASGI application (issue 13: fuzzing).

Hypothesis generates request bodies of four kinds: raw bytes (broken UTF-8, broken JSON, deep
nesting), arbitrary JSON values, requests built like real hook calls with every field's value,
type and presence drawn, and the fixtures of fixtures/cds/ with one value somewhere replaced by
arbitrary JSON. Each is POSTed with a drawn Content-Type to a drawn endpoint.

The contract under test: the service never fails. Every answer is one of the documented statuses
(200; 400 malformed; 404 unknown service; 413 too large; 415 not JSON; 503/504 busy or too slow,
from the service limits) with a JSON body: ``{"cards": [...]}`` of well-formed cards for 200,
``{"error": "..."}`` otherwise. A 500, any other status, a non-JSON body or an exception escaping
the application is a failure.

The application is called directly through the ASGI interface (no network, no HTTP client
library), which is what a server does, so an exception that escapes it is seen as it is. Example
counts are moderate so that the module takes a few seconds; the regimens stay small because the
cost of big ones is the subject of the service's limits, not of this test.
"""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

pytest.importorskip("starlette", reason="needs the cds extra: pip install 'rxcaution[cds]'")
hypothesis = pytest.importorskip("hypothesis", reason="needs hypothesis (pip install 'rxcaution[test]')")

from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rxcaution import cds_hooks  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cds"
SERVICES = ["rxcaution-order-sign", "rxcaution-order-select"]
DOCUMENTED_ERRORS = {400, 404, 413, 415, 503, 504}
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
INDICATORS = {"info", "warning", "critical"}

FUZZ = settings(
    max_examples=120,
    deadline=None,  # the first calls warm the knowledge base; a slow machine is not a finding
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    derandomize=True,  # CI runs the same examples every time (and keeps no example database)
    database=None,
)


# --- calling the ASGI application --------------------------------------------------------------


def call(app: Any, path: str, body: bytes, content_type: Optional[str] = "application/json") -> Tuple[int, bytes]:
    """POSTs ``body`` to ``path`` through the ASGI interface; returns (status, body)."""
    headers = [(b"host", b"testserver"), (b"content-length", str(len(body)).encode())]
    if content_type is not None:
        headers.append((b"content-type", content_type.encode("latin-1")))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("latin-1"),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8080),
    }
    # Sent in two chunks so that the streaming body reader is exercised as over a socket.
    half = len(body) // 2
    incoming = [
        {"type": "http.request", "body": body[:half], "more_body": True},
        {"type": "http.request", "body": body[half:], "more_body": False},
    ]
    status: List[int] = []
    chunks: List[bytes] = []

    async def receive() -> Dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)  # the client keeps the connection open; never reached normally
        return {"type": "http.disconnect"}

    async def send(message: Dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    async def run() -> None:
        await asyncio.wait_for(app(scope, receive, send), timeout=60)

    asyncio.run(run())
    assert status, "the application sent no response"
    return status[0], b"".join(chunks)


def assert_documented_answer(status: int, raw: bytes) -> Any:
    """The oracle: a documented status with a JSON body of the documented shape."""
    assert status == 200 or status in DOCUMENTED_ERRORS, f"HTTP {status}: {raw[:500]!r}"
    answer = json.loads(raw)  # every answer is JSON (a failure here shows the body)
    if status != 200:
        assert set(answer) == {"error"} and isinstance(answer["error"], str) and answer["error"], answer
        return answer
    assert set(answer) == {"cards"} and isinstance(answer["cards"], list), answer
    for card in answer["cards"]:
        assert isinstance(card.get("uuid"), str) and card["uuid"], card
        # CDS Hooks 2.0: summary is a string of fewer than 140 characters.
        assert isinstance(card.get("summary"), str) and 0 < len(card["summary"]) < 140, card
        assert card.get("indicator") in INDICATORS, card
        assert isinstance(card.get("source"), dict) and isinstance(card["source"].get("label"), str), card
    return answer


def fuzz_call(app: Any, path: str, body: bytes, content_type: Optional[str] = "application/json") -> Any:
    """call() + the oracle, inside a hypothesis test (the status shows in --hypothesis-show-statistics)."""
    status, raw = call(app, path, body, content_type)
    event(f"HTTP {status}")
    return assert_documented_answer(status, raw)


def post_json(app: Any, service: str, body: Any, content_type: Optional[str] = "application/json") -> Any:
    raw = json.dumps(body, ensure_ascii=True, allow_nan=True).encode("ascii")
    return fuzz_call(app, f"/cds-services/{service}", raw, content_type)


@pytest.fixture(scope="module")
def app() -> Any:
    return cds_hooks.create_app()


# --- strategies ---------------------------------------------------------------------------------

# Text as a clinician or an attacker types it: drug names, their pieces, control characters, JSON
# syntax, huge code points; lone surrogates only where a test asks for them (see below).
NAMES = ["methadone", "Suboxone", "buprenorphine", "clarithromycin", "ketamine", "naltrexone",
         "ondansetron", "hypertension", "long QT syndrome", "rxcui:6813", "6813", "21212", ""]


def texts(surrogates: bool = False) -> st.SearchStrategy[str]:
    alphabet: st.SearchStrategy[str] = st.characters()  # hypothesis leaves out surrogates by default
    if surrogates:
        alphabet = st.one_of(alphabet, st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"]))
    return st.one_of(
        st.sampled_from(NAMES),
        st.text(alphabet=alphabet, max_size=40),
        st.builds(lambda a, b: a + b, st.sampled_from(NAMES), st.text(alphabet=alphabet, max_size=8)),
        st.just("\x00\x1b[31m\u202e\ufeff"),
    )


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),  # Python's json reads NaN and Infinity
    texts(),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(texts(), children, max_size=4)),
    max_leaves=20,
)


def maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's value (mostly: a request with one wrong field is already a 400), or a wrongly
    typed one, or null."""
    return st.one_of(*([value] * 8), json_values, st.none())


def codeable_concepts(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    coding = st.fixed_dictionaries(
        {},
        optional={
            "system": maybe(st.sampled_from([RXNORM, "urn:oid:2.16.840.1.113883.6.88", "http://snomed.info/sct"])),
            "code": maybe(st.one_of(st.sampled_from(["6813", "21212", "1819", "6130"]), text)),
            "display": maybe(text),
        },
    )
    return st.fixed_dictionaries({}, optional={"coding": maybe(st.lists(coding, max_size=3)), "text": maybe(text)})


def medication_resources(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {"resourceType": st.sampled_from(["MedicationRequest", "MedicationStatement", "MedicationDispense",
                                          "MedicationAdministration", "Medication", "Condition", "Observation"])},
        optional={
            "id": maybe(text),
            "status": maybe(st.sampled_from(["draft", "active", "stopped", "entered-in-error"])),
            "medicationCodeableConcept": maybe(codeable_concepts(text)),
            "medicationReference": maybe(st.fixed_dictionaries({}, optional={"reference": maybe(text), "display": maybe(text)})),
            "medication": maybe(st.fixed_dictionaries({}, optional={"concept": maybe(codeable_concepts(text))})),
            "contained": maybe(st.lists(st.fixed_dictionaries({"resourceType": st.just("Medication"), "id": text,
                                                               "code": codeable_concepts(text)}), max_size=2)),
            "code": maybe(codeable_concepts(text)),
            "clinicalStatus": maybe(codeable_concepts(st.sampled_from(["active", "resolved", "relapse"]))),
            "verificationStatus": maybe(codeable_concepts(st.sampled_from(["confirmed", "refuted"]))),
        },
    )


def bundles(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    entry = st.fixed_dictionaries({}, optional={"resource": maybe(medication_resources(text)), "fullUrl": maybe(text)})
    # At most 8 entries: the cost of large requests is bounded by the service limits, tested there.
    return st.fixed_dictionaries(
        {"resourceType": st.sampled_from(["Bundle", "Bundle", "Bundle", "Parameters"])},
        optional={"type": maybe(st.just("collection")), "entry": maybe(st.lists(maybe(entry), max_size=8))},
    )


def hook_requests(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    context = st.fixed_dictionaries(
        {"draftOrders": maybe(bundles(text))},
        optional={
            "selections": maybe(st.lists(maybe(st.one_of(text, st.just("MedicationRequest/draft-1"))), max_size=4)),
            "patientId": maybe(text),
        },
    )
    prefetch = st.fixed_dictionaries(
        {},
        optional={k: maybe(bundles(text)) for k in ("medicationRequests", "medicationStatements", "conditions")},
    )
    # hook, hookInstance and context are required by CDS Hooks: present (if maybe wrong) mostly.
    return st.fixed_dictionaries(
        {"hookInstance": maybe(st.one_of(st.uuids().map(str), text)), "context": maybe(context)},
        optional={
            "hook": maybe(st.sampled_from(["order-sign", "order-select", "patient-view"])),
            "prefetch": maybe(prefetch),
            "fhirServer": maybe(text),
        },
    )


services = st.sampled_from(SERVICES + ["rxcaution-order-sign/feedback", "no-such-service"])
content_types = st.sampled_from(
    ["application/json", "application/json", "application/json; charset=utf-8", "application/fhir+json",
     "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None]
)


def fixtures() -> List[Dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("*.json"))]


def paths(value: Any, prefix: Tuple[Any, ...] = ()) -> List[Tuple[Any, ...]]:
    """Every path (tuple of keys and indexes) into a JSON value."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, prefix + (i,))
    return out


def replaced(value: Any, path: Tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    out = copy.deepcopy(value)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return out


# --- the tests ----------------------------------------------------------------------------------


@FUZZ
@given(body=st.binary(max_size=2048), service=services, content_type=content_types)
def test_raw_bytes_get_a_documented_answer(app: Any, body: bytes, service: str, content_type: Optional[str]) -> None:
    fuzz_call(app, f"/cds-services/{service}", body, content_type)


@FUZZ
@given(
    body=st.one_of(
        json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()),
        st.integers(min_value=1, max_value=200_000).map(lambda n: b"[" * n + b"]" * n),  # deep nesting
        st.integers(min_value=1, max_value=200_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
        st.sampled_from([b"1e999", b"-1e400", b"NaN", b"Infinity", b'"\\u0000"', b"\xef\xbb\xbf{}", b"{}" * 5000]),
    ),
    service=services,
)
def test_arbitrary_json_gets_a_documented_answer(app: Any, body: bytes, service: str) -> None:
    fuzz_call(app, f"/cds-services/{service}", body)


@FUZZ
@given(request=hook_requests(texts()), service=st.sampled_from(SERVICES), content_type=content_types)
def test_generated_hook_requests_get_a_documented_answer(
    app: Any, request: Any, service: str, content_type: Optional[str]
) -> None:
    if "hook" not in request:  # mostly the right hook, so that most requests reach the check
        request["hook"] = "order-select" if service.endswith("select") else "order-sign"
    post_json(app, service, request, content_type)


@FUZZ
@given(data=st.data(), index=st.integers(min_value=0, max_value=len(fixtures()) - 1))
def test_fixtures_with_one_value_replaced_get_a_documented_answer(app: Any, data: Any, index: int) -> None:
    base = fixtures()[index]
    service = "rxcaution-order-select" if base.get("hook") == "order-select" else "rxcaution-order-sign"
    path = data.draw(st.sampled_from(paths(base)), label="path")
    body = replaced(base, path, data.draw(json_values, label="new value"))
    post_json(app, service, body)


def test_a_valid_fixture_still_gives_cards(app: Any) -> None:
    """The oracle is not vacuous: a real request passes it with cards, and a broken one with 400."""
    body = (FIXTURES / "order-sign-clarithromycin-methadone.json").read_bytes()
    answer = assert_documented_answer(*call(app, "/cds-services/rxcaution-order-sign", body))
    assert answer["cards"] and any(c["indicator"] in ("warning", "critical") for c in answer["cards"])
    status, raw = call(app, "/cds-services/rxcaution-order-sign", b'{"hook": "order-sign"')
    assert status == 400 and "not valid JSON" in json.loads(raw)["error"]
    with pytest.raises(AssertionError, match="HTTP 500"):
        assert_documented_answer(500, b'{"error": "internal error"}')


def _lone_surrogates_answered(app: Any) -> bool:
    body = json.loads((FIXTURES / "order-sign-clarithromycin-methadone.json").read_text())
    body["context"]["draftOrders"]["entry"][0]["resource"]["medicationCodeableConcept"]["text"] = "\ud800"
    raw = json.dumps(body, ensure_ascii=True).encode("ascii")
    try:
        status, _ = call(app, "/cds-services/rxcaution-order-sign", raw)
    except Exception:  # the 500 handler answers, then Starlette re-raises the error
        return False
    return status != 500


def test_requests_with_lone_surrogates_get_a_documented_answer(app: Any) -> None:
    # JSON may escape a lone UTF-16 surrogate ("\ud800"); Python's json reads it into a str that
    # cannot be encoded as UTF-8. Issue 13 item 3: the service answered such requests with HTTP 500.
    # Until that fix is in, this test reports the known defect as xfail instead of failing the run;
    # with the fix in, it runs in full.
    if not _lone_surrogates_answered(app):
        pytest.xfail("issue 13 item 3: a lone surrogate in medication text gives HTTP 500 (fix pending)")

    @FUZZ
    @given(request=hook_requests(texts(surrogates=True)), service=st.sampled_from(SERVICES))
    def run(request: Any, service: str) -> None:
        request.setdefault("hook", "order-select" if service.endswith("select") else "order-sign")
        post_json(app, service, request)

    run()
