"""The CDS Hooks service (`python -m rxcaution.cds_hooks`), tested over real HTTP on 127.0.0.1.

A uvicorn server runs in a background thread on a socket bound to a free loopback port (so there is
no port race) for the whole module, and is stopped at teardown; one more test starts the real
command line in a subprocess. Requests are built from the FHIR fixtures in fixtures/cds/.
"""

from __future__ import annotations

import contextlib
import dataclasses
import copy
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

import pytest

import rxcaution

pytest.importorskip("starlette", reason="needs the cds extra: pip install 'rxcaution[cds]'")
uvicorn = pytest.importorskip("uvicorn", reason="needs the cds extra: pip install 'rxcaution[cds]'")

from rxcaution import cds_hooks  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cds"
SIGN = "/cds-services/rxcaution-order-sign"
SELECT = "/cds-services/rxcaution-order-select"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def fixture(name: str) -> Dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class Client:
    """Plain urllib calls; 4xx/5xx answers are returned, not raised."""

    def __init__(self, base: str) -> None:
        self.base = base

    def request(self, method: str, path: str, body: Union[bytes, Any, None] = None) -> Tuple[int, Any]:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            payload = err.read()
            err.close()
            return err.code, json.loads(payload) if payload else None

    def get(self, path: str) -> Tuple[int, Any]:
        return self.request("GET", path)

    def post(self, path: str, body: Union[bytes, Any]) -> Tuple[int, Any]:
        return self.request("POST", path, body)

    def cards(self, path: str, body: Any) -> List[Dict[str, Any]]:
        status, answer = self.post(path, body)
        assert status == 200, answer
        assert set(answer) == {"cards"}
        for card in answer["cards"]:
            assert {"uuid", "summary", "indicator", "source"} <= set(card), card
            assert card["indicator"] in ("info", "warning", "critical")
            assert len(card["summary"]) < 140
            assert card["source"]["label"]
        return answer["cards"]


def wait_until_up(client: Client, deadline_s: float = 15.0, proc: Optional[subprocess.Popen] = None) -> None:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            status, _ = client.get("/cds-services")
            if status == 200:
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"the server exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}"
            )
        if time.monotonic() > deadline:
            raise AssertionError("the CDS Hooks server did not answer in time")
        time.sleep(0.05)


@contextlib.contextmanager
def running(app: Any) -> Iterator[Client]:
    """Serves `app` with uvicorn in a thread on a free loopback port; stops it on exit."""
    sock = free_socket()
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="off", access_log=False)
    srv = uvicorn.Server(config)
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
    """The service with its defaults, for the whole module; yields (client, app)."""
    app = cds_hooks.create_app()
    with running(app) as client:
        yield client, app


@pytest.fixture
def client(server) -> Client:
    return server[0]


def with_rule(cards: List[Dict[str, Any]], rule: str) -> List[Dict[str, Any]]:
    return [c for c in cards if f"rule {rule}:" in c.get("detail", "")]


# --- discovery ----------------------------------------------------------------------------------


def test_discovery_lists_the_services(client: Client) -> None:
    status, doc = client.get("/cds-services")
    assert status == 200
    services = {s["id"]: s for s in doc["services"]}
    assert set(services) == {"rxcaution-order-select", "rxcaution-order-sign", "rxcaution-medication-prescribe"}
    assert services["rxcaution-order-select"]["hook"] == "order-select"
    assert services["rxcaution-order-sign"]["hook"] == "order-sign"
    assert services["rxcaution-medication-prescribe"]["hook"] == "medication-prescribe"
    for service in services.values():
        assert service["title"]
        assert "not medical advice" in service["description"]
        assert service["prefetch"] == {
            "medicationRequests": "MedicationRequest?patient={{context.patientId}}&status=active",
            "medicationStatements": "MedicationStatement?patient={{context.patientId}}&status=active",
            "conditions": "Condition?patient={{context.patientId}}&clinical-status=active",
        }


# --- the clinical scenarios ---------------------------------------------------------------------


def test_clarithromycin_for_a_patient_on_methadone(client: Client, kb: rxcaution.KnowledgeBase) -> None:
    cards = client.cards(SIGN, fixture("order-sign-clarithromycin-methadone.json"))
    [card] = with_rule(cards, "methadone-cyp3a-inhibitors")
    assert card["indicator"] == "warning"
    assert "methadone" in card["summary"].lower() and "clarithromycin" in card["summary"].lower()
    assert kb.interaction("methadone-cyp3a-inhibitors").severity == rxcaution.Severity.MAJOR
    assert f"**Management:** {kb.interaction('methadone-cyp3a-inhibitors').management}" in card["detail"]
    # The card names the orders it is about, in the EHR's words.
    assert "Clarithromycin 500 MG Oral Tablet (draft order `MedicationRequest/draft-clarithromycin`" in card["detail"]
    assert "`MedicationRequest/active-methadone`, matched by RxNorm code" in card["detail"]
    assert "not medical advice" in card["detail"]
    # Every card involves the draft order; nothing was left unchecked.
    assert all("draft-clarithromycin" in c["detail"] for c in cards)
    assert not [c for c in cards if c["indicator"] == "info"]


def test_naltrexone_for_a_patient_on_buprenorphine(client: Client, kb: rxcaution.KnowledgeBase) -> None:
    cards = client.cards(SIGN, fixture("order-sign-naltrexone-buprenorphine.json"))
    [card] = with_rule(cards, "buprenorphine-naltrexone")
    assert card["indicator"] == "critical"
    assert kb.interaction("buprenorphine-naltrexone").severity == rxcaution.Severity.CONTRAINDICATED
    assert "naltrexone" in card["summary"].lower() and "suboxone" in card["summary"].lower()
    assert "matched by RxNorm code" in card["detail"]  # the draft had only RxCUI 7243
    # Suboxone is both an active MedicationRequest and a MedicationStatement: counted once.
    uuids = [c["uuid"] for c in cards]
    assert len(uuids) == len(set(uuids))
    assert not [c for c in cards if "duplicate-therapy" in c["detail"]]


