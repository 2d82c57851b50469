"""A CDS Hooks service that checks draft medication orders with rxcaution.

rxcaution is reference software, not medical advice: a card is a prompt to look at a
combination, no card does not mean a combination is safe, and a medication that did not map to the
knowledge pack was not checked at all (the service says so in an ``info`` card).

Run it with::

    pip install 'rxcaution[cds]'
    python -m rxcaution.cds_hooks --host 127.0.0.1 --port 8080

Endpoints (CDS Hooks 2.0, https://cds-hooks.hl7.org):

``GET /cds-services``
    Discovery: two services, ``rxcaution-order-select`` (hook ``order-select``) and
    ``rxcaution-order-sign`` (hook ``order-sign``), each with prefetch templates for the patient's
    active ``MedicationRequest``, ``MedicationStatement`` and ``Condition`` resources.
``POST /cds-services/{id}``
    A hook call. ``context.draftOrders`` (a FHIR Bundle) holds the orders being written; the
    prefetch Bundles hold what the patient already takes and has. Answers ``{"cards": [...]}``.
``POST /cds-services/{id}/feedback``
    CDS Hooks feedback (``{"feedback": [{"card": uuid, "outcome": ...}]}``); counted in memory only.

How a request becomes a check
-----------------------------
* Every medication resource (``MedicationRequest``, ``MedicationStatement``,
  ``MedicationDispense``, ``MedicationAdministration``) is mapped to a pack entity by its RxNorm
  codings first (``http://www.nlm.nih.gov/research/umls/rxnorm``, checked as ``rxcui:<code>``;
  the pack carries RxCUIs only where they were verified), then by ``medicationCodeableConcept.text``,
  then by each coding's ``display``. ``medicationReference`` to a contained Medication or to a
  Medication in the same Bundle is followed. A medication that maps to nothing is still passed to
  the check under its text, so that the report lists it as unresolved and the answer carries a
  "Not checked" card for it.
* Conditions are mapped by ``code.text`` and then each coding's ``display`` (SNOMED CT and ICD-10
  codes are not in the pack). Conditions that are not recognised are listed in one ``info`` card.
  Conditions whose clinical status is not active/recurrence/relapse, or whose verification status
  is refuted or entered-in-error, are skipped.
* Prefetched medications whose status says they are no longer taken (stopped, completed,
  cancelled, entered-in-error, not-taken) are skipped; a prefetched resource that is the same
  resource as a draft order is not counted twice.
* The draft orders and the active medications are checked together, with the conditions, by one
  ``KnowledgeBase.check`` call, and the cards are the C++ renderer's (``Report.to_cds_hooks``),
  each with a list of the orders and medications it is about added to its detail. A new order for
  a medication the patient already takes gives a duplicate-therapy card.

Which cards are returned
------------------------
Following PDDI-CDS practice, a warning is returned only when at least one of its medications is a
draft order *of interest*: every draft order for ``order-sign``; for ``order-select``, the orders
named in ``context.selections`` (every draft order when ``selections`` is absent). An interaction
between two medications the patient already takes was presumably seen when the second was
ordered; the ``--include-active-interactions`` option (``create_app(include_active_interactions=
True)``) returns those too. "Not checked" cards are always returned: an unmapped active medication
means the draft order was not checked against it.

When a prefetch key is absent (the client could not fulfil the template) the service does not
query the FHIR server; it checks what it was sent and adds an ``info`` card saying which patient
data was missing. A key whose value is ``null`` means the patient has no such data.

Card uuids are deterministic (derived from the warning id), so the same request gives the same
uuids at ``order-select`` and again at ``order-sign`` and a client can de-duplicate.

Malformed requests (invalid JSON, a missing ``context``, ``draftOrders`` that is not a Bundle, a
hook that does not match the service, wrongly typed fields) are answered with HTTP 400 and
``{"error": "<what is wrong, with the JSON path>"}``; an unknown service with 404.

Command-line options: ``--host`` (default 127.0.0.1), ``--port`` (default 8080), ``--pack PATH``
(a knowledge pack instead of the built-in one), ``--include-active-interactions``,
``--cors-origin ORIGIN`` (repeatable; for browser-based clients such as a CDS Hooks sandbox) and
``--log-level``.

Security: the service does not authenticate its callers (CDS Hooks clients send a JWT that a
production deployment must verify, e.g. in a reverse proxy), keeps no patient data and logs no
patient data. It listens on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

try:
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise ImportError("rxcaution.cds_hooks needs Starlette and uvicorn: pip install 'rxcaution[cds]'") from _exc

from . import KnowledgeBase, Report

__all__ = [
    "DISCLAIMER",
    "RXNORM_SYSTEMS",
    "SERVICES",
    "FeedbackLog",
    "RequestError",
    "ServiceSpec",
    "create_app",
    "discovery_document",
    "evaluate_request",
    "main",
]

log = logging.getLogger("rxcaution.cds_hooks")

#: Shown in every service description.
DISCLAIMER = "Reference software, not medical advice: no card does not mean a combination is safe."

#: Coding systems read as RxNorm (the FHIR URI and the HL7 OID form).
RXNORM_SYSTEMS = frozenset({"http://www.nlm.nih.gov/research/umls/rxnorm", "urn:oid:2.16.840.1.113883.6.88"})

_MEDICATION_TYPES = ("MedicationRequest", "MedicationStatement", "MedicationDispense", "MedicationAdministration")
# Statuses meaning the patient no longer takes (or never took) the medication.
_INACTIVE_MEDICATION_STATUSES = frozenset({"stopped", "completed", "cancelled", "entered-in-error", "not-taken"})
_ACTIVE_CLINICAL_STATUSES = frozenset({"active", "recurrence", "relapse"})
_EXCLUDED_VERIFICATION_STATUSES = frozenset({"refuted", "entered-in-error"})
_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:rxcaution:cds-hooks")
_DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024

_PREFETCH: Dict[str, str] = {
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}&status=active",
    "medicationStatements": "MedicationStatement?patient={{context.patientId}}&status=active",
    "conditions": "Condition?patient={{context.patientId}}&clinical-status=active",
}


@dataclass(frozen=True)
class ServiceSpec:
    """One CDS service as advertised at discovery."""

    id: str
    hook: str
    title: str
    description: str
    prefetch: Mapping[str, str] = field(default_factory=lambda: dict(_PREFETCH))

    def to_dict(self) -> Dict[str, Any]:
        """The service's entry in the discovery response."""
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": dict(self.prefetch),
            "usageRequirements": (
                "Send the prefetch (active MedicationRequest, MedicationStatement and Condition); "
                "this service does not query the FHIR server."
            ),
        }


