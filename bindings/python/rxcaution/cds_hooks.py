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

What clients send
-----------------
Prefetch keys are only names: the service reads *every* prefetched value, a Bundle or a single
resource, whatever its key, and tells resources apart by ``resourceType``; its own template keys
matter only for the "patient data was not sent" card (a template is missing when its key is
absent and no resource of its type came under another key). The deprecated CDS Hooks 1.0
``medication-prescribe`` hook (``context.medications``: an array of resources or a Bundle) is
answered by every service and has its own discovery entry. DSTU2/STU3 shapes are read as R4 ones:
``MedicationOrder`` like ``MedicationRequest``, a plain-string ``clinicalStatus`` and
``verificationStatus``, and a STU3 ``MedicationStatement`` with ``taken: "n"`` (DSTU2
``wasNotTaken: true``) is not counted as taken.

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
* Conditions are mapped by code first (codings of ``http://hl7.org/fhir/sid/icd-10-cm`` and
  ``http://snomed.info/sct``, against the codes the pack's conditions carry; a more specific
  ICD-10-CM code matches its category), then by ``code.text``, then by each coding's ``display``.
  The report's ``conditions[].matched_by`` says which (``code``, ``name``, ``synonym``, ``words``).
  Conditions that are not recognised are listed in one ``info`` card.
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

