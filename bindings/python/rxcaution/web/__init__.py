"""The rxcaution checker page and its JSON API, in the same process as the CDS Hooks service.

rxcaution is reference software, not medical advice: a warning is a prompt to look at a combination,
no warning does not mean a combination is safe, and a medication that was not recognised was not
checked at all (the page shows it first, as NOT CHECKED).

Run it with::

    pip install 'rxcaution[web]'
    python -m rxcaution.web --host 127.0.0.1 --port 8080

and open http://127.0.0.1:8080/ in a browser.

The page
--------
``GET /`` is one HTML page with its script and style sheet (``/assets/...``), all shipped inside the
package: no CDN, no font or image from elsewhere, so it works offline. Its Content-Security-Policy
limits the page's scripts to this origin (``connect-src 'self'``). Medications and conditions are
typed with suggestions from the pack's names; the results are grouped by severity, with the
management, effect, mechanism, evidence grade, label placement, sources and the explanation path,
next to the regimen graph (Graphviz ``dot``, drawn by the server, inlined as SVG). Inputs that were
not checked are listed first. The regimen is kept in the address (``#m=ketamine&m=Suboxone&c=...``),
so a check can be bookmarked or printed.

The JSON API
------------
Every request body is a JSON object, at most ``max_body_bytes`` (64 KiB by default); errors are
answered with HTTP 4xx and ``{"error": "<what is wrong, with the field>"}``.

``POST /api/check``
    ``{"medications": ["ketamine", "Suboxone"], "conditions": ["hypertension"]}`` (conditions
    optional) -> the report JSON contract (docs/json-output.md), exactly ``Report.to_json()``.
``POST /api/resolve``
    Same body (either list may be empty, not both) -> ``{"medications": [Resolution.to_dict()...],
    "conditions": [ConditionResolution.to_dict()...]}``.
``POST /api/suggest``
    ``{"text": "keta", "kind": "medication" | "condition", "limit": 8}`` -> ``{"text", "kind",
    "suggestions": [{"value", "name", "id", "kind", "match"}...]}``: names of the pack that start
    with the text, then names with a word that starts with it, then names containing it; for a
    misspelling, the pack's own close matches (``match`` is ``"similar"``).
``POST /api/graph``
    Same body as ``/api/check`` -> the regimen graph as an SVG document (``image/svg+xml``) with no
    script, link or external reference; HTTP 503 when Graphviz ``dot`` is not installed.
``GET /api/info``
    The pack's name, version, licence and the request limits.

``/cds-services...`` is the CDS Hooks service of :mod:`rxcaution.cds_hooks`, unchanged.

Command-line options: ``--host`` (default 127.0.0.1), ``--port`` (default 8080), ``--pack PATH``,
``--include-active-interactions`` and ``--cors-origin ORIGIN`` (both for the CDS Hooks service only)
and ``--log-level``. The server does not authenticate its callers and keeps no patient data.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import logging
import re
import shutil
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections import OrderedDict
from dataclasses import dataclass
from importlib import resources
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

try:
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import BaseRoute, Match, NoMatchFound, Route
    from starlette.types import Receive, Scope, Send
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise ImportError("rxcaution.web needs Starlette and uvicorn: pip install 'rxcaution[web]'") from _exc

from .. import KnowledgeBase, cds_hooks

__all__ = [
    "DISCLAIMER",
    "Limits",
    "RequestError",
    "SuggestionIndex",
    "create_app",
    "main",
    "render_page",
    "sanitize_svg",
]

log = logging.getLogger("rxcaution.web")

#: Shown on the page, in the footer and in the print view.
DISCLAIMER = (
    "Reference software, not medical advice. rxcaution reports what its cited sources say; it does not "
    "replace a clinician, a pharmacist or the product labels. No warning found does not mean a combination "
    "is safe, and an input marked NOT CHECKED was not checked at all."
)

# The page's scripts may talk to this origin only; nothing is loaded from anywhere else.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

_ASSETS = ("app.js", "app.css", "favicon.svg")
_MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
_SVG_NS = "http://www.w3.org/2000/svg"
# Graphviz draws with these; anything else (script, foreignObject, image, a, use...) is dropped.
_SVG_ELEMENTS = frozenset({"svg", "g", "title", "polygon", "polyline", "ellipse", "path", "text", "tspan"})
ET.register_namespace("", _SVG_NS)  # serialise SVG elements without an "ns0:" prefix


@dataclass(frozen=True)
class Limits:
    """Request limits of the JSON API (larger requests get HTTP 413 or 400)."""

    max_body_bytes: int = 64 * 1024
    max_medications: int = 50
    max_conditions: int = 20
    max_text_chars: int = 200
    max_suggestions: int = 20

    def to_dict(self) -> Dict[str, int]:
        """The limits as shown by ``GET /api/info`` and given to the page's script."""
        return {
            "max_body_bytes": self.max_body_bytes,
            "max_medications": self.max_medications,
            "max_conditions": self.max_conditions,
            "max_text_chars": self.max_text_chars,
            "max_suggestions": self.max_suggestions,
        }