#: The services, by id.
SERVICES: Dict[str, ServiceSpec] = {
    s.id: s
    for s in (
        ServiceSpec(
            id="rxcaution-order-select",
            hook="order-select",
            title="rxcaution: interaction check of selected medication orders",
            description=(
                "Checks the selected draft medication orders against the other draft orders, the "
                "patient's active medications and conditions for drug-drug, drug-condition and "
                "duplicate-therapy warnings around opioid use disorder care. " + DISCLAIMER
            ),
        ),
        ServiceSpec(
            id="rxcaution-order-sign",
            hook="order-sign",
            title="rxcaution: interaction check of medication orders at signing",
            description=(
                "Checks the draft medication orders being signed against each other, the patient's "
                "active medications and conditions for drug-drug, drug-condition and "
                "duplicate-therapy warnings around opioid use disorder care. " + DISCLAIMER
            ),
        ),
    )
}


def discovery_document() -> Dict[str, Any]:
    """The body of ``GET /cds-services``."""
    return {"services": [s.to_dict() for s in SERVICES.values()]}


class RequestError(ValueError):
    """A request the service cannot use; answered with HTTP 400 (or ``status``) and the message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# --- reading JSON safely ------------------------------------------------------------------------

_JSON_TYPE_NAMES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}


def _expect(value: Any, kind: type, path: str) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise RequestError(f"{path} must be {_JSON_TYPE_NAMES.get(kind, kind.__name__)}")
    return value


def _opt(obj: Mapping[str, Any], key: str, kind: type, path: str) -> Any:
    """``obj[key]`` checked against ``kind``, or None when absent (or null)."""
    value = obj.get(key)
    if value is None:
        return None
    return _expect(value, kind, f"{path}.{key}")


def _bundle_resources(bundle: Any, path: str) -> List[Tuple[str, Dict[str, Any]]]:
    """The (path, resource) pairs of a FHIR Bundle, checking its shape."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise RequestError(f"{path} must be a FHIR Bundle (an object with resourceType 'Bundle')")
    entries = _opt(bundle, "entry", list, path) or []
    out: List[Tuple[str, Dict[str, Any]]] = []
    for i, entry in enumerate(entries):
        epath = f"{path}.entry[{i}]"
        _expect(entry, dict, epath)
        resource = _opt(entry, "resource", dict, epath)
        if resource is None:
            continue  # an entry without a resource (e.g. a search outcome) carries nothing to check
        rtype = _opt(resource, "resourceType", str, f"{epath}.resource")
        if rtype is None:
            raise RequestError(f"{epath}.resource.resourceType is missing")
        out.append((f"{epath}.resource", resource))
    return out