One card per alert: warnings about the same inputs are one card, led by the most severe.
Card uuids are deterministic (derived from the leading warning's id), so the same request gives the same
uuids at ``order-select`` and again at ``order-sign`` and a client can de-duplicate.

Errors
------
Every error is answered with ``{"error": "<what is wrong, with the JSON path or the limit>"}``:

* 400: a malformed request (a body that is not UTF-8 text or not valid JSON, nesting deeper than
  Python's JSON parser takes, an integer of more than 4,300 digits, a missing ``context``,
  ``draftOrders`` that is not a Bundle, a hook that does not match the service, wrongly typed
  fields);
* 404: an unknown service; 405: a wrong method;
* 413: a request over one of the size and count limits below;
* 415: a ``Content-Type`` that is not JSON (``application/json`` or ``application/<x>+json``
  such as ``application/fhir+json``), a missing one, or a charset other than UTF-8;
* 503 (with ``Retry-After: 1``): too many requests being answered at once;
* 504: a request not answered within the time limit;
* 500: a defect of the service (never a property of the input); the answer names only the
  exception type.

A lone UTF-16 surrogate escape (``"\\ud800"``) is valid JSON syntax but not Unicode text (RFC 8259,
section 8.2): it is replaced by U+FFFD (the replacement character) wherever it appears, so a
medication named with one is reported "Not checked" under the replaced name. UTF-8-encoded
surrogate bytes are invalid UTF-8: HTTP 400.

Limits
------
The service bounds the work, memory and time one request can take, and how many it works on at
once. Count limits are checked before the work they bound, and each error names its limit. Set
them with ``create_app(limits=Limits(...))`` or the command-line options (``--max-draft-orders
N``...); the defaults:

==========================  ==========  ====== =================================================
limit (:class:`Limits`)     default     error  applies to
==========================  ==========  ====== =================================================
``max_body_bytes``          10 MiB      413    the body: by its Content-Length, then counted as
                                               it streams in, before any parsing
``max_draft_orders``        100         413    entries of ``context.draftOrders``; items of
                                               ``context.selections``
``max_prefetch_resources``  1000        413    entries of all prefetch Bundles together
``max_check_medications``   200         413    medications handed to the check: draft orders
                                               plus distinct active medications
``max_check_conditions``    200         413    distinct active conditions handed to the check
``max_text_chars``          1000        413    one medication or condition text, code, display,
                                               system, reference or resource id
``max_codings``             20          413    codings of one CodeableConcept (each is a lookup)
``max_concurrent_checks``   2           --     worker threads: hook calls are parsed, checked and
                                               rendered on them, off the event loop
``max_pending_requests``    32          503    requests being answered at once (reading the body,
                                               waiting for a worker, or on one)
``request_timeout_s``       10 s        504    from the start of reading the body to the answer
==========================  ==========  ====== =================================================

A body refused with 413, 415 or 503 is still read (and dropped, up to 4 x ``max_body_bytes``)
so that a client that sends the whole body before reading receives the error rather than a
reset connection. While one large request runs on a worker, the others keep answering small
ones. A check that overran its time limit cannot be interrupted (it runs in C++); it keeps its
worker until it ends, and the count limits bound how long that is (about 2 s for a request at
every limit). After a large request the process hands freed memory back to the system
(``malloc_trim``, with glibc), so one large request does not leave the service large.

Command-line options: ``--host`` (default 127.0.0.1), ``--port`` (default 8080), ``--pack PATH``
(a knowledge pack instead of the built-in one; repeat it to layer packs, the first leading, with
``builtin`` naming the built-in pack: ``--pack builtin --pack ddinter.json``),
``--include-active-interactions``,
``--cors-origin ORIGIN`` (repeatable; for browser-based clients such as a CDS Hooks sandbox),
``--log-level`` and one option per limit (``--max-body-bytes``, ``--max-draft-orders``,
``--max-prefetch-resources``, ``--max-check-medications``, ``--max-check-conditions``,
``--max-text-chars``, ``--max-codings``, ``--max-concurrent-checks``, ``--max-pending-requests``,
``--request-timeout-s``).

Security: the service does not authenticate its callers (CDS Hooks clients send a JWT that a
production deployment must verify, e.g. in a reverse proxy), keeps no patient data and logs no
patient data. It listens on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import math
import re
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

try:
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise ImportError("rxcaution.cds_hooks needs Starlette and uvicorn: pip install 'rxcaution[cds]'") from _exc

from . import KnowledgeBase, Report, disclaimer

__all__ = [
    "DISCLAIMER",
    "RXNORM_SYSTEMS",
    "SERVICES",
    "FeedbackLog",
    "Limits",
    "RequestError",
    "ServiceSpec",
    "create_app",
    "discovery_document",
    "evaluate_request",
    "load_packs",
    "main",
    "MEDICATION_PRESCRIBE",
]

log = logging.getLogger("rxcaution.cds_hooks")

#: Shown in every service description.
DISCLAIMER = disclaimer()  # the library's own line, as in every report

#: Coding systems read as RxNorm (the FHIR URI and the HL7 OID form).
RXNORM_SYSTEMS = frozenset({"http://www.nlm.nih.gov/research/umls/rxnorm", "urn:oid:2.16.840.1.113883.6.88"})

# MedicationOrder is the DSTU2 name of MedicationRequest, still sent by older clients.
_MEDICATION_TYPES = (
    "MedicationRequest",
    "MedicationStatement",
    "MedicationDispense",
    "MedicationAdministration",
    "MedicationOrder",
)
#: The deprecated CDS Hooks 1.0 hook, answered by every service (``context.medications``).
MEDICATION_PRESCRIBE = "medication-prescribe"
# The resource type each of the service's own prefetch templates asks for.
_PREFETCH_TYPES: Dict[str, Tuple[str, ...]] = {
    "medicationRequests": ("MedicationRequest", "MedicationOrder"),
    "medicationStatements": ("MedicationStatement",),
    "conditions": ("Condition",),
}
# Statuses meaning the patient no longer takes (or never took) the medication.
_INACTIVE_MEDICATION_STATUSES = frozenset({"stopped", "completed", "cancelled", "entered-in-error", "not-taken"})
_ACTIVE_CLINICAL_STATUSES = frozenset({"active", "recurrence", "relapse"})
_EXCLUDED_VERIFICATION_STATUSES = frozenset({"refuted", "entered-in-error"})
_DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one request may hold and how the service shares its workers (module docstring, "Limits").

    Every count limit is checked before the work it bounds, so that a request over a limit costs
    little more than reading it; each answers with a message naming the limit and the count.
    """

    #: Larger bodies get HTTP 413 (checked against Content-Length, then while the body streams in).
    max_body_bytes: int = _DEFAULT_MAX_BODY_BYTES
    #: Entries of ``context.draftOrders`` (and items of ``context.selections``); more get HTTP 413.
    max_draft_orders: int = 100
    #: Entries of all prefetch Bundles together; more get HTTP 413.
    max_prefetch_resources: int = 1000
    #: Medications handed to one check (draft orders plus distinct active medications); more get 413.
    max_check_medications: int = 200
    #: Distinct conditions handed to one check; more get HTTP 413.
    max_check_conditions: int = 200
    #: Characters of one medication or condition name, code or display; longer gets HTTP 413.
    max_text_chars: int = 1000
    #: Codings of one CodeableConcept; more get HTTP 413.
    max_codings: int = 20
    #: Worker threads that parse and check hook calls, off the event loop.
    max_concurrent_checks: int = 2
    #: Requests being answered at once (reading, waiting for a worker or checking); more get 503.
    max_pending_requests: int = 32
    #: Seconds from the start of a request to its answer; a slower one gets HTTP 504.
    request_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        for name in (
            "max_body_bytes",
            "max_draft_orders",
            "max_prefetch_resources",
            "max_check_medications",
            "max_check_conditions",
            "max_text_chars",
            "max_codings",
            "max_concurrent_checks",
            "max_pending_requests",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Limits.{name} must be a positive integer, not {value!r}")
        if not (isinstance(self.request_timeout_s, (int, float)) and math.isfinite(self.request_timeout_s)
                and self.request_timeout_s > 0):
            raise ValueError(
                f"Limits.request_timeout_s must be a positive number of seconds, not {self.request_timeout_s!r}"
            )

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
        ServiceSpec(
            id="rxcaution-medication-prescribe",
            hook=MEDICATION_PRESCRIBE,
            title="rxcaution: interaction check of medications being prescribed (CDS Hooks 1.0 hook)",
            description=(
                "The deprecated medication-prescribe hook, for clients that still send it: checks "
                "context.medications against each other, the patient's active medications and "
                "conditions. Every service also accepts this hook. " + DISCLAIMER
            ),
        ),
    )
}


def discovery_document() -> Dict[str, Any]:
    """The body of ``GET /cds-services``."""
    return {"services": [s.to_dict() for s in SERVICES.values()]}


class RequestError(ValueError):
    """A request the service cannot use; answered with HTTP 400 (or ``status``) and the message."""

    def __init__(self, message: str, status: int = 400, headers: Optional[Mapping[str, str]] = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})


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


def _text(obj: Mapping[str, Any], key: str, path: str, limits: Limits) -> Optional[str]:
    """A string field, stripped, bounded by ``limits.max_text_chars``; None when absent or blank."""
    value = _opt(obj, key, str, path)
    if value is None:
        return None
    if len(value) > limits.max_text_chars:
        raise RequestError(
            f"{path}.{key} is {len(value)} characters long; this service accepts at most "
            f"{limits.max_text_chars} (limit max_text_chars)",
            status=413,
        )
    return value.strip() or None


def _bundle_entries(bundle: Any, path: str) -> List[Any]:
    """The entry array of a FHIR Bundle, checking its shape (not yet its entries)."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise RequestError(f"{path} must be a FHIR Bundle (an object with resourceType 'Bundle')")
    entries: List[Any] = _opt(bundle, "entry", list, path) or []
    return entries


def _bundle_resources(entries: List[Any], path: str, limits: Limits) -> List[Tuple[str, Dict[str, Any]]]:
    """The (path, resource) pairs of a Bundle's entries, checking their shape."""
    out: List[Tuple[str, Dict[str, Any]]] = []
    for i, entry in enumerate(entries):
        epath = f"{path}.entry[{i}]"
        _expect(entry, dict, epath)
        resource = _opt(entry, "resource", dict, epath)
        if resource is None:
            continue  # an entry without a resource (e.g. a search outcome) carries nothing to check
        rpath = f"{epath}.resource"
        rtype = _opt(resource, "resourceType", str, rpath)
        if rtype is None:
            raise RequestError(f"{rpath}.resourceType is missing")
        _text(resource, "resourceType", rpath, limits)
        rid = resource.get("id")
        if isinstance(rid, str):
            _text(resource, "id", rpath, limits)  # ids are echoed in card details
        out.append((rpath, resource))
    return out


def _prefetch_entries(value: Any, path: str) -> List[Any]:
    """The entries of one prefetched value: a Bundle's entries, or a single resource as one entry."""
    if isinstance(value, dict) and value.get("resourceType") == "Bundle":
        return _bundle_entries(value, path)
    if isinstance(value, dict) and isinstance(value.get("resourceType"), str):
        return [{"resource": value}]
    raise RequestError(f"{path} must be a FHIR Bundle or a single resource (an object with a resourceType)")


def _prescribe_entries(value: Any) -> Tuple[List[Any], str]:
    """``context.medications`` of the medication-prescribe hook: an array of resources (CDS Hooks
    1.0) or a Bundle (as some clients send it), as Bundle entries."""
    if isinstance(value, list):
        return [{"resource": r} if isinstance(r, dict) else r for r in value], "context.medications"
    if isinstance(value, dict) and value.get("resourceType") == "Bundle":
        return _bundle_entries(value, "context.medications"), "context.medications"
    raise RequestError("context.medications must be an array of medication resources or a FHIR Bundle")


def _not_taken(resource: Mapping[str, Any]) -> bool:
    """A STU3 MedicationStatement with ``taken: "n"``, or a DSTU2 one with ``wasNotTaken: true``."""
    return resource.get("taken") == "n" or resource.get("wasNotTaken") is True


def _status_codes(value: Any, path: str, limits: Limits) -> set:
    """The codes of a status: a CodeableConcept (R4) or a plain code string (DSTU2/STU3)."""
    if isinstance(value, str):
        return {value.strip()} if value.strip() else set()
    codings, _ = _codeable_concept(value, path, limits)
    return {code for _, code, _ in codings if code}


def _codeable_concept(value: Any, path: str, limits: Limits) -> Tuple[List[Tuple[str, str, str]], Optional[str]]:
    """The (system, code, display) codings and the text of a CodeableConcept."""
    _expect(value, dict, path)
    raw_codings = _opt(value, "coding", list, path) or []
    if len(raw_codings) > limits.max_codings:
        # Each coding is one name or code lookup: the count bounds the work of one resource.
        raise RequestError(
            f"{path}.coding has {len(raw_codings)} codings; this service accepts at most "
            f"{limits.max_codings} (limit max_codings)",
            status=413,
        )
    codings: List[Tuple[str, str, str]] = []
    for i, coding in enumerate(raw_codings):
        cpath = f"{path}.coding[{i}]"
        _expect(coding, dict, cpath)
        codings.append(
            (
                _text(coding, "system", cpath, limits) or "",
                _text(coding, "code", cpath, limits) or "",
                _text(coding, "display", cpath, limits) or "",
            )
        )
    return codings, _text(value, "text", path, limits)


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
    def __init__(self, kb: KnowledgeBase, limits: Limits) -> None:
        self.kb = kb
        self.limits = limits

    def medication_concept(
        self, resource: Dict[str, Any], path: str, medications_by_ref: Mapping[str, Dict[str, Any]]
    ) -> Optional[Tuple[List[Tuple[str, str, str]], Optional[str]]]:
        """The medication CodeableConcept of a medication resource (R4 or R5 shape)."""
        if resource.get("medicationCodeableConcept") is not None:
            return _codeable_concept(
                resource["medicationCodeableConcept"], f"{path}.medicationCodeableConcept", self.limits
            )
        ref_obj = None
        medication = _opt(resource, "medication", dict, path)
        if medication is not None:  # R5 CodeableReference
            if medication.get("concept") is not None:
                return _codeable_concept(medication["concept"], f"{path}.medication.concept", self.limits)
            ref_obj = _opt(medication, "reference", dict, f"{path}.medication")
        if ref_obj is None:
            ref_obj = _opt(resource, "medicationReference", dict, path)
        if ref_obj is None:
            return None
        ref = _text(ref_obj, "reference", f"{path}.medicationReference", self.limits) or ""
        target: Optional[Dict[str, Any]] = None
        if ref.startswith("#"):
            for i, contained in enumerate(_opt(resource, "contained", list, path) or []):
                _expect(contained, dict, f"{path}.contained[{i}]")
                if contained.get("resourceType") == "Medication" and contained.get("id") == ref[1:]:
                    target = contained
        elif ref:
            target = medications_by_ref.get(ref)
        if target is not None and target.get("code") is not None:
            return _codeable_concept(target["code"], f"{path}(->{ref}).code", self.limits)
        display = _text(ref_obj, "display", f"{path}.medicationReference", self.limits)
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
            codes = _status_codes(status, f"{path}.{key}", self.limits)
            if allowed is not None and codes and not codes & allowed:
                return None
            if allowed is None and codes & _EXCLUDED_VERIFICATION_STATUSES:
                return None
        if resource.get("code") is None:
            return (f"{_resource_key(resource) or 'Condition'} (no code)", None)
        codings, text = _codeable_concept(resource["code"], f"{path}.code", self.limits)
        codes = _condition_code_queries(codings)
        candidates = ([text] if text else []) + [display for _, _, display in codings if display]
        for candidate in codes + candidates:
            resolution = self.kb.resolve_condition(candidate)
            if resolution.resolved:
                return (candidate, resolution.id)
        if candidates:
            return (candidates[0], None)  # unrecognised: reported under its text, not a code
        coded = ", ".join(f"{system}|{code}" for system, code, _ in codings if code) or "no code"
        return (f"{_resource_key(resource) or 'Condition'} (coded only: {coded})", None)


_CONDITION_CODE_SYSTEMS = ("http://hl7.org/fhir/sid/icd-10-cm", "http://snomed.info/sct")


def _condition_code_queries(codings: List[Tuple[str, str, str]]) -> List[str]:
    """The codings of a Condition the pack can match by code (ICD-10-CM, SNOMED CT), as the check
    takes them (``system|code``): tried before the text, so the report says ``matched_by: code``."""
    return [f"{system}|{code}" for system, code, _ in codings if system in _CONDITION_CODE_SYSTEMS and code]


# --- the hook call ------------------------------------------------------------------------------


def _order_label(m: _Medication) -> str:
    """How a card lists one of the request's medications ("... (draft order `MedicationRequest/1`)")."""
    where = "draft order" if m.draft else "active medication"
    ref = f" `{m.key}`" if m.key else ""
    mapped = f", matched by {m.matched_by}" if m.matched_by else ""
    return f"{m.label} ({where}{ref}{mapped})"


def _validate_request(service: ServiceSpec, body: Any) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Checks the top level of a hook request; returns (context, prefetch)."""
    _expect(body, dict, "request body")
    hook = body.get("hook")
    if hook is None:
        raise RequestError("request body.hook is missing")
    _expect(hook, str, "request body.hook")
    if hook != service.hook and hook != MEDICATION_PRESCRIBE:
        raise RequestError(
            f"service '{service.id}' answers hook '{service.hook}', not '{hook}' "
            f"(every service also answers the older '{MEDICATION_PRESCRIBE}')"
        )
    instance = body.get("hookInstance")
    if not isinstance(instance, str) or not instance:
        raise RequestError("request body.hookInstance must be a non-empty string")
    context = body.get("context")
    if context is None:
        raise RequestError("request body.context is missing")
    _expect(context, dict, "request body.context")
    if hook == MEDICATION_PRESCRIBE:
        if context.get("medications") is None:
            raise RequestError(
                "context.medications is missing (the medication-prescribe hook sends the orders being written there)"
            )
    elif context.get("draftOrders") is None:
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
    limits: Optional[Limits] = None,
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
    limits
        The count and size limits to enforce (:class:`Limits` defaults when None); the
        concurrency and time limits are the application's (:func:`create_app`).

    Returns
    -------
    dict
        The CDS Hooks response.

    Raises
    ------
    RequestError
        When the request is malformed (status 400) or over a limit (status 413); the message
        names the offending field or the limit.
    """
    limits = limits if limits is not None else Limits()
    context, prefetch = _validate_request(service, body)
    mapper = _Mapper(kb, limits)

    prescribe = body["hook"] == MEDICATION_PRESCRIBE
    if prescribe:
        draft_entries, draft_path = _prescribe_entries(context["medications"])
    else:
        draft_entries, draft_path = _bundle_entries(context["draftOrders"], "context.draftOrders"), "context.draftOrders"
    if len(draft_entries) > limits.max_draft_orders:
        raise RequestError(
            f"context.draftOrders has {len(draft_entries)} entries; this service accepts at most "
            f"{limits.max_draft_orders} draft orders per request (limit max_draft_orders)",
            status=413,
        )
    # Prefetch keys are only names, chosen by whoever wrote the templates: every prefetched value
    # is read, a Bundle or a single resource, and its resources are told apart by resourceType.
    prefetch_entries: List[Tuple[str, List[Any]]] = []
    for prefetch_key, value in prefetch.items():
        if value is None:
            continue  # the patient has no such data
        path = f"prefetch.{prefetch_key}"
        prefetch_entries.append((path, _prefetch_entries(value, path)))
    prefetch_count = sum(len(entries) for _, entries in prefetch_entries)
    if prefetch_count > limits.max_prefetch_resources:
        raise RequestError(
            f"the prefetch Bundles hold {prefetch_count} entries together; this service accepts at most "
            f"{limits.max_prefetch_resources} prefetch resources per request (limit max_prefetch_resources)",
            status=413,
        )
    drafts = _bundle_resources(draft_entries, draft_path, limits)
    prefetched: List[Tuple[str, Dict[str, Any]]] = []
    for path, entries in prefetch_entries:
        prefetched += _bundle_resources(entries, path, limits)
    # A template of this service's is missing only when its key is absent and no resource of its
    # type came under another key (a client with its own templates sends its own keys).
    sent_types = {resource["resourceType"] for _, resource in prefetched}
    missing = [
        key for key, types in _PREFETCH_TYPES.items() if key not in prefetch and not sent_types.intersection(types)
    ]

    medications_by_ref: Dict[str, Dict[str, Any]] = {}
    for _, resource in drafts + prefetched:
        if resource["resourceType"] == "Medication" and _resource_key(resource):
            medications_by_ref[str(_resource_key(resource))] = resource

    # A set: membership is tested once per draft order (a list made order-select quadratic).
    selections: Optional[set[str]] = None
    if not prescribe and service.hook == "order-select" and context.get("selections") is not None:
        raw = _expect(context["selections"], list, "context.selections")
        if len(raw) > limits.max_draft_orders:
            raise RequestError(
                f"context.selections has {len(raw)} items; this service accepts at most "
                f"{limits.max_draft_orders} (limit max_draft_orders)",
                status=413,
            )
        selections = {_expect(s, str, f"context.selections[{i}]") for i, s in enumerate(raw)}

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
            if _not_taken(resource):
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

    if len(meds) > limits.max_check_medications:
        raise RequestError(
            f"the request holds {len(meds)} medications to check (draft orders and distinct active "
            f"medications); this service checks at most {limits.max_check_medications} at once "
            "(limit max_check_medications)",
            status=413,
        )
    if len(conditions) > limits.max_check_conditions:
        raise RequestError(
            f"the request holds {len(conditions)} distinct active conditions; this service checks at most "
            f"{limits.max_check_conditions} at once (limit max_check_conditions)",
            status=413,
        )
    report = kb.check([m.text for m in meds], conditions=conditions)
    info_cards: List[Tuple[str, str, str]] = []
    if missing:
        info_cards.append(
            (
                "missing-prefetch:" + ",".join(missing),
                "Some patient data was not sent: the check may be incomplete",
                "The request did not carry the prefetch "
                + ", ".join(f"`{k}` ({_PREFETCH[k].split('?', 1)[0]})" for k in missing)
                + ", and this service does not query the FHIR server. The draft orders were checked "
                "only against what was sent.",
            )
        )
    # The one CDS Hooks rendering is the library's: it keeps the warnings about orders of interest,
    # lists the request's medications on each card, adds the "not checked" and unrecognised-condition
    # cards, and derives every uuid the same way.
    result: Dict[str, Any] = report.to_cds_hooks(
        focus=[m.focus for m in meds],
        include_active_interactions=include_active_interactions,
        input_labels=[_order_label(m) for m in meds],
        unresolved_condition_card=True,
        info_cards=info_cards,
    )
    return result


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

# JSON media types: application/json and the structured-syntax suffix (application/fhir+json...).
_JSON_MEDIA_TYPE = re.compile(r"application/(?:[a-z0-9!#$&^_.-]+\+)?json", re.IGNORECASE)
# Only a lone surrogate escape can put a surrogate into parsed JSON (the text itself is strict UTF-8).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _require_json(request: Request) -> None:
    """HTTP 415 unless the Content-Type is JSON (in UTF-8, the only encoding JSON allows)."""
    header = request.headers.get("content-type")
    if header is None:
        raise RequestError("Content-Type is missing; send the request body as application/json", status=415)
    media_type, _, params = header.partition(";")
    if not _JSON_MEDIA_TYPE.fullmatch(media_type.strip()):
        raise RequestError(
            f"Content-Type {media_type.strip()[:100]!r} is not JSON; send the request body as application/json",
            status=415,
        )
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise RequestError(
                f"charset {value.strip()[:40]!r} is not supported; JSON request bodies must be UTF-8", status=415
            )


class _Body:
    """Reads a request body within a byte limit, remembering whether all of it was received."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.complete = False

    async def read(self, limit: int) -> bytes:
        """The raw body, refused (413) by Content-Length or as soon as the received bytes pass ``limit``."""
        declared = self.request.headers.get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            raise RequestError(f"request body is larger than {limit} bytes (limit max_body_bytes)", status=413)
        chunks: List[bytes] = []
        size = 0
        while not self.complete:
            message = await self.request.receive()
            if message["type"] != "http.request":  # http.disconnect: nobody is left to answer
                raise RequestError("the client disconnected before it sent the whole body")
            chunk = message.get("body", b"")
            self.complete = not message.get("more_body", False)
            size += len(chunk)
            if size > limit:
                raise RequestError(f"request body is larger than {limit} bytes (limit max_body_bytes)", status=413)
            chunks.append(chunk)
        return b"".join(chunks)

    async def discard(self, budget: int) -> None:
        """Reads and drops the rest of the body, up to ``budget`` bytes.

        A client still sending a body it was refused would otherwise have its connection reset
        when the server closes it, and would never see the error answer.
        """
        received = 0
        while not self.complete and received <= budget:
            message = await self.request.receive()
            if message["type"] != "http.request":
                return
            received += len(message.get("body", b""))
            self.complete = not message.get("more_body", False)


def _replace_lone_surrogates(root: Any) -> Any:
    """``root`` with every lone UTF-16 surrogate in its strings (keys too) replaced by U+FFFD.

    Iterative, so that it handles any nesting the JSON parser accepted.
    """

    def fix(text: str) -> str:
        return _SURROGATE.sub("\ufffd", text)

    if isinstance(root, str):
        return fix(root)
    stack: List[Any] = [root] if isinstance(root, (dict, list)) else []
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            for i, value in enumerate(node):
                if isinstance(value, str):
                    node[i] = fix(value)
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        else:
            for key in list(node):
                value = node.pop(key)
                if isinstance(value, str):
                    value = fix(value)
                elif isinstance(value, (dict, list)):
                    stack.append(value)
                node[fix(key)] = value
    return root


def _parse_json(raw: bytes) -> Any:
    """Parses a request body: strict UTF-8, then JSON; lone surrogate escapes become U+FFFD."""
    try:
        # Decoded here rather than by json.loads, which would also accept UTF-16 and UTF-32 and
        # let UTF-8-encoded surrogates through ('surrogatepass').
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError("request body is not UTF-8 text") from None
    if not text.strip():
        raise RequestError("request body is empty (expected a JSON object)")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RequestError(
            f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise RequestError("request body is nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts (4300)
        raise RequestError(f"request body holds a value this service cannot read: {str(exc)[:200]}") from None
    # "\ud800" is valid JSON syntax but not Unicode text (RFC 8259 section 8.2): it cannot be
    # passed to the C++ checker nor written back as UTF-8, so it is replaced, as invalid bytes are
    # in the reports.
    if _SURROGATE_ESCAPE.search(text):
        value = _replace_lone_surrogates(value)
    return value


def _render(content: Any) -> bytes:
    # As Starlette's JSONResponse renders, but run in a worker thread; "replace" keeps an
    # unencodable character (there should be none left) from turning an answer into a 500.
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8", "replace")


def _load_malloc_trim() -> Any:
    try:
        import ctypes
        import ctypes.util

        name = ctypes.util.find_library("c")
        trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except (ImportError, OSError):  # pragma: no cover - not glibc
        return None
    if trim is not None:
        trim.argtypes = [ctypes.c_size_t]
        trim.restype = ctypes.c_int
    return trim


# glibc keeps freed memory in per-thread arenas; after a large request it is handed back to the
# system, so that one large request does not leave the process large (issue 13: 7.3 GB kept 6.2).
_MALLOC_TRIM = _load_malloc_trim()
_TRIM_AFTER_BYTES = 256 * 1024


def _release_memory(*sizes: int) -> None:
    if _MALLOC_TRIM is not None and max(sizes, default=0) >= _TRIM_AFTER_BYTES:
        _MALLOC_TRIM(0)


def _error(status: int, message: str, headers: Optional[Mapping[str, str]] = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=dict(headers or {}))


class _Scheduler:
    """Admits requests (up to ``max_pending_requests``) and runs their work on a bounded pool.

    A worker slot is taken before the work is submitted and given back only when the work has
    really ended: a check that overran its time limit cannot be interrupted (it runs in C++), so
    it keeps its slot, and the pool never holds more than ``max_concurrent_checks`` jobs, queued
    or running. Requests waiting for a slot wait on the event loop, where a time-out cancels them
    cleanly.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.pending = 0  # requests admitted and not yet answered (touched on the event loop only)
        self.running = 0  # jobs on the pool, including overrunning ones of timed-out requests
        self._pool = ThreadPoolExecutor(max_workers=limits.max_concurrent_checks, thread_name_prefix="rxcaution-cds")
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._slots: Optional[asyncio.Semaphore] = None

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:  # created on the loop that serves the app
            self._loop = loop
            self._slots = asyncio.Semaphore(self.limits.max_concurrent_checks)
        return self._slots

    def admit(self) -> None:
        if self.pending >= self.limits.max_pending_requests:
            raise RequestError(
                f"the service is busy answering {self.pending} requests (limit max_pending_requests); retry shortly",
                status=503,
                headers={"Retry-After": "1"},
            )
        self.pending += 1

    def leave(self) -> None:
        self.pending -= 1

    async def run(self, fn: Any, *args: Any) -> Any:
        slots = self._semaphore()
        await slots.acquire()
        loop = asyncio.get_running_loop()
        try:
            job = self._pool.submit(fn, *args)
        except BaseException:
            slots.release()
            raise
        self.running += 1

        def finished(_: Any) -> None:
            def release() -> None:
                self.running -= 1
                slots.release()

            with contextlib.suppress(RuntimeError):  # the loop was closed: the server has stopped
                loop.call_soon_threadsafe(release)

        job.add_done_callback(finished)
        return await asyncio.wrap_future(job)


def create_app(
    kb: Optional[KnowledgeBase] = None,
    *,
    include_active_interactions: bool = False,
    cors_origins: Sequence[str] = (),
    max_body_bytes: Optional[int] = None,
    limits: Optional[Limits] = None,
) -> Starlette:
    """Builds the ASGI application.

    Parameters
    ----------
    kb
        The knowledge base shared by every request (``KnowledgeBase.builtin()`` when None). A
        knowledge base is immutable and thread-safe; checks run on the service's worker threads.
    include_active_interactions
        Also return warnings that involve none of the draft orders of interest.
    cors_origins
        Browser origins allowed to call the service (e.g. a CDS Hooks sandbox); none by default.
    max_body_bytes
        Larger request bodies are refused with HTTP 413 (overrides ``limits.max_body_bytes``).
    limits
        Request size, concurrency and time limits (:class:`Limits` defaults when None).

    Returns
    -------
    Starlette
        The application; ``app.state.kb`` is the knowledge base, ``app.state.feedback`` the
        :class:`FeedbackLog` and ``app.state.limits`` the :class:`Limits` in force.
    """
    knowledge_base = kb if kb is not None else KnowledgeBase.builtin()
    limits = limits if limits is not None else Limits()
    if max_body_bytes is not None:
        limits = dataclasses.replace(limits, max_body_bytes=max_body_bytes)
    feedback = FeedbackLog()
    scheduler = _Scheduler(limits)

    def service_for(request: Request) -> ServiceSpec:
        service_id = request.path_params["service_id"]
        service = SERVICES.get(service_id)
        if service is None:
            raise HTTPException(404, f"unknown CDS service '{service_id[:200]}'; see GET /cds-services")
        return service

    async def answer_in_time(request: Request, work: Any, *args: Any) -> Response:
        """Reads the body and runs ``work(raw_body, *args)`` on a worker, within the time limit."""
        started = time.monotonic()
        body = _Body(request)
        try:
            _require_json(request)
            scheduler.admit()
            try:

                async def read_and_work() -> Any:
                    raw = await body.read(limits.max_body_bytes)
                    return await scheduler.run(work, raw, *args)

                try:
                    payload = await asyncio.wait_for(read_and_work(), timeout=limits.request_timeout_s)
                except asyncio.TimeoutError:
                    raise RequestError(
                        f"the request was not answered within {limits.request_timeout_s:g} s (limit request_timeout_s)",
                        status=504,
                    ) from None
            finally:
                scheduler.leave()
        except RequestError as exc:
            if exc.status in (413, 415, 503) and not body.complete:
                # Bounded in bytes and time; draining costs bandwidth, never memory.
                remaining = max(0.1, limits.request_timeout_s - (time.monotonic() - started))
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(body.discard(4 * limits.max_body_bytes), timeout=remaining)
            raise
        return Response(payload, media_type="application/json")

    def hook_call(raw: bytes, service: ServiceSpec) -> bytes:
        body = _parse_json(raw)
        answer = evaluate_request(
            knowledge_base, service, body, include_active_interactions=include_active_interactions, limits=limits
        )
        instance = body.get("hookInstance")
        # The instance id only, shortened and quoted: the log carries no patient data and no
        # caller-controlled line breaks.
        log.info("%s hookInstance=%r: %d card(s)", service.id, str(instance)[:64], len(answer["cards"]))
        rendered = _render(answer)
        del body, answer
        _release_memory(len(raw), len(rendered))
        return rendered

    def feedback_call(raw: bytes, service: ServiceSpec) -> bytes:
        items = _parse_feedback(_parse_json(raw))
        for item in items:
            feedback.add(service.id, item["outcome"])
        return _render({"received": len(items)})

    async def discovery(request: Request) -> Response:
        return JSONResponse(discovery_document())

    async def call_service(request: Request) -> Response:
        return await answer_in_time(request, hook_call, service_for(request))

    async def receive_feedback(request: Request) -> Response:
        return await answer_in_time(request, feedback_call, service_for(request))

    async def on_request_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestError)
        log.info("%s %s: %s", request.method, request.url.path, exc)
        return _error(exc.status, str(exc), exc.headers)

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
    app.state.limits = limits
    app.state.scheduler = scheduler
    return app


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every rxcaution server takes (this service and the checker page): where to
    listen and which packs to load."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    parser.add_argument(
        "--pack",
        action="append",
        default=[],
        metavar="PATH",
        help="knowledge pack to load instead of the built-in one (directory, file or .rxpack snapshot); "
        "repeat it to layer packs, the first leading: --pack builtin --pack ddinter.rxpack",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rxcaution.cds_hooks",
        description="Serve rxcaution as CDS Hooks services (order-select, order-sign). " + DISCLAIMER,
    )
    add_server_arguments(parser)
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
    defaults = Limits()
    for name, kind, help_text in _LIMIT_OPTIONS:
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=kind,
            default=getattr(defaults, name),
            metavar="N",
            help=f"{help_text} (default: {getattr(defaults, name)})",
        )
    return parser