def test_ketamine_for_a_patient_with_hypertension(client: Client) -> None:
    cards = client.cards(SIGN, fixture("order-sign-ketamine-hypertension.json"))
    drug_condition = [c for c in cards if "drug-condition" in c.get("detail", "")]
    assert drug_condition, cards
    [card] = with_rule(drug_condition, "ketamine-cardiovascular-disease")
    assert card["indicator"] in ("warning", "critical")
    assert "ketamine" in card["summary"].lower() and "hypertension" in card["summary"].lower()
    # A contained Medication was followed to its code.
    assert "Ketamine hydrochloride 50 mg/mL injection (draft order `MedicationRequest/draft-ketamine`" in card["detail"]
    # The SNOMED-only condition is reported as not checked; the refuted one is skipped.
    [unmapped] = [c for c in cards if c["indicator"] == "info"]
    assert "not recognised" in unmapped["summary"]
    assert "Seasonal allergic rhinitis" in unmapped["detail"]
    assert "long QT" not in json.dumps(cards)


def test_unknown_medication_gives_a_not_checked_card(client: Client) -> None:
    cards = client.cards(SELECT, fixture("order-select-unknown-medication.json"))
    [card] = cards
    assert card["indicator"] == "info"
    assert card["summary"].startswith("Not checked")
    assert "Zorblaxin 5 mg tablet" in card["summary"]
    assert "not checked" in card["detail"]


def test_same_request_twice_gives_identical_cards(client: Client) -> None:
    for name in ("order-sign-clarithromycin-methadone.json", "order-sign-ketamine-hypertension.json"):
        body = fixture(name)
        first = client.cards(SIGN, body)
        second = client.cards(SIGN, body)
        assert [c["uuid"] for c in first] == [c["uuid"] for c in second]
        assert first == second


def test_order_select_and_order_sign_give_the_same_uuids(client: Client) -> None:
    body = fixture("order-sign-clarithromycin-methadone.json")
    select = dict(body, hook="order-select")
    select["context"] = dict(body["context"], selections=["MedicationRequest/draft-clarithromycin"])
    assert [c["uuid"] for c in client.cards(SELECT, select)] == [c["uuid"] for c in client.cards(SIGN, body)]


def test_concurrent_requests_share_one_knowledge_base(server) -> None:
    client, app = server
    assert isinstance(app.state.kb, rxcaution.KnowledgeBase)
    bodies = [fixture("order-sign-clarithromycin-methadone.json"), fixture("order-sign-naltrexone-buprenorphine.json")]
    expected = [client.cards(SIGN, b) for b in bodies]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: client.cards(SIGN, bodies[i % 2]), range(16)))
    for i, result in enumerate(results):
        assert result == expected[i % 2]


# --- which cards are returned -------------------------------------------------------------------


def med_request(
    rid: str, text: Optional[str] = None, rxcui: Optional[str] = None, status: str = "active"
) -> Dict[str, Any]:
    concept: Dict[str, Any] = {}
    if rxcui:
        concept["coding"] = [{"system": RXNORM, "code": rxcui}]
    if text:
        concept["text"] = text
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": concept,
        "subject": {"reference": "Patient/pat-9"},
    }


def bundle(*resources: Dict[str, Any]) -> Dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def hook_request(
    hook: str, drafts: List[Dict[str, Any]], active: List[Dict[str, Any]], **context: Any
) -> Dict[str, Any]:
    return {
        "hook": hook,
        "hookInstance": "0b9c6c7e-1a2b-4c3d-8e9f-000000000009",
        "context": {"userId": "Practitioner/prac-1", "patientId": "pat-9", "draftOrders": bundle(*drafts), **context},
        "prefetch": {"medicationRequests": bundle(*active), "medicationStatements": None, "conditions": None},
    }


def test_interactions_only_between_active_medications_are_left_out(client: Client, kb: rxcaution.KnowledgeBase) -> None:
    body = hook_request(
        "order-sign",
        drafts=[med_request("d1", "clarithromycin", status="draft")],
        active=[med_request("a1", "methadone"), med_request("a2", "alprazolam")],
    )
    cards = client.cards(SIGN, body)
    assert cards and all("draft order `MedicationRequest/d1`" in c["detail"] for c in cards)
    # The option keeps them: methadone + alprazolam (opioid with a benzodiazepine) appears.
    everything = cds_hooks.evaluate_request(
        kb, cds_hooks.SERVICES["rxcaution-order-sign"], body, include_active_interactions=True
    )["cards"]
    extra = [c for c in everything if c not in cards]
    assert extra and all("draft order" not in c["detail"] for c in extra)
    assert any("alprazolam" in c["summary"].lower() and "methadone" in c["summary"].lower() for c in extra)


def test_order_select_focuses_on_the_selected_orders(client: Client) -> None:
    drafts = [med_request("d1", "clarithromycin", status="draft"), med_request("d2", rxcui="7243", status="draft")]
    active = [med_request("a1", "methadone")]
    sign_cards = client.cards(SIGN, hook_request("order-sign", drafts, active))
    select_cards = client.cards(
        SELECT, hook_request("order-select", drafts, active, selections=["MedicationRequest/d2"])
    )
    assert with_rule(sign_cards, "methadone-cyp3a-inhibitors")
    assert not with_rule(select_cards, "methadone-cyp3a-inhibitors")  # clarithromycin was not selected
    assert select_cards and all("`MedicationRequest/d2`" in c["detail"] for c in select_cards)
    assert any(c["indicator"] == "critical" for c in select_cards)  # naltrexone with methadone
    # Selecting a non-medication order: nothing to say.
    assert client.cards(SELECT, hook_request("order-select", drafts, active, selections=["ServiceRequest/lab-1"])) == []