def _codeable_concept(value: Any, path: str) -> Tuple[List[Tuple[str, str, str]], Optional[str]]:
    """The (system, code, display) codings and the text of a CodeableConcept."""
    _expect(value, dict, path)
    codings: List[Tuple[str, str, str]] = []
    for i, coding in enumerate(_opt(value, "coding", list, path) or []):
        cpath = f"{path}.coding[{i}]"
        _expect(coding, dict, cpath)
        codings.append(
            (
                (_opt(coding, "system", str, cpath) or "").strip(),
                (_opt(coding, "code", str, cpath) or "").strip(),
                (_opt(coding, "display", str, cpath) or "").strip(),
            )
        )
    text = (_opt(value, "text", str, path) or "").strip() or None
    return codings, text


def _resource_key(resource: Mapping[str, Any]) -> Optional[str]:
    rid = resource.get("id")
    return f"{resource['resourceType']}/{rid}" if isinstance(rid, str) and rid else None


# --- mapping FHIR resources to check inputs -----------------------------------------------------


@dataclass
class _Medication:
    text: str  # what is passed to KnowledgeBase.check
    key: Optional[str]  # "MedicationRequest/123"
    draft: bool  # a draft order (else a prefetched, active medication)
    focus: bool  # a draft order of interest
    entity: Optional[str]  # resolved entity id, for de-duplication
    label: str  # the order's own wording
    matched_by: str  # "RxNorm code", "name", or "" when unmapped