# The command-line spelling of every Limits field (--max-draft-orders...), with its help.
_LIMIT_OPTIONS: Tuple[Tuple[str, type, str], ...] = (
    ("max_body_bytes", int, "largest request body in bytes; larger gets 413"),
    ("max_draft_orders", int, "most draft orders (and selections) per request; more gets 413"),
    ("max_prefetch_resources", int, "most prefetch resources per request; more gets 413"),
    ("max_check_medications", int, "most medications handed to one check; more gets 413"),
    ("max_check_conditions", int, "most conditions handed to one check; more gets 413"),
    ("max_text_chars", int, "longest medication or condition name, code or resource id; longer gets 413"),
    ("max_codings", int, "most codings in one CodeableConcept; more gets 413"),
    ("max_concurrent_checks", int, "worker threads that parse and check hook calls"),
    ("max_pending_requests", int, "most requests answered at once; more get 503"),
    ("request_timeout_s", float, "seconds to answer a request; slower gets 504"),
)


def load_packs(packs: Sequence[str]) -> KnowledgeBase:
    """The knowledge base of the ``--pack`` options: the built-in pack when there is none, else the
    packs layered in the order given (``builtin`` names the built-in pack)."""
    if not packs:
        return KnowledgeBase.builtin()
    return KnowledgeBase.load(list(packs))


def main(argv: Optional[Iterable[str]] = None) -> int:
    """Command-line entry point: ``python -m rxcaution.cds_hooks [--host H] [--port P] ...``."""
    import uvicorn

    args = _parser().parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        limits = Limits(**{name: getattr(args, name) for name, _, _ in _LIMIT_OPTIONS})
    except ValueError as exc:
        _parser().error(str(exc))
    kb = load_packs(args.pack)
    app = create_app(
        kb,
        include_active_interactions=args.include_active_interactions,
        cors_origins=args.cors_origin,
        limits=limits,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, ws="none", lifespan="off")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