def test_stopped_medications_and_the_echoed_draft_are_not_counted(client: Client) -> None:
    draft = med_request("d1", "methadone", status="draft")
    body = hook_request(
        "order-sign",
        drafts=[draft],
        active=[med_request("a1", "clarithromycin", status="stopped"), dict(draft, status="active")],
    )
    assert client.cards(SIGN, body) == []


def test_draft_orders_are_checked_against_each_other_without_prefetch(client: Client) -> None:
    body = hook_request("order-sign", [med_request("d1", "methadone"), med_request("d2", "clarithromycin")], [])
    del body["prefetch"]
    cards = client.cards(SIGN, body)
    assert with_rule(cards, "methadone-cyp3a-inhibitors")
    [info] = [c for c in cards if c["indicator"] == "info"]
    assert "not sent" in info["summary"]
    for key in ("medicationRequests", "medicationStatements", "conditions"):
        assert key in info["detail"]


def test_medication_reference_into_the_bundle_and_r5_shape(client: Client) -> None:
    medication = {
        "resourceType": "Medication",
        "id": "med-1",
        "code": {"coding": [{"system": RXNORM, "code": "6813", "display": "methadone"}]},
    }
    by_reference = {
        "resourceType": "MedicationRequest",
        "id": "a1",
        "status": "active",
        "intent": "order",
        "medicationReference": {"reference": "Medication/med-1"},
    }
    r5 = {
        "resourceType": "MedicationRequest",
        "id": "d1",
        "status": "draft",
        "intent": "order",
        "medication": {"concept": {"text": "clarithromycin"}},
    }
    body = hook_request("order-sign", [r5], [by_reference, medication])
    assert with_rule(client.cards(SIGN, body), "methadone-cyp3a-inhibitors")


def test_unknown_rxcui_falls_back_to_the_text(client: Client) -> None:
    body = hook_request(
        "order-sign", [med_request("d1", "Clarithromycin 250 mg", rxcui="99999999")], [med_request("a1", rxcui="6813")]
    )
    [card] = with_rule(client.cards(SIGN, body), "methadone-cyp3a-inhibitors")
    assert "Clarithromycin 250 mg (draft order `MedicationRequest/d1`, matched by name)" in card["detail"]


# --- errors -------------------------------------------------------------------------------------


def _good() -> Dict[str, Any]:
    return fixture("order-sign-clarithromycin-methadone.json")


def _drop(key: str) -> Dict[str, Any]:
    body = _good()
    del body[key]
    return body


def _ctx(**changes: Any) -> Dict[str, Any]:
    body = _good()
    body["context"].update(changes)
    return body


def _deep(path: List[Union[str, int]], value: Any) -> Dict[str, Any]:
    body = _good()
    target: Any = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return body


DRAFT = ["context", "draftOrders", "entry", 0, "resource"]