class _Mapper:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def medication_concept(
        self, resource: Dict[str, Any], path: str, medications_by_ref: Mapping[str, Dict[str, Any]]
    ) -> Optional[Tuple[List[Tuple[str, str, str]], Optional[str]]]:
        """The medication CodeableConcept of a medication resource (R4 or R5 shape)."""
        if resource.get("medicationCodeableConcept") is not None:
            return _codeable_concept(resource["medicationCodeableConcept"], f"{path}.medicationCodeableConcept")
        ref_obj = None
        medication = _opt(resource, "medication", dict, path)
        if medication is not None:  # R5 CodeableReference
            if medication.get("concept") is not None:
                return _codeable_concept(medication["concept"], f"{path}.medication.concept")
            ref_obj = _opt(medication, "reference", dict, f"{path}.medication")
        if ref_obj is None:
            ref_obj = _opt(resource, "medicationReference", dict, path)
        if ref_obj is None:
            return None
        ref = _opt(ref_obj, "reference", str, f"{path}.medicationReference") or ""
        target: Optional[Dict[str, Any]] = None
        if ref.startswith("#"):
            for i, contained in enumerate(_opt(resource, "contained", list, path) or []):
                _expect(contained, dict, f"{path}.contained[{i}]")
                if contained.get("resourceType") == "Medication" and contained.get("id") == ref[1:]:
                    target = contained
        elif ref:
            target = medications_by_ref.get(ref)
        if target is not None and target.get("code") is not None:
            return _codeable_concept(target["code"], f"{path}(->{ref}).code")
        display = (_opt(ref_obj, "display", str, f"{path}.medicationReference") or "").strip()
        return ([], display or None)

    def medication(
        self,
        resource: Dict[str, Any],
        path: str,
        medications_by_ref: Mapping[str, Dict[str, Any]],
        draft: bool,
        focus: bool,
    ) -> _Medication:
        """Maps one medication resource: RxNorm code first, then text, then coding displays.

        A mapped medication is checked under the pack's name for it (so that card summaries stay
        short and readable); the order's own wording is kept in ``_Medication.label`` and listed in
        the card detail. An unmapped one is checked under its text, so that the report lists it as
        unresolved.
        """
        concept = self.medication_concept(resource, path, medications_by_ref)
        codings, text = concept if concept is not None else ([], None)
        names = ([text] if text else []) + [display for _, _, display in codings if display]
        rxcuis = [f"rxcui:{code}" for system, code, _ in codings if system in RXNORM_SYSTEMS and code]
        key = _resource_key(resource)
        label = names[0] if names else (rxcuis[0] if rxcuis else None)
        if label is None:
            label = f"{key or resource['resourceType']} (no medication code or name)"
        for candidate in rxcuis + names:
            resolution = self.kb.resolve(candidate)
            if resolution.resolved:
                # The pack's own name resolves back to the entity; fall back to what matched.
                checked = resolution.name if self.kb.resolve(resolution.name).id == resolution.id else candidate
                how = "RxNorm code" if candidate in rxcuis else "name"
                return _Medication(checked, key, draft, focus, resolution.id, label, how)
        return _Medication(label, key, draft, focus, None, label, "")

    def condition(self, resource: Dict[str, Any], path: str) -> Optional[Tuple[str, Optional[str]]]:
        """(text passed to the check, resolved condition id) or None for a condition to skip."""
        for key, allowed in (("clinicalStatus", _ACTIVE_CLINICAL_STATUSES), ("verificationStatus", None)):
            status = resource.get(key)
            if status is None:
                continue
            codings, _ = _codeable_concept(status, f"{path}.{key}")
            codes = {code for _, code, _ in codings if code}
            if allowed is not None and codes and not codes & allowed:
                return None
            if allowed is None and codes & _EXCLUDED_VERIFICATION_STATUSES:
                return None
        if resource.get("code") is None:
            return (f"{_resource_key(resource) or 'Condition'} (no code)", None)
        codings, text = _codeable_concept(resource["code"], f"{path}.code")
        candidates = ([text] if text else []) + [display for _, _, display in codings if display]
        for candidate in candidates:
            resolution = self.kb.resolve_condition(candidate)
            if resolution.resolved:
                return (candidate, resolution.id)
        if candidates:
            return (candidates[0], None)
        coded = ", ".join(f"{system}|{code}" for system, code, _ in codings if code) or "no code"
        return (f"{_resource_key(resource) or 'Condition'} (coded only: {coded})", None)


# --- the hook call ------------------------------------------------------------------------------


def _stable_uuid(text: str) -> str:
    return str(uuid.uuid5(_UUID_NAMESPACE, text))


def _info_card(report: Report, key: str, summary: str, detail: str) -> Dict[str, Any]:
    return {
        "uuid": _stable_uuid(key),
        "summary": summary if len(summary) < 140 else summary[:136] + "...",
        "detail": detail,
        "indicator": "info",
        "source": {"label": f"rxcaution ({report.pack_name} {report.pack_version})"},
    }


_WHY_MARKER = "\n\n**Why this fired:**"


def _with_orders(card: Dict[str, Any], meds: Sequence[_Medication]) -> Dict[str, Any]:
    """Adds to a card's detail which orders and medications of the request it is about."""
    lines = []
    for m in meds:
        where = "draft order" if m.draft else "active medication"
        ref = f" `{m.key}`" if m.key else ""
        mapped = f", matched by {m.matched_by}" if m.matched_by else ""
        lines.append(f"- {m.label} ({where}{ref}{mapped})")
    if not lines:
        return card
    section = "\n\n**Orders and medications involved:**\n" + "\n".join(lines)
    detail = str(card.get("detail", ""))
    at = detail.find(_WHY_MARKER)
    card = dict(card)
    card["detail"] = detail[:at] + section + detail[at:] if at >= 0 else detail + section
    return card