class RequestError(ValueError):
    """A request the API cannot answer; the message says what is wrong (HTTP ``status``)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# --- suggestions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Name:
    value: str  # what the person would type (a name or a synonym)
    folded: str
    words: Tuple[str, ...]
    name: str  # the entity's own name
    id: str
    kind: str  # substance, product or condition
    match: str  # name or synonym


_WORD_SPLIT = re.compile(r"[\s\-/(),+]+")


class SuggestionIndex:
    """The pack's medication and condition names, for suggestions as a person types.

    Built once per knowledge base (a few thousand strings at most); a lookup scans them, which
    takes well under a millisecond.
    """

    def __init__(self, kb: KnowledgeBase) -> None:
        self._kb = kb
        meds: List[_Name] = []
        for s in kb.substances():
            meds += self._names(s.name, s.synonyms, s.name, s.id, "substance")
        for p in kb.products():
            meds += self._names(p.name, p.synonyms, p.name, p.id, "product")
        conds: List[_Name] = []
        for c in kb.conditions():
            conds += self._names(c.name, c.synonyms, c.name, c.id, "condition")
        self._by_kind = {"medication": self._unique(meds), "condition": self._unique(conds)}

    @staticmethod
    def _names(name: str, synonyms: Sequence[str], display: str, id_: str, kind: str) -> List[_Name]:
        out = []
        for value, match in [(name, "name")] + [(s, "synonym") for s in synonyms]:
            if value:
                folded = value.casefold()
                words = tuple(w for w in _WORD_SPLIT.split(folded) if w)
                out.append(_Name(value, folded, words, display, id_, kind, match))
        return out

    @staticmethod
    def _unique(names: List[_Name]) -> List[_Name]:
        seen: Dict[str, _Name] = {}
        for n in names:
            # A string that is both a name and another entity's synonym keeps its first owner: the
            # resolver answers names before synonyms, substances before products.
            seen.setdefault(n.folded, n)
        return list(seen.values())

    def suggest(self, text: str, kind: str = "medication", limit: int = 8) -> List[Dict[str, str]]:
        """Up to ``limit`` names for what was typed, best first.

        Parameters
        ----------
        text
            What the person typed so far.
        kind
            ``"medication"`` or ``"condition"``.
        limit
            How many suggestions at most.

        Returns
        -------
        list of dict
            ``{"value": text to put in the field, "name": the entity's name, "id", "kind",
            "match": "name" | "synonym" | "similar"}``.
        """
        query = " ".join(text.split()).casefold()
        if not query or limit <= 0:
            return []
        ranked: List[Tuple[Tuple[int, int, int, int, str], _Name]] = []
        for n in self._by_kind[kind]:
            if n.folded.startswith(query):
                rank = 0
            elif any(w.startswith(query) for w in n.words):
                rank = 1
            elif len(query) >= 3 and query in n.folded:
                rank = 2
            else:
                continue
            kind_order = 1 if n.kind == "product" else 0
            ranked.append(((rank, 0 if n.match == "name" else 1, kind_order, len(n.value), n.folded), n))
        ranked.sort(key=lambda item: item[0])
        out: List[Dict[str, str]] = []
        taken: Set[str] = set()
        for _, n in ranked:
            if n.id in taken:
                continue  # one line per medication or condition, under its best-matching name
            taken.add(n.id)
            out.append(self._entry(n.value, n.name, n.id, n.kind, n.match))
            if len(out) >= limit:
                break
        if len(out) < limit and len(query) >= 3:
            out += self._similar(text, kind, taken, limit - len(out))
        return out

    def _similar(self, text: str, kind: str, taken: Set[str], limit: int) -> List[Dict[str, str]]:
        # The resolver's own answer: what the text resolves to (e.g. "methadone 10 mg tablet"), or
        # its close matches for a misspelling, so the page says the same as the report will.
        out: List[Dict[str, str]] = []
        if kind == "medication":
            r = self._kb.resolve(text)
            candidates = [r.name] if r.resolved else list(r.suggestions)
        else:
            c = self._kb.resolve_condition(text)
            candidates = [c.name] if c.resolved else list(c.suggestions)
        for candidate in candidates:
            hit = next((n for n in self._by_kind[kind] if n.folded == candidate.casefold()), None)
            if hit is None or hit.id in taken:
                continue
            taken.add(hit.id)
            out.append(self._entry(hit.value, hit.name, hit.id, hit.kind, "similar"))
            if len(out) >= limit:
                break
        return out

    @staticmethod
    def _entry(value: str, name: str, id_: str, kind: str, match: str) -> Dict[str, str]:
        return {"value": value, "name": name, "id": id_, "kind": kind, "match": match}


# --- the regimen graph ----------------------------------------------------------------------------


def sanitize_svg(svg: str, label: str = "Regimen graph") -> str:
    """Makes Graphviz's SVG safe and self-contained to inline into the page.

    Keeps only the drawing elements Graphviz uses, drops every event handler, link, style and
    reference attribute, the XML prologue, the DOCTYPE and the comments, and replaces the fixed
    size by the viewBox so the picture scales with the page.

    Parameters
    ----------
    svg
        An SVG document as written by ``dot -Tsvg``.
    label
        The accessible name of the picture.

    Returns
    -------
    str
        One ``<svg>`` element.

    Raises
    ------
    ValueError
        When the text is not an SVG document.
    """
    try:
        root = ET.fromstring(svg.encode("utf-8"))
    except ET.ParseError as exc:
        raise ValueError(f"not an SVG document: {exc}") from None
    if root.tag != f"{{{_SVG_NS}}}svg":
        raise ValueError(f"not an SVG document: root element {root.tag}")

    def clean(element: ET.Element) -> None:
        for child in list(element):
            tag = child.tag if isinstance(child.tag, str) else ""
            if not tag.startswith(f"{{{_SVG_NS}}}") or tag[len(_SVG_NS) + 2 :] not in _SVG_ELEMENTS:
                element.remove(child)
                continue
            clean(child)
        for attr in list(element.attrib):
            local = attr.rsplit("}", 1)[-1].lower()
            value = element.attrib[attr]
            if (
                local.startswith("on")
                or local in ("href", "style", "src", "class")
                or attr.startswith("{")  # xlink:*, xml:* and other namespaced attributes
                or "url(" in value.replace(" ", "").lower()
            ):
                del element.attrib[attr]

    clean(root)
    for attr in ("width", "height"):
        root.attrib.pop(attr, None)
    root.set("role", "img")
    root.set("aria-label", label)
    root.set("focusable", "false")
    return ET.tostring(root, encoding="unicode")


class _GraphRenderer:
    """``kb.regimen_dot`` drawn by Graphviz ``dot``, with a small cache of recent pictures."""

    def __init__(self, kb: KnowledgeBase, dot: Optional[str], cache_size: int = 64, timeout_s: float = 10.0) -> None:
        self._kb = kb
        self._dot = dot
        self._cache: "OrderedDict[Tuple[Tuple[str, ...], Tuple[str, ...]], str]" = OrderedDict()
        self._cache_size = cache_size
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        # Each drawing is a process; a burst of requests must not start dozens of them at once.
        self._drawing = threading.BoundedSemaphore(2)

    def svg(self, medications: Sequence[str], conditions: Sequence[str]) -> str:
        key = (tuple(medications), tuple(conditions))
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        if not self._dot:
            raise RequestError(
                "the regimen graph needs Graphviz 'dot' on the server's PATH (apt-get install graphviz)", status=503
            )
        # Top to bottom: the page shows the graph in a column beside the alerts, where the core's
        # left-to-right layout would come out long and thin.
        dot_source = self._kb.regimen_dot(list(medications), conditions=list(conditions)).replace(
            "rankdir=LR;", "rankdir=TB;", 1
        )
        try:
            with self._drawing:
                done = subprocess.run(
                    [self._dot, "-Tsvg"],
                    input=dot_source.encode("utf-8"),
                    capture_output=True,
                    timeout=self._timeout_s,
                    check=False,
                )
        except subprocess.TimeoutExpired:
            raise RequestError(f"Graphviz took longer than {self._timeout_s:g} s to draw the graph", status=503) from None
        except OSError as exc:
            raise RequestError(f"Graphviz 'dot' could not be run: {exc.strerror}", status=503) from None
        if done.returncode != 0:
            log.warning("dot failed (%d): %s", done.returncode, done.stderr.decode("utf-8", "replace")[:500])
            raise RequestError("Graphviz could not draw this graph", status=503)
        label = "Regimen graph of " + " + ".join(medications)
        if conditions:
            label += " with " + ", ".join(conditions)
        picture = sanitize_svg(done.stdout.decode("utf-8", "replace"), label)
        with self._lock:
            self._cache[key] = picture
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return picture


# --- request parsing ------------------------------------------------------------------------------


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
        body = json.loads(raw)
    except UnicodeDecodeError:
        raise RequestError("request body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise RequestError(f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise RequestError("request body is nested too deeply") from None
    if not isinstance(body, dict):
        raise RequestError(f"request body must be a JSON object, not {_json_type(body)}")
    return body


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _only_fields(body: Dict[str, Any], allowed: Sequence[str]) -> None:
    for key in body:
        if key not in allowed:
            raise RequestError(f"unknown field '{key}' (expected {', '.join(allowed)})")


def _texts(body: Dict[str, Any], field: str, most: int, limits: Limits) -> List[str]:
    value = body.get(field, [])
    if value is None:
        value = []
    if not isinstance(value, list):
        raise RequestError(f"{field} must be an array of strings, not {_json_type(value)}")
    if len(value) > most:
        raise RequestError(f"{field} has {len(value)} entries; at most {most} are accepted", status=413)
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise RequestError(f"{field}[{i}] must be a string, not {_json_type(item)}")
        if not item.strip():
            raise RequestError(f"{field}[{i}] is empty")
        if len(item) > limits.max_text_chars:
            raise RequestError(f"{field}[{i}] is longer than {limits.max_text_chars} characters")
        out.append(item.strip())
    return out


def _regimen(body: Dict[str, Any], limits: Limits, require_medication: bool = True) -> Tuple[List[str], List[str]]:
    _only_fields(body, ("medications", "conditions"))
    if require_medication and "medications" not in body:
        raise RequestError("medications is missing (an array of medication names)")
    meds = _texts(body, "medications", limits.max_medications, limits)
    conds = _texts(body, "conditions", limits.max_conditions, limits)
    if require_medication and not meds:
        raise RequestError("medications is empty (give at least one medication name)")
    return meds, conds


# --- the page -------------------------------------------------------------------------------------


def _asset_text(name: str) -> str:
    return (resources.files(__package__) / "static" / name).read_text(encoding="utf-8")


def render_page(kb: KnowledgeBase, limits: Limits = Limits(), asset_versions: Optional[Dict[str, str]] = None) -> str:
    """The checker page's HTML for a knowledge base (pack name, version and licence filled in).

    Parameters
    ----------
    kb
        The knowledge base the page checks with.
    limits
        The API's request limits, handed to the page's script.
    asset_versions
        Asset name -> content hash, appended to the asset URLs so a browser may cache them for good.

    Returns
    -------
    str
        The HTML document.
    """
    info = kb.info
    versions = asset_versions or {}
    config = {"limits": limits.to_dict(), "pack": {"name": info.name, "version": info.version}}
    values = {
        "pack_name": info.name,
        "pack_version": info.version,
        "pack_licence": info.licence or "not stated",
        "disclaimer": DISCLAIMER,
        # "</" cannot occur in JSON from json.dumps of these values except inside strings; escaping
        # "<" keeps the data block from ever closing the script element early.
        "config_json": json.dumps(config).replace("<", "\\u003c"),
    }
    page = _asset_text("index.html")
    for name in _ASSETS:
        page = page.replace(f"{{{{asset:{name}}}}}", f"/assets/{name}?v={versions.get(name, '0')}")
    for key, value in values.items():
        page = page.replace("{{" + key + "}}", value if key == "config_json" else html.escape(value))
    return page


class _PrefixRoute(BaseRoute):
    """Hands every request under ``prefix`` to another ASGI app, with its path unchanged.

    ``Mount`` would strip the prefix (and answer 404 for a wrong method elsewhere); the CDS Hooks
    app routes on full paths and keeps its own error handlers and middleware.
    """

    def __init__(self, prefix: str, app: Any) -> None:
        self.prefix = prefix
        self.app = app

    def matches(self, scope: Scope) -> Tuple[Match, Scope]:
        if scope["type"] == "http":
            path = scope["path"]
            if path == self.prefix or path.startswith(self.prefix + "/"):
                return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def create_app(
    kb: Optional[KnowledgeBase] = None,
    *,
    limits: Limits = Limits(),
    include_active_interactions: bool = False,
    cors_origins: Sequence[str] = (),
    graphviz_dot: Optional[str] = "dot",
) -> Starlette:
    """Builds the ASGI application: the checker page, its JSON API and the CDS Hooks service.

    Parameters
    ----------
    kb
        The knowledge base shared by every request (``KnowledgeBase.builtin()`` when None).
    limits
        Request limits of the JSON API.
    include_active_interactions
        Passed to the CDS Hooks service (:func:`rxcaution.cds_hooks.create_app`).
    cors_origins
        Browser origins allowed to call the CDS Hooks service; the page's API allows none.
    graphviz_dot
        The Graphviz ``dot`` program (looked up on PATH); None draws no graphs (``/api/graph``
        answers 503 and the page says so).

    Returns
    -------
    Starlette
        The application; ``app.state.kb`` is the knowledge base, ``app.state.cds`` the CDS Hooks app.
    """
    knowledge_base = kb if kb is not None else KnowledgeBase.builtin()
    cds = cds_hooks.create_app(
        knowledge_base, include_active_interactions=include_active_interactions, cors_origins=cors_origins
    )
    index = SuggestionIndex(knowledge_base)
    dot_path = shutil.which(graphviz_dot) if graphviz_dot else None
    graphs = _GraphRenderer(knowledge_base, dot_path)
    assets: Dict[str, Tuple[bytes, str]] = {}
    versions: Dict[str, str] = {}
    for name in _ASSETS:
        data = _asset_text(name).encode("utf-8")
        assets[name] = (data, _MEDIA_TYPES[name[name.rfind(".") :]])
        versions[name] = hashlib.sha256(data).hexdigest()[:12]
    page = render_page(knowledge_base, limits, versions).encode("utf-8")
    info = knowledge_base.info
    info_body = {
        "name": info.name,
        "version": info.version,
        "licence": info.licence,
        "description": info.description,
        "disclaimer": DISCLAIMER,
        "graph": dot_path is not None,
        "limits": limits.to_dict(),
    }
    page_headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "Cache-Control": "no-cache",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }

    async def show_page(request: Request) -> Response:
        return Response(page, media_type="text/html; charset=utf-8", headers=page_headers)

    async def asset(request: Request) -> Response:
        found = assets.get(request.path_params["name"])
        if found is None:
            raise HTTPException(404, f"no asset '{request.path_params['name']}'")
        data, media_type = found
        # Asset URLs carry the content hash, so a browser may keep them for good.
        return Response(
            data,
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"},
        )

    async def api_info(request: Request) -> Response:
        return JSONResponse(info_body)

    async def api_check(request: Request) -> Response:
        meds, conds = _regimen(await _read_json(request, limits.max_body_bytes), limits)
        # A check takes well under a millisecond: the event loop is not worth leaving for it.
        report = knowledge_base.check(meds, conditions=conds)
        return Response(report.to_json(indent=-1), media_type="application/json")

    async def api_resolve(request: Request) -> Response:
        meds, conds = _regimen(await _read_json(request, limits.max_body_bytes), limits, require_medication=False)
        if not meds and not conds:
            raise RequestError("give medications or conditions to resolve (both are empty)")
        return JSONResponse(
            {
                "medications": [knowledge_base.resolve(m).to_dict() for m in meds],
                "conditions": [knowledge_base.resolve_condition(c).to_dict() for c in conds],
            }
        )

    async def api_suggest(request: Request) -> Response:
        body = await _read_json(request, limits.max_body_bytes)
        _only_fields(body, ("text", "kind", "limit"))
        text = body.get("text")
        if not isinstance(text, str):
            raise RequestError("text is missing (a string: what was typed so far)" if text is None else f"text must be a string, not {_json_type(text)}")
        if len(text) > limits.max_text_chars:
            raise RequestError(f"text is longer than {limits.max_text_chars} characters")
        kind = body.get("kind", "medication")
        if kind not in ("medication", "condition"):
            raise RequestError("kind must be 'medication' or 'condition'")
        limit = body.get("limit", 8)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= limits.max_suggestions:
            raise RequestError(f"limit must be an integer from 1 to {limits.max_suggestions}")
        return JSONResponse({"text": text, "kind": kind, "suggestions": index.suggest(text, kind, limit)})

    async def api_graph(request: Request) -> Response:
        meds, conds = _regimen(await _read_json(request, limits.max_body_bytes), limits)
        picture = await run_in_threadpool(graphs.svg, meds, conds)
        return Response(picture, media_type="image/svg+xml", headers={"Content-Security-Policy": "default-src 'none'"})

    async def on_request_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestError)
        log.info("%s %s: %s", request.method, request.url.path, exc)
        return JSONResponse({"error": str(exc)}, status_code=exc.status)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = str(exc.detail)
        if exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        elif exc.status_code == 404 and message == "Not Found":
            message = f"nothing at {request.url.path}"
        return JSONResponse({"error": message}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    async def on_unexpected_error(request: Request, exc: Exception) -> Response:
        log.exception("internal error answering %s %s", request.method, request.url.path)
        return JSONResponse({"error": f"internal error in the rxcaution web service ({type(exc).__name__})"}, status_code=500)

    app = Starlette(
        routes=[
            Route("/", show_page, methods=["GET"]),
            Route("/assets/{name}", asset, methods=["GET"]),
            Route("/api/info", api_info, methods=["GET"]),
            Route("/api/check", api_check, methods=["POST"]),
            Route("/api/resolve", api_resolve, methods=["POST"]),
            Route("/api/suggest", api_suggest, methods=["POST"]),
            Route("/api/graph", api_graph, methods=["POST"]),
            _PrefixRoute("/cds-services", cds),
        ],
        exception_handlers={
            RequestError: on_request_error,
            HTTPException: on_http_error,
            Exception: on_unexpected_error,
        },
    )
    app.state.kb = knowledge_base
    app.state.cds = cds
    app.state.suggestions = index
    return app


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rxcaution.web",
        description=(
            "Serve the rxcaution checker page, its JSON API (/api/...) and the CDS Hooks service "
            "(/cds-services). " + DISCLAIMER
        ),
    )
    cds_hooks.add_server_arguments(parser)
    parser.add_argument(
        "--include-active-interactions",
        action="store_true",
        help="CDS Hooks: also return warnings between medications the patient already takes",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="CDS Hooks: allow browser calls from ORIGIN (repeatable)",
    )
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    return parser


def main(argv: Optional[Iterable[str]] = None) -> int:
    """Command-line entry point: ``python -m rxcaution.web [--host H] [--port P] ...``."""
    import uvicorn

    args = _parser().parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    kb = cds_hooks.load_packs(args.pack)
    app = create_app(kb, include_active_interactions=args.include_active_interactions, cors_origins=args.cors_origin)
    log.info("rxcaution checker page on http://%s:%d/", args.host, args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, ws="none", lifespan="off")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