MALFORMED: Dict[str, Tuple[Union[bytes, Any], str]] = {
    "invalid JSON": (b'{"hook": "order-sign",', "not valid JSON"),
    "empty body": (b"", "empty"),
    "not UTF-8": (b'{"hook": "\xff\xfe"}', "UTF-8"),
    "array body": ([1, 2], "must be an object"),
    "missing hook": (_drop("hook"), "hook is missing"),
    "wrong hook": (dict(_good(), hook="order-select"), "answers hook 'order-sign', not 'order-select'"),
    "hook not a string": (dict(_good(), hook=7), "hook must be a string"),
    "missing hookInstance": (_drop("hookInstance"), "hookInstance"),
    "missing context": (_drop("context"), "context is missing"),
    "context not an object": (dict(_good(), context="pat-1"), "context must be an object"),
    "missing draftOrders": (_ctx(draftOrders=None), "draftOrders is missing"),
    "draftOrders a list": (_ctx(draftOrders=[]), "draftOrders must be a FHIR Bundle"),
    "draftOrders a resource": (_ctx(draftOrders={"resourceType": "MedicationRequest"}), "must be a FHIR Bundle"),
    "entry not an array": (_deep(["context", "draftOrders", "entry"], {"resource": {}}), "entry must be an array"),
    "entry not an object": (_deep(["context", "draftOrders", "entry", 0], "x"), "entry[0] must be an object"),
    "resource without type": (_deep(DRAFT + ["resourceType"], None), "resourceType is missing"),
    "coding not an array": (
        _deep(DRAFT + ["medicationCodeableConcept", "coding"], {"code": "1"}),
        "coding must be an array",
    ),
    "code a number": (
        _deep(DRAFT + ["medicationCodeableConcept", "coding", 0, "code"], 21212),
        "code must be a string",
    ),
    "concept a string": (_deep(DRAFT + ["medicationCodeableConcept"], "clarithromycin"), "must be an object"),
    "prefetch not an object": (dict(_good(), prefetch=[]), "prefetch must be an object"),
    "prefetch key not a Bundle": (
        _deep(["prefetch", "medicationRequests"], "none"),
        "prefetch.medicationRequests must be a FHIR Bundle",
    ),
    "selections not a list": (_ctx(selections="MedicationRequest/x"), "selections must be an array"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_requests_get_400_with_a_message(client: Client, case: str) -> None:
    body, message = MALFORMED[case]
    path = SELECT if case == "selections not a list" else SIGN
    if case == "selections not a list":
        body = dict(body, hook="order-select")
    status, answer = client.post(path, body)
    assert status == 400, (case, answer)
    assert set(answer) == {"error"} and isinstance(answer["error"], str)
    assert message in answer["error"], answer["error"]


def test_unknown_service_and_path_get_404(client: Client) -> None:
    status, answer = client.post("/cds-services/no-such-service", _good())
    assert status == 404 and "unknown CDS service 'no-such-service'" in answer["error"]
    status, answer = client.get("/nothing-here")
    assert status == 404 and answer["error"]
    status, answer = client.post("/cds-services/no-such-service/feedback", {"feedback": []})
    assert status == 404


def test_wrong_method_gets_405_as_json(client: Client) -> None:
    status, answer = client.get(SIGN)
    assert status == 405 and answer["error"]


# --- feedback -----------------------------------------------------------------------------------


def test_feedback_is_accepted_and_counted(server) -> None:
    client, app = server
    cards = client.cards(SIGN, fixture("order-sign-clarithromycin-methadone.json"))
    before = app.state.feedback.counts("rxcaution-order-sign")
    feedback = {
        "feedback": [
            {
                "card": cards[0]["uuid"],
                "outcome": "overridden",
                "overrideReason": {"reason": cards[0]["overrideReasons"][1], "userComment": "ECG booked"},
                "outcomeTimestamp": "2024-05-01T10:00:00Z",
            },
            {
                # One alert per pair (issue 12): methadone + clarithromycin is one card now (it was two).
                "card": cards[-1]["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [],
                "outcomeTimestamp": "2024-05-01T10:00:01Z",
            },
        ]
    }
    status, answer = client.post(SIGN + "/feedback", feedback)
    assert status == 200 and answer == {"received": 2}
    after = app.state.feedback.counts("rxcaution-order-sign")
    assert after.get("overridden", 0) == before.get("overridden", 0) + 1
    assert after.get("accepted", 0) == before.get("accepted", 0) + 1
    for bad in (
        {},
        {"feedback": []},
        {"feedback": [{"card": "x", "outcome": "ignored"}]},
        {"feedback": [{"outcome": "accepted"}]},
    ):
        status, answer = client.post(SIGN + "/feedback", bad)
        assert status == 400 and answer["error"], bad


# --- the command line ---------------------------------------------------------------------------


def test_command_line_serves_discovery() -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()  # the subprocess binds it; a lost race shows as a clear failure below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rxcaution.cds_hooks",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        client = Client(f"http://127.0.0.1:{port}")
        wait_until_up(client, proc=proc)
        status, doc = client.get("/cds-services")
        assert status == 200 and len(doc["services"]) == 3
        assert client.cards(SIGN, fixture("order-select-unknown-medication.json") | {"hook": "order-sign"})
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.communicate()


def test_module_is_documented_and_typed() -> None:
    assert "not medical advice" in (cds_hooks.__doc__ or "")
    for name in cds_hooks.__all__:
        obj = getattr(cds_hooks, name)
        if callable(obj):
            assert obj.__doc__, name
    help_text = subprocess.run(
        [sys.executable, "-m", "rxcaution.cds_hooks", "--help"], capture_output=True, text=True, timeout=60
    )
    assert help_text.returncode == 0 and "--port" in help_text.stdout


def _json_paths(value: Any, path: Tuple[Union[str, int], ...] = ()) -> Iterator[Tuple[Union[str, int], ...]]:
    yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from _json_paths(child, path + (key,))


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_no_wrongly_typed_field_causes_an_internal_error(kb: rxcaution.KnowledgeBase, name: str) -> None:
    """Every field of every fixture replaced by values of other JSON types: a RequestError
    (HTTP 400) or a normal answer, never another exception (HTTP 500)."""
    base = fixture(name)
    service = cds_hooks.SERVICES["rxcaution-" + base["hook"]]
    replacements: List[Any] = [None, 1, True, "", "x", [], {}, [None], {"resourceType": "Bundle", "entry": [None]}]
    for path in list(_json_paths(base))[1:]:
        for value in replacements:
            body = copy.deepcopy(base)
            target: Any = body
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value
            try:
                answer = cds_hooks.evaluate_request(kb, service, body)
            except cds_hooks.RequestError as exc:
                assert exc.status == 400 and str(exc)
            else:
                assert isinstance(answer["cards"], list)


def test_an_internal_error_is_a_json_500_without_details(server, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    client, _ = server

    def broken(*args: Any, **kwargs: Any) -> Dict[str, Any]:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(cds_hooks, "evaluate_request", broken)
    with caplog.at_level("CRITICAL"):  # uvicorn logs the traceback; keep the test output quiet
        status, answer = client.post(SIGN, _good())
    assert status == 500
    assert answer == {"error": "internal error in the rxcaution CDS service (RuntimeError)"}


def test_unmapped_active_medication_is_reported(client: Client) -> None:
    body = hook_request("order-sign", [med_request("d1", "clarithromycin")], [med_request("a1", "Herbal sleep tonic")])
    cards = client.cards(SIGN, body)
    assert [c["summary"] for c in cards] == ["Not checked: 'Herbal sleep tonic' is not a medication rxcaution knows"]


def test_body_size_limit_and_cors_options(kb: rxcaution.KnowledgeBase) -> None:
    app = cds_hooks.create_app(kb, cors_origins=["https://sandbox.example.org"], max_body_bytes=2048)
    with running(app) as client:
        status, answer = client.post(SIGN, b"{" + b" " * 4096 + b"}")
        assert status == 413 and "larger than 2048 bytes" in answer["error"]
        req = urllib.request.Request(
            client.base + "/cds-services", headers={"Origin": "https://sandbox.example.org"}, method="GET"
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.headers["access-control-allow-origin"] == "https://sandbox.example.org"
    # Without the option no browser origin is allowed.
    with running(cds_hooks.create_app(kb)) as client:
        req = urllib.request.Request(client.base + "/cds-services", headers={"Origin": "https://evil.example"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert "access-control-allow-origin" not in resp.headers


# --- limits and robustness (issue 13) -----------------------------------------------------------


def condition(rid: str, text: str) -> Dict[str, Any]:
    return {"resourceType": "Condition", "id": rid, "code": {"text": text}, "subject": {"reference": "Patient/pat-9"}}


def raw_post(
    base: str, path: str, data: bytes, content_type: Optional[str] = "application/json"
) -> Tuple[int, Any, Any]:
    """POST raw bytes with a chosen Content-Type (None: no header at all, which urllib cannot do);
    returns (status, JSON answer, headers)."""
    host, port = base.rsplit("/", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.putrequest("POST", path)
        if content_type is not None:
            conn.putheader("Content-Type", content_type)
        conn.putheader("Content-Length", str(len(data)))
        conn.endheaders(data)
        resp = conn.getresponse()
        payload = resp.read()
        return resp.status, json.loads(payload) if payload else None, resp.headers
    finally:
        conn.close()


def rss_bytes(pid: Union[int, str] = "self") -> int:
    """Resident set size from /proc (Linux)."""
    with open(f"/proc/{pid}/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096)


needs_proc = pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="measures memory through /proc (Linux)")


def test_order_select_with_many_selections_is_linear(kb: rxcaution.KnowledgeBase) -> None:
    """Regression: `key in selections` on a list made order-select quadratic (60,000 orders: 29.5 s;
    20,000 took 8.9 s before the fix and 0.3 s after)."""
    n = 20_000
    drafts = [med_request(f"d{i}", "clarithromycin", status="draft") for i in range(n)]
    # Selections that name none of the drafts: every membership test scans the whole list.
    body = hook_request("order-select", drafts, [], selections=[f"MedicationRequest/x{i}" for i in range(n)])
    limits = cds_hooks.Limits(max_draft_orders=n)
    start = time.perf_counter()
    answer = cds_hooks.evaluate_request(kb, cds_hooks.SERVICES["rxcaution-order-select"], body, limits=limits)
    elapsed = time.perf_counter() - start
    assert answer == {"cards": []}  # nothing selected is a medication order
    assert elapsed < 3.0, f"{n} draft orders with {n} selections took {elapsed:.1f} s"


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml",
     "application/json; charset=latin-1", "application/jsonx"],
)
def test_a_body_that_is_not_json_gets_415(client: Client, content_type: Optional[str]) -> None:
    status, answer, _ = raw_post(client.base, SIGN, json.dumps(_good()).encode(), content_type)
    assert status == 415, answer
    if content_type is None:
        assert answer == {"error": "Content-Type is missing; send the request body as application/json"}
    elif "charset" in content_type:
        assert answer == {"error": "charset 'latin-1' is not supported; JSON request bodies must be UTF-8"}
    else:
        media = content_type.split(";")[0]
        assert answer == {"error": f"Content-Type '{media}' is not JSON; send the request body as application/json"}
    status, answer, _ = raw_post(client.base, SIGN + "/feedback", b'{"feedback": []}', content_type)
    assert status == 415


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=UTF-8", "application/fhir+json"]
)
def test_json_content_types_are_accepted(client: Client, content_type: str) -> None:
    status, answer, _ = raw_post(client.base, SIGN, json.dumps(_good()).encode(), content_type)
    assert status == 200 and with_rule(answer["cards"], "methadone-cyp3a-inhibitors")


def _many(n: int, make: Any) -> List[Dict[str, Any]]:
    return [make(i) for i in range(n)]


def test_count_limits_of_the_defaults_get_413_with_a_message(client: Client) -> None:
    limits = cds_hooks.Limits()
    drafts = _many(limits.max_draft_orders + 1, lambda i: med_request(f"d{i}", "clarithromycin", status="draft"))
    status, answer = client.post(SIGN, hook_request("order-sign", drafts, []))
    assert (status, answer) == (
        413,
        {"error": "context.draftOrders has 101 entries; this service accepts at most 100 draft orders per request "
                  "(limit max_draft_orders)"},
    )
    active = _many(limits.max_prefetch_resources + 1, lambda i: med_request(f"a{i}", "methadone"))
    status, answer = client.post(SIGN, hook_request("order-sign", drafts[:1], active))
    assert (status, answer) == (
        413,
        {"error": "the prefetch Bundles hold 1001 entries together; this service accepts at most 1000 prefetch "
                  "resources per request (limit max_prefetch_resources)"},
    )
    # Exactly at the limits is answered.
    status, answer = client.post(
        SIGN, hook_request("order-sign", drafts[:100], active[:1000])
    )
    assert status == 200 and answer["cards"]


def test_the_5000_order_request_of_issue_13_is_refused_quickly(client: Client) -> None:
    """Regression: 5,000 repeated orders drove the server to 7.3 GB and an HTTP 500."""
    names = ["methadone", "buprenorphine", "naltrexone", "clarithromycin", "alprazolam", "ketamine", "clonidine",
             "lofexidine"]
    drafts = _many(5000, lambda i: med_request(f"d{i}", names[i % 8], status="draft"))
    start = time.perf_counter()
    status, answer = client.post(SIGN, hook_request("order-sign", drafts, []))
    assert status == 413 and "limit max_draft_orders" in answer["error"]
    assert time.perf_counter() - start < 5


CHECK_LIMITS = cds_hooks.Limits(max_check_medications=3, max_check_conditions=1, max_text_chars=60, max_codings=2)
LIMIT_CASES: Dict[str, Tuple[Any, str]] = {
    "medications per check": (
        hook_request(
            "order-sign",
            [med_request("d1", "clarithromycin", status="draft"), med_request("d2", "naltrexone", status="draft")],
            [med_request("a1", "methadone"), med_request("a2", "alprazolam"), med_request("a3", "Methadone")],
        ),
        "the request holds 4 medications to check (draft orders and distinct active medications); this service "
        "checks at most 3 at once (limit max_check_medications)",
    ),
    "conditions per check": (
        dict(
            hook_request("order-sign", [med_request("d1", "ketamine", status="draft")], []),
            prefetch={"conditions": bundle(condition("c1", "hypertension"), condition("c2", "epilepsy"),
                                           condition("c3", "Hypertension"))},
        ),
        "the request holds 2 distinct active conditions; this service checks at most 1 at once "
        "(limit max_check_conditions)",
    ),
    "text length": (
        hook_request("order-sign", [med_request("d1", "c" * 61, status="draft")], []),
        "context.draftOrders.entry[0].resource.medicationCodeableConcept.text is 61 characters long; this service "
        "accepts at most 60 (limit max_text_chars)",
    ),
    "resource id length": (
        hook_request("order-sign", [med_request("i" * 61, "clarithromycin", status="draft")], []),
        "context.draftOrders.entry[0].resource.id is 61 characters long; this service accepts at most 60 "
        "(limit max_text_chars)",
    ),
    "codings": (
        hook_request(
            "order-sign",
            [dict(med_request("d1", "clarithromycin", status="draft"),
                  medicationCodeableConcept={"coding": [{"system": RXNORM, "code": str(c)} for c in range(3)]})],
            [],
        ),
        "context.draftOrders.entry[0].resource.medicationCodeableConcept.coding has 3 codings; this service "
        "accepts at most 2 (limit max_codings)",
    ),
    "selections": (
        hook_request(
            "order-select", [med_request("d1", "clarithromycin", status="draft")], [],
            selections=[f"MedicationRequest/d{i}" for i in range(101)],
        ),
        "context.selections has 101 items; this service accepts at most 100 (limit max_draft_orders)",
    ),
}


@pytest.mark.parametrize("case", list(LIMIT_CASES))
def test_check_limits_get_413_with_a_message(kb: rxcaution.KnowledgeBase, case: str) -> None:
    body, message = LIMIT_CASES[case]
    service = cds_hooks.SERVICES["rxcaution-" + body["hook"]]
    with pytest.raises(cds_hooks.RequestError) as caught:
        cds_hooks.evaluate_request(kb, service, body, limits=CHECK_LIMITS)
    assert (caught.value.status, str(caught.value)) == (413, message)
    # One below each limit is answered (the limits bound, they do not forbid).
    relaxed = cds_hooks.Limits(
        max_draft_orders=101, max_check_medications=4, max_check_conditions=2, max_text_chars=61, max_codings=3
    )
    assert isinstance(cds_hooks.evaluate_request(kb, service, body, limits=relaxed)["cards"], list)


def test_the_limits_of_an_app_apply_to_its_requests(kb: rxcaution.KnowledgeBase) -> None:
    body, message = LIMIT_CASES["medications per check"]
    with running(cds_hooks.create_app(kb, limits=CHECK_LIMITS)) as small:
        assert small.post(SIGN, body) == (413, {"error": message})


def test_invalid_limits_are_refused() -> None:
    with pytest.raises(ValueError, match=r"Limits.max_draft_orders must be a positive integer, not 0"):
        cds_hooks.Limits(max_draft_orders=0)
    with pytest.raises(ValueError, match=r"Limits.request_timeout_s must be a positive number of seconds, not nan"):
        cds_hooks.Limits(request_timeout_s=float("nan"))


@needs_proc
def test_bodies_over_the_limit_are_refused_before_parsing(server) -> None:
    """Regression: a 30 MB flat JSON array used 766 MB before it was rejected. Refused by its
    Content-Length, and (sent chunked, with no length) while it streams in."""
    client, _ = server
    host, port = client.base.rsplit("/", 1)[1].split(":")
    before = rss_bytes()
    for chunked in (False, True):
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        chunk = b"[" + b"0," * 512 * 1024  # 1 MiB of a flat array
        total = 30

        def body() -> Iterator[bytes]:
            for _ in range(total):
                yield chunk

        headers = {"Content-Type": "application/json"}
        if not chunked:
            headers["Content-Length"] = str(len(chunk) * total)
        try:
            conn.request("POST", SIGN, body=body(), headers=headers, encode_chunked=chunked)
            resp = conn.getresponse()
            status, answer = resp.status, json.loads(resp.read())
        except (BrokenPipeError, ConnectionResetError):  # pragma: no cover - the server may stop reading
            pytest.fail("the server closed the connection instead of answering 413")
        finally:
            conn.close()
        assert status == 413, answer
        assert answer == {"error": f"request body is larger than {10 * 1024 * 1024} bytes (limit max_body_bytes)"}
    assert rss_bytes() - before < 64 * 1024 * 1024


LONE_SURROGATE = "\ud800"


def test_lone_surrogates_are_replaced_not_a_500(client: Client) -> None:
    """Regression: a lone UTF-16 surrogate escape ("\\ud800", valid JSON syntax) in medication
    text, condition text or a resource id gave HTTP 500."""
    body = hook_request(
        "order-sign",
        [med_request("d1" + LONE_SURROGATE, "clarithromycin", status="draft"),
         med_request("d2", "tonic" + LONE_SURROGATE, status="draft")],
        [med_request("a1", "methadone")],
    )
    body["prefetch"]["conditions"] = bundle(condition("c1", "fever" + LONE_SURROGATE + "x"))
    raw = json.dumps(body).encode("ascii")  # ensure_ascii writes the surrogate as the escape \ud800
    assert b"\\ud800" in raw
    status, answer, _ = raw_post(client.base, SIGN, raw)
    assert status == 200, answer
    cards = answer["cards"]
    [card] = with_rule(cards, "methadone-cyp3a-inhibitors")
    assert "(draft order `MedicationRequest/d1\ufffd`, matched by name)" in card["detail"]
    summaries = [c["summary"] for c in cards]
    assert "Not checked: 'tonic\ufffd' is not a medication rxcaution knows" in summaries
    [unknown] = [c for c in cards if "condition(s) not recognised" in c["summary"]]
    assert "- fever\ufffdx" in unknown["detail"]
    # A surrogate pair is a character, not a lone surrogate: it is kept.
    status, answer, _ = raw_post(client.base, SIGN, json.dumps(hook_request(
        "order-sign", [med_request("d1", "tonic\U0001F600", status="draft")], [])).encode("ascii"))
    assert status == 200 and "Not checked: 'tonic\U0001F600' is not a medication rxcaution knows" in [
        c["summary"] for c in answer["cards"]]


@pytest.mark.parametrize(
    "raw, message",
    [
        (b'{"hook": "order-sign", "x": "\xed\xa0\x80"}', "request body is not UTF-8 text"),  # UTF-8-encoded surrogate
        ('{"hook": "order-sign"}'.encode("utf-16"), "request body is not UTF-8 text"),
        (b'{"hook": "order-sign", "n": ' + b"1" * 5000 + b"}", "request body holds a value this service cannot read"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a": NaN, "hook": 1e999}', "request body.hook must be a string"),
    ],
)
def test_unreadable_values_get_400_not_500(client: Client, raw: bytes, message: str) -> None:
    status, answer, _ = raw_post(client.base, SIGN, raw)
    assert status == 400 and message in answer["error"], answer


class GatedKnowledgeBase:
    """A knowledge base whose `check` of a regimen naming GATE waits until the test opens the gate,
    so that a "large" request can be held in a worker for as long as a test needs."""

    GATE = "gate-marker-medication"

    def __init__(self, kb: rxcaution.KnowledgeBase) -> None:
        self._kb = kb
        self.entered = threading.Semaphore(0)
        self.gate = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._kb, name)

    def check(self, medications: List[str], **kwargs: Any) -> rxcaution.Report:
        if self.GATE in medications:
            self.entered.release()
            assert self.gate.wait(60), "the test did not open the gate"
        return self._kb.check(medications, **kwargs)


def gated_request() -> Dict[str, Any]:
    return hook_request("order-sign", [med_request("d1", GatedKnowledgeBase.GATE, status="draft")], [])


def post_in_thread(client: Client, body: Any) -> Tuple[threading.Thread, List[Any]]:
    result: List[Any] = []
    thread = threading.Thread(target=lambda: result.append(client.post(SIGN, body)), daemon=True)
    thread.start()
    return thread, result


def test_small_requests_are_served_while_a_large_check_runs(kb: rxcaution.KnowledgeBase) -> None:
    gated = GatedKnowledgeBase(kb)
    app = cds_hooks.create_app(gated, limits=cds_hooks.Limits(max_concurrent_checks=2))  # type: ignore[arg-type]
    with running(app) as client:
        expected = client.cards(SIGN, _good())
        thread, result = post_in_thread(client, gated_request())
        try:
            assert gated.entered.acquire(timeout=10), "the large request did not reach its check"
            start = time.perf_counter()
            for _ in range(20):
                assert client.cards(SIGN, _good()) == expected
            assert time.perf_counter() - start < 5
            assert result == []  # the large one is still running
        finally:
            gated.gate.set()
            thread.join(timeout=10)
        assert result and result[0][0] == 200


def test_a_request_over_the_time_limit_gets_504(kb: rxcaution.KnowledgeBase) -> None:
    gated = GatedKnowledgeBase(kb)
    limits = cds_hooks.Limits(max_concurrent_checks=1, request_timeout_s=0.5)
    app = cds_hooks.create_app(gated, limits=limits)  # type: ignore[arg-type]
    with running(app) as client:
        try:
            start = time.perf_counter()
            status, answer = client.post(SIGN, gated_request())
            assert time.perf_counter() - start < 5
            assert (status, answer) == (
                504,
                {"error": "the request was not answered within 0.5 s (limit request_timeout_s)"},
            )
            # The overrunning check keeps the only worker: the next request waits for it, in vain.
            assert client.post(SIGN, _good())[0] == 504
        finally:
            gated.gate.set()
        deadline = time.monotonic() + 10
        while app.state.scheduler.running and time.monotonic() < deadline:
            time.sleep(0.01)
        assert client.cards(SIGN, _good())  # the worker is free again


def test_too_many_pending_requests_get_503(kb: rxcaution.KnowledgeBase) -> None:
    gated = GatedKnowledgeBase(kb)
    limits = cds_hooks.Limits(max_concurrent_checks=1, max_pending_requests=2)
    app = cds_hooks.create_app(gated, limits=limits)  # type: ignore[arg-type]
    with running(app) as client:
        threads = []
        try:
            threads.append(post_in_thread(client, gated_request()))
            assert gated.entered.acquire(timeout=10)
            threads.append(post_in_thread(client, _good()))  # waits for the only worker
            deadline = time.monotonic() + 10
            while app.state.scheduler.pending < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            status, answer, headers = raw_post(client.base, SIGN, json.dumps(_good()).encode())
            assert (status, answer) == (
                503,
                {"error": "the service is busy answering 2 requests (limit max_pending_requests); retry shortly"},
            )
            assert headers["Retry-After"] == "1"
        finally:
            gated.gate.set()
            for thread, _ in threads:
                thread.join(timeout=10)
        assert [result[0][0] for _, result in threads] == [200, 200]
        assert app.state.scheduler.pending == 0


@contextlib.contextmanager
def command_line_server(*options: str) -> Iterator[Tuple[Client, subprocess.Popen]]:
    """`python -m rxcaution.cds_hooks` on a free loopback port in a subprocess; stopped on exit."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()  # the subprocess binds it; a lost race shows as a clear failure in wait_until_up
    proc = subprocess.Popen(
        [sys.executable, "-m", "rxcaution.cds_hooks", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        client = Client(f"http://127.0.0.1:{port}")
        wait_until_up(client, proc=proc)
        yield client, proc
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.communicate()


@needs_proc
def test_no_memory_growth_across_rounds_of_large_and_refused_requests(kb: rxcaution.KnowledgeBase) -> None:
    """Regression: a 5,000-order request drove the server to 7.3 GB and it kept 6.2 GB. Each round:
    two requests at the default count limits at once (so that both workers run one), a refused
    5,000-order request, a body over the size limit and ordinary requests. After three warm-up
    rounds the server process may not grow."""
    limits = cds_hooks.Limits()
    pack_names = [s.name for s in kb.substances()]
    at_limit = hook_request(
        "order-sign",
        _many(limits.max_draft_orders, lambda i: med_request(f"d{i}", pack_names[i], status="draft")),
        _many(limits.max_prefetch_resources, lambda i: med_request(f"a{i}", f"unknown remedy {i % 97}")),
    )
    names = ["methadone", "buprenorphine", "naltrexone", "clarithromycin", "alprazolam", "ketamine", "Suboxone",
             "lofexidine"]
    too_many = hook_request("order-sign", _many(5000, lambda i: med_request(f"d{i}", names[i % 8])), [])
    too_big = b'{"x": "' + b"y" * (limits.max_body_bytes + 10) + b'"}'
    with command_line_server() as (client, proc), ThreadPoolExecutor(max_workers=2) as pool:

        def one_round() -> int:
            for status, answer in pool.map(lambda body: client.post(SIGN, body), [at_limit, at_limit]):
                assert status == 200 and answer["cards"]
            assert client.post(SIGN, too_many)[0] == 413
            assert raw_post(client.base, SIGN, too_big)[0] == 413
            for _ in range(20):
                assert client.cards(SIGN, _good())
            return rss_bytes(proc.pid)

        warm = [one_round() for _ in range(3)]
        measured = [one_round() for _ in range(4)]
    growth = measured[-1] - warm[-1]
    assert growth < 8 * 1024 * 1024, (
        f"server RSS grew by {growth / 2**20:.1f} MiB over 4 rounds (MiB: {[r / 2**20 for r in warm + measured]})"
    )


def test_every_limit_is_documented_with_its_default() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    doc = cds_hooks.__doc__ or ""
    defaults = cds_hooks.Limits()
    help_text = subprocess.run(
        [sys.executable, "-m", "rxcaution.cds_hooks", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    for f in dataclasses.fields(cds_hooks.Limits):
        option = "--" + f.name.replace("_", "-")
        assert f"``{f.name}``" in doc, f.name
        assert f"| `{option}` |" in readme, option
        assert option in help_text, option
        assert f"(default: {getattr(defaults, f.name)})" in " ".join(help_text.split()), option


# --- conditions by code (issue 10) --------------------------------------------------------------


def coded_condition(rid: str, system: str, code: str, display: Optional[str] = None, text: Optional[str] = None) -> Dict[str, Any]:
    coding: Dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    concept: Dict[str, Any] = {"coding": [coding]}
    if text:
        concept["text"] = text
    return {"resourceType": "Condition", "id": rid, "code": concept, "subject": {"reference": "Patient/pat-9"}}


def test_conditions_match_by_icd10cm_code_first(kb: rxcaution.KnowledgeBase) -> None:
    """A Condition coded in ICD-10-CM only (no text) drives the drug-condition rule, and the code
    wins over a misleading text."""
    body = hook_request("order-sign", drafts=[med_request("d1", "ketamine", status="draft")], active=[])
    body["prefetch"]["conditions"] = bundle(
        coded_condition("c1", "http://hl7.org/fhir/sid/icd-10-cm", "I10"),
        coded_condition("c2", "http://hl7.org/fhir/sid/icd-10-cm", "F11.20", text="something else entirely"),
    )
    cards = cds_hooks.evaluate_request(kb, cds_hooks.SERVICES["rxcaution-order-sign"], body)["cards"]
    [card] = with_rule(cards, "ketamine-cardiovascular-disease")
    assert "patient condition 'http://hl7.org/fhir/sid/icd-10-cm|I10' resolved to hypertension" in card["detail"]
    assert not [c for c in cards if c["indicator"] == "info"]  # both conditions were recognised
    # The library says how each condition matched.
    report = kb.check(["ketamine"], conditions=["http://hl7.org/fhir/sid/icd-10-cm|F11.20", "hypertension"])
    assert [(c.id, c.matched_by) for c in report.conditions] == [("opioid-use-disorder", "code"), ("hypertension", "name")]


def test_unknown_condition_codes_fall_back_to_text_and_are_reported_by_text(kb: rxcaution.KnowledgeBase) -> None:
    body = hook_request("order-sign", drafts=[med_request("d1", "ketamine", status="draft")], active=[])
    body["prefetch"]["conditions"] = bundle(
        coded_condition("c1", "http://snomed.info/sct", "38341003", text="high blood pressure"),
        coded_condition("c2", "http://hl7.org/fhir/sid/icd-10-cm", "Z99.99", display="Some unknown state"),
    )
    cards = cds_hooks.evaluate_request(kb, cds_hooks.SERVICES["rxcaution-order-sign"], body)["cards"]
    assert with_rule(cards, "ketamine-cardiovascular-disease")
    [info] = [c for c in cards if c["indicator"] == "info"]
    assert "- Some unknown state" in info["detail"] and "Z99.99" not in info["detail"]