def _validate_request(service: ServiceSpec, body: Any) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Checks the top level of a hook request; returns (context, prefetch)."""
    _expect(body, dict, "request body")
    hook = body.get("hook")
    if hook is None:
        raise RequestError("request body.hook is missing")
    _expect(hook, str, "request body.hook")
    if hook != service.hook:
        raise RequestError(f"service '{service.id}' answers hook '{service.hook}', not '{hook}'")
    instance = body.get("hookInstance")
    if not isinstance(instance, str) or not instance:
        raise RequestError("request body.hookInstance must be a non-empty string")
    context = body.get("context")
    if context is None:
        raise RequestError("request body.context is missing")
    _expect(context, dict, "request body.context")
    if context.get("draftOrders") is None:
        raise RequestError("context.draftOrders is missing (a FHIR Bundle of the orders being written)")
    prefetch = body.get("prefetch")
    if prefetch is None:
        prefetch = {}
    _expect(prefetch, dict, "request body.prefetch")
    return context, prefetch


def evaluate_request(
    kb: KnowledgeBase,
    service: ServiceSpec,
    body: Any,
    *,
    include_active_interactions: bool = False,
) -> Dict[str, Any]:
    """Answers one hook request (already parsed from JSON) with ``{"cards": [...]}``.

    Parameters
    ----------
    kb
        The knowledge base to check with.
    service
        The service that was called (its hook must match the request's).
    body
        The CDS Hooks request.
    include_active_interactions
        Also return warnings that involve no draft order of interest.

    Returns
    -------
    dict
        The CDS Hooks response.

    Raises
    ------
    RequestError
        When the request is malformed; the message names the offending field.
    """
    context, prefetch = _validate_request(service, body)
    mapper = _Mapper(kb)

    drafts = _bundle_resources(context["draftOrders"], "context.draftOrders")
    prefetched: List[Tuple[str, Dict[str, Any]]] = []
    missing: List[str] = []
    for prefetch_key in _PREFETCH:
        if prefetch_key not in prefetch:
            missing.append(prefetch_key)
        elif prefetch[prefetch_key] is not None:
            prefetched += _bundle_resources(prefetch[prefetch_key], f"prefetch.{prefetch_key}")

    medications_by_ref: Dict[str, Dict[str, Any]] = {}
    for _, resource in drafts + prefetched:
        if resource["resourceType"] == "Medication" and _resource_key(resource):
            medications_by_ref[str(_resource_key(resource))] = resource

    selections: Optional[List[str]] = None
    if service.hook == "order-select" and context.get("selections") is not None:
        raw = _expect(context["selections"], list, "context.selections")
        selections = [_expect(s, str, f"context.selections[{i}]") for i, s in enumerate(raw)]

    meds: List[_Medication] = []
    draft_keys: set[str] = set()
    for path, resource in drafts:
        if resource["resourceType"] not in _MEDICATION_TYPES:
            continue  # lab, imaging and other orders are not checked
        key = _resource_key(resource)
        focus = selections is None or (key is not None and key in selections)
        meds.append(mapper.medication(resource, path, medications_by_ref, draft=True, focus=focus))
        if key:
            draft_keys.add(key)
    if not any(m.focus for m in meds):
        return {"cards": []}  # no medication order of interest: nothing to say

    seen_active: set[str] = set()
    conditions: List[str] = []
    seen_conditions: set[str] = set()
    for path, resource in prefetched:
        rtype = resource["resourceType"]
        if rtype in _MEDICATION_TYPES:
            status = resource.get("status")
            if isinstance(status, str) and status in _INACTIVE_MEDICATION_STATUSES:
                continue
            key = _resource_key(resource)
            if key is not None and key in draft_keys:
                continue  # the draft order itself, echoed by the prefetch
            med = mapper.medication(resource, path, medications_by_ref, draft=False, focus=False)
            identity = med.entity or med.text.casefold()
            if identity in seen_active:
                continue  # the same medication as a request and as a statement
            seen_active.add(identity)
            meds.append(med)
        elif rtype == "Condition":
            mapped = mapper.condition(resource, path)
            if mapped is None:
                continue
            text, cid = mapped
            identity = cid or text.casefold()
            if identity not in seen_conditions:
                seen_conditions.add(identity)
                conditions.append(text)

    report = kb.check([m.text for m in meds], conditions=conditions)
    rendered: List[Dict[str, Any]] = report.to_cds_hooks()["cards"]
    warnings = report.warnings
    if len(rendered) < len(warnings):  # pragma: no cover - a renderer contract violation
        raise RuntimeError("Report.to_cds_hooks returned fewer cards than warnings")
    focus_indexes = {i for i, m in enumerate(meds) if m.focus}
    cards: List[Dict[str, Any]] = [
        _with_orders(card, [meds[i] for i in warning.input_indexes if 0 <= i < len(meds)])
        for warning, card in zip(warnings, rendered)
        if include_active_interactions or focus_indexes.intersection(warning.input_indexes)
    ]
    cards += rendered[len(warnings) :]  # "Not checked" cards for unresolved medications

    unknown = [c for c in report.conditions if not c.resolved]
    if unknown:
        names = sorted({c.input for c in unknown}, key=str.casefold)
        lines = []
        for c in unknown:
            hint = f" (did you mean: {', '.join(c.suggestions)}?)" if c.suggestions else ""
            lines.append(f"- {c.input}{hint}")
        cards.append(
            _info_card(
                report,
                "unresolved-conditions:" + "\n".join(names),
                f"{len(names)} condition(s) not recognised: drug-condition warnings for them were not checked",
                "rxcaution does not know these patient conditions, so no drug-condition warning could be "
                "given for them. No warning does not mean the order is safe for this patient.\n\n"
                + "\n".join(dict.fromkeys(lines)),
            )
        )
    if missing:
        cards.append(
            _info_card(
                report,
                "missing-prefetch:" + ",".join(missing),
                "Some patient data was not sent: the check may be incomplete",
                "The request did not carry the prefetch "
                + ", ".join(f"`{k}` ({_PREFETCH[k].split('?', 1)[0]})" for k in missing)
                + ", and this service does not query the FHIR server. The draft orders were checked "
                "only against what was sent.",
            )
        )

    unique: Dict[str, Dict[str, Any]] = {}
    for card in cards:
        unique.setdefault(str(card.get("uuid")), card)
    return {"cards": list(unique.values())}


# --- feedback -----------------------------------------------------------------------------------


class FeedbackLog:
    """Counts feedback outcomes per service, in memory only (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[Tuple[str, str]] = Counter()

    def add(self, service_id: str, outcome: str) -> None:
        """Counts one feedback entry."""
        with self._lock:
            self._counts[(service_id, outcome)] += 1

    def counts(self, service_id: str) -> Dict[str, int]:
        """Outcome -> count for one service."""
        with self._lock:
            return {outcome: n for (sid, outcome), n in self._counts.items() if sid == service_id}


def _parse_feedback(body: Any) -> List[Dict[str, Any]]:
    _expect(body, dict, "request body")
    items = body.get("feedback")
    if items is None:
        raise RequestError("request body.feedback is missing (an array of feedback entries)")
    _expect(items, list, "request body.feedback")
    if not items:
        raise RequestError("request body.feedback is empty")
    for i, item in enumerate(items):
        path = f"feedback[{i}]"
        _expect(item, dict, path)
        card = item.get("card")
        if not isinstance(card, str) or not card:
            raise RequestError(f"{path}.card must be the uuid of a card (a string)")
        outcome = item.get("outcome")
        if outcome not in ("accepted", "overridden"):
            raise RequestError(f"{path}.outcome must be 'accepted' or 'overridden'")
        _opt(item, "acceptedSuggestions", list, path)
        _opt(item, "overrideReason", dict, path)
        _opt(item, "outcomeTimestamp", str, path)
    checked: List[Dict[str, Any]] = items
    return checked


# --- the ASGI application -----------------------------------------------------------------------


async def _read_json(request: Request, limit: int) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(f"request body is larger than {limit} bytes", status=413)
    chunks: List[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(f"request body is larger than {limit} bytes", status=413)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise RequestError("request body is empty (expected a JSON object)")
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise RequestError("request body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise RequestError(
            f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise RequestError("request body is nested too deeply") from None


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(
    kb: Optional[KnowledgeBase] = None,
    *,
    include_active_interactions: bool = False,
    cors_origins: Sequence[str] = (),
    max_body_bytes: int = _DEFAULT_MAX_BODY_BYTES,
) -> Starlette:
    """Builds the ASGI application.

    Parameters
    ----------
    kb
        The knowledge base shared by every request (``KnowledgeBase.builtin()`` when None). A
        knowledge base is immutable and thread-safe; checks run in Starlette's thread pool.
    include_active_interactions
        Also return warnings that involve none of the draft orders of interest.
    cors_origins
        Browser origins allowed to call the service (e.g. a CDS Hooks sandbox); none by default.
    max_body_bytes
        Larger request bodies are refused with HTTP 413.

    Returns
    -------
    Starlette
        The application; ``app.state.kb`` is the knowledge base and ``app.state.feedback`` the
        :class:`FeedbackLog`.
    """
    knowledge_base = kb if kb is not None else KnowledgeBase.builtin()
    feedback = FeedbackLog()

    def service_for(request: Request) -> ServiceSpec:
        service_id = request.path_params["service_id"]
        service = SERVICES.get(service_id)
        if service is None:
            raise HTTPException(404, f"unknown CDS service '{service_id}'; see GET /cds-services")
        return service

    async def discovery(request: Request) -> Response:
        return JSONResponse(discovery_document())

    async def call_service(request: Request) -> Response:
        service = service_for(request)
        body = await _read_json(request, max_body_bytes)
        answer = await run_in_threadpool(
            evaluate_request,
            knowledge_base,
            service,
            body,
            include_active_interactions=include_active_interactions,
        )
        log.info("%s hookInstance=%s: %d card(s)", service.id, body.get("hookInstance"), len(answer["cards"]))
        return JSONResponse(answer)

    async def receive_feedback(request: Request) -> Response:
        service = service_for(request)
        items = _parse_feedback(await _read_json(request, max_body_bytes))
        for item in items:
            feedback.add(service.id, item["outcome"])
        return JSONResponse({"received": len(items)})

    async def on_request_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestError)
        log.info("%s %s: %s", request.method, request.url.path, exc)
        return _error(exc.status, str(exc))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _error(exc.status_code, str(exc.detail))

    async def on_unexpected_error(request: Request, exc: Exception) -> Response:
        log.exception("internal error answering %s %s", request.method, request.url.path)
        return _error(500, f"internal error in the rxcaution CDS service ({type(exc).__name__})")

    middleware = []
    if cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(cors_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type"],
            )
        )
    app = Starlette(
        routes=[
            Route("/cds-services", discovery, methods=["GET"]),
            Route("/cds-services/{service_id}", call_service, methods=["POST"]),
            Route("/cds-services/{service_id}/feedback", receive_feedback, methods=["POST"]),
        ],
        middleware=middleware,
        exception_handlers={
            RequestError: on_request_error,
            HTTPException: on_http_error,
            Exception: on_unexpected_error,
        },
    )
    app.state.kb = knowledge_base
    app.state.feedback = feedback
    return app


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rxcaution.cds_hooks",
        description="Serve rxcaution as CDS Hooks services (order-select, order-sign). " + DISCLAIMER,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    parser.add_argument("--pack", help="knowledge pack to load instead of the built-in one (directory or file)")
    parser.add_argument(
        "--include-active-interactions",
        action="store_true",
        help="also return warnings between medications the patient already takes",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allow browser calls from ORIGIN (repeatable; e.g. a CDS Hooks sandbox)",
    )
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    return parser


def main(argv: Optional[Iterable[str]] = None) -> int:
    """Command-line entry point: ``python -m rxcaution.cds_hooks [--host H] [--port P] ...``."""
    import uvicorn

    args = _parser().parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    kb = KnowledgeBase.load(args.pack) if args.pack else KnowledgeBase.builtin()
    app = create_app(
        kb,
        include_active_interactions=args.include_active_interactions,
        cors_origins=args.cors_origin,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, ws="none", lifespan="off")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
