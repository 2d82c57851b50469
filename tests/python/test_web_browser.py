"""The checker page in a real browser: Debian's Chromium, headless, driven by selenium through
chromium-driver, against the server running on 127.0.0.1.

These tests skip only when Chromium or its driver is not installed (tools/install-deps.sh installs
both). `bash tools/run-tests.sh` sets RXCAUTION_REQUIRE_BROWSER=1, which turns that skip into a
failure, so CI cannot pass without running them. Set RXCAUTION_WEB_SCREENSHOT=PATH to keep the
screenshot of a checked regimen (the README's picture is made that way); it is always written to
pytest's temporary directory as well.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterator, List, Tuple

import pytest

import rxcaution

pytest.importorskip("starlette", reason="needs the web extra: pip install 'rxcaution[web]'")
uvicorn = pytest.importorskip("uvicorn", reason="needs the web extra: pip install 'rxcaution[web]'")

_REQUIRED = os.environ.get("RXCAUTION_REQUIRE_BROWSER", "") not in ("", "0")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
_missing = []
if not CHROMIUM:
    _missing.append("chromium")
if not CHROMEDRIVER:
    _missing.append("chromium-driver (chromedriver)")
try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webelement import WebElement
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    _missing.append("selenium (pip install 'rxcaution[test]')")
if _missing:
    _message = f"the browser tests need {', '.join(_missing)}: apt-get install chromium chromium-driver (tools/install-deps.sh)"
    if _REQUIRED:
        raise RuntimeError(_message + "; RXCAUTION_REQUIRE_BROWSER is set, so they may not be skipped")
    pytest.skip(_message, allow_module_level=True)

from rxcaution import web  # noqa: E402

WAIT_S = 15


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def running(app: Any) -> Iterator[str]:
    sock = free_socket()
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none", lifespan="off", access_log=False))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(base + "/api/info", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the web server did not answer in time")
            time.sleep(0.05)
        yield base
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running(web.create_app()) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator["webdriver.Chrome"]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1366,1000",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(browser: "webdriver.Chrome", base_url: str) -> "webdriver.Chrome":
    """A fresh page (the regimen lives in the address, so a new load starts empty)."""
    browser.get("about:blank")
    browser.get(base_url + "/")
    wait(browser, lambda d: d.execute_script("return document.documentElement.dataset.ready === 'true'"))
    browser.get_log("browser")  # start each test with an empty console
    return browser


def wait(driver: "webdriver.Chrome", condition: Callable[[Any], Any], what: str = "") -> Any:
    try:
        # The page re-renders its results on every check, so an element found a moment ago may be gone.
        return WebDriverWait(driver, WAIT_S, poll_frequency=0.02, ignored_exceptions=(StaleElementReferenceException,)).until(
            condition
        )
    except TimeoutException:
        raise AssertionError(f"timed out waiting for {what or condition}") from None


def type_into(driver: "webdriver.Chrome", element_id: str, text: str) -> WebElement:
    field = driver.find_element(By.ID, element_id)
    field.click()
    field.send_keys(text)
    return field


def options_of(driver: "webdriver.Chrome", list_id: str) -> List[str]:
    return [o.get_attribute("data-value") or "" for o in driver.find_elements(By.CSS_SELECTOR, f"#{list_id} [role=option]")]


def wait_for_options(driver: "webdriver.Chrome", list_id: str, first: str) -> List[str]:
    wait(driver, lambda d: options_of(d, list_id)[:1] == [first], f"the suggestion {first!r} first in #{list_id}")
    return options_of(driver, list_id)


def chips(driver: "webdriver.Chrome", list_id: str) -> List[str]:
    return [c.text for c in driver.find_elements(By.CSS_SELECTOR, f"#{list_id} .chip-text")]


def text_of(driver: "webdriver.Chrome", element_id: str) -> str:
    """The element's rendered text, read in one step (no stale reference between finding and reading)."""
    return str(driver.execute_script("const e = document.getElementById(arguments[0]); return e ? e.innerText : ''", element_id))


def wait_for_summary(driver: "webdriver.Chrome", contains: str) -> str:
    return wait(driver, lambda d: (lambda t: t if contains in t else False)(text_of(d, "summary")), f"a summary containing {contains!r}")


def wait_for_graph(driver: "webdriver.Chrome") -> WebElement:
    return wait(driver, lambda d: (d.find_elements(By.CSS_SELECTOR, "#graph-body svg") or [False])[0], "the graph")


def severe_console_messages(driver: "webdriver.Chrome") -> List[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


# --- the scenario of the issue ------------------------------------------------------------------


def test_ketamine_and_suboxone_with_hypertension(page: "webdriver.Chrome", kb: rxcaution.KnowledgeBase, tmp_path_factory) -> None:
    report = kb.check(["ketamine", "Suboxone"], conditions=["hypertension"])
    warnings = report.to_dict()["warnings"]

    type_into(page, "med-input", "ketam")
    assert wait_for_options(page, "med-list", "ketamine")[0] == "ketamine"
    page.find_element(By.CSS_SELECTOR, "#med-list [role=option]").click()
    assert chips(page, "med-chips") == ["ketamine"]
    assert page.find_element(By.ID, "med-input").get_attribute("value") == ""

    type_into(page, "med-input", "Suboxone" + Keys.ENTER)
    type_into(page, "cond-input", "hypert")
    wait_for_options(page, "cond-list", "Hypertension")
    page.find_element(By.CSS_SELECTOR, "#cond-list [role=option]").click()
    assert chips(page, "med-chips") == ["ketamine", "Suboxone"]
    assert chips(page, "cond-chips") == ["Hypertension"]

    summary = wait_for_summary(page, "3 warnings")
    assert summary == "3 warnings: 2 major, 1 moderate."
    assert not page.find_elements(By.ID, "not-checked")

    # Grouped by severity, in the report's order, with every field of the contract shown.
    groups = page.find_elements(By.CSS_SELECTOR, "#alerts section.group")
    assert [g.get_attribute("id") for g in groups] == ["group-major", "group-moderate"]
    assert groups[0].find_element(By.TAG_NAME, "h2").text == "Major (2)"
    cards = page.find_elements(By.CSS_SELECTOR, "#alerts article.warning")
    assert [c.get_attribute("data-rule") for c in cards] == [w["rule"] for w in warnings]
    assert [c.find_element(By.CSS_SELECTOR, ".badge").text for c in cards] == [w["severity"].upper() for w in warnings]
    first, w = cards[0], warnings[0]
    assert first.find_element(By.CSS_SELECTOR, ".w-summary").text == w["summary"]
    fields = dict(
        zip(
            [dt.text for dt in first.find_elements(By.CSS_SELECTOR, "dt")],
            [dd.text for dd in first.find_elements(By.CSS_SELECTOR, "dd")],
        )
    )
    assert fields["What to do"] == w["management"]
    assert fields["Effect"] == w["effect"]
    assert fields["Mechanism"] == w["mechanism"]
    assert fields["Evidence"] == "product label"
    assert fields["Label placement"] == "boxed warning"
    assert fields["Sources disagree"] == w["disagreement"]
    links = [a.get_attribute("href") for a in first.find_elements(By.CSS_SELECTOR, ".sources a")]
    assert links == [s["url"] for s in w["sources"] if s["url"]]
    assert len(first.find_elements(By.CSS_SELECTOR, ".sources > li")) == len(w["sources"])

    # The explanation is there on demand.
    steps = first.find_elements(By.CSS_SELECTOR, ".why li")
    assert not any(s.is_displayed() for s in steps)
    first.find_element(By.CSS_SELECTOR, ".why summary").click()
    assert [s.text for s in steps] == w["explanation"]

    # The graph is beside the alerts.
    svg = wait_for_graph(page)
    labels = {t.text for t in svg.find_elements(By.CSS_SELECTOR, "text")}
    assert {"ketamine", "Suboxone", "buprenorphine", "naloxone", "cns-depressants", "cardiovascular-disease"} <= labels
    alerts_box = page.find_element(By.ID, "alerts").rect
    graph_box = page.find_element(By.ID, "graph").rect
    assert graph_box["x"] >= alerts_box["x"] + alerts_box["width"] and graph_box["y"] < alerts_box["y"] + 200

    # The regimen is in the address: reloading it gives the same check.
    assert page.current_url.endswith("#m=ketamine&m=Suboxone&c=Hypertension")

    disclaimer = page.find_element(By.CSS_SELECTOR, ".report-disclaimer").text
    assert disclaimer == report.to_dict()["disclaimer"]
    assert "Knowledge pack rxcaution-curated version 1.0.0 · licence: CC BY 4.0" in page.find_element(By.ID, "pack-line").text
    assert severe_console_messages(page) == []

    # Clicking "Why" moved nothing; close it again for the picture.
    first.find_element(By.CSS_SELECTOR, ".why summary").click()
    page.execute_script("window.scrollTo(0, 0)")
    shot = tmp_path_factory.mktemp("screenshot") / "web-checker.png"
    assert page.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000
    keep = os.environ.get("RXCAUTION_WEB_SCREENSHOT")
    if keep:
        Path(keep).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, keep)


def test_a_misspelling_is_suggested_and_shown_as_not_checked(page: "webdriver.Chrome") -> None:
    type_into(page, "med-input", "methadone" + Keys.ENTER)
    field = type_into(page, "med-input", "buprenorfine")
    assert wait_for_options(page, "med-list", "buprenorphine") == ["buprenorphine"]
    option = page.find_element(By.CSS_SELECTOR, "#med-list [role=option]")
    assert option.text == "buprenorphine (did you mean?)"
    # Enter with no suggestion highlighted takes the text as typed.
    field.send_keys(Keys.ENTER)
    assert chips(page, "med-chips") == ["methadone", "buprenorfine"]
    type_into(page, "cond-input", "hypertensoin" + Keys.ENTER)

    summary = wait_for_summary(page, "INCOMPLETE: 2 inputs")
    assert summary.endswith("INCOMPLETE: 2 inputs not checked.")
    # NOT CHECKED comes first, before the summary and every warning.
    first = page.find_element(By.CSS_SELECTOR, "#alerts > :first-child")
    assert first.get_attribute("id") == "not-checked"
    assert first.get_attribute("role") == "alert"
    assert first.find_element(By.TAG_NAME, "h2").text == "NOT CHECKED: 2 INPUTS"
    items = [li.text for li in first.find_elements(By.CSS_SELECTOR, ".nc-item")]
    assert items == [
        "NOT CHECKED “buprenorfine” was not recognised, so it was not checked against anything. Did you mean: buprenorphine?",
        "NOT CHECKED condition “hypertensoin” was not recognised: no drug–condition warning could be given for it. "
        "Did you mean: Hypertension Hypotension?",
    ]

    first.find_element(By.CSS_SELECTOR, "button[aria-label='Replace buprenorfine with buprenorphine']").click()
    wait(page, lambda d: chips(d, "med-chips") == ["methadone", "buprenorphine"], "the corrected chip")
    wait(page, lambda d: "NOT CHECKED: 1 INPUT" in text_of(d, "not-checked"), "one input left not checked")
    first = page.find_element(By.ID, "not-checked")
    first.find_element(By.CSS_SELECTOR, "button[aria-label='Replace hypertensoin with Hypertension']").click()
    wait(page, lambda d: not d.find_elements(By.ID, "not-checked"), "no NOT CHECKED section")
    assert chips(page, "cond-chips") == ["Hypertension"]
    assert "INCOMPLETE" not in text_of(page, "summary")


def test_a_bookmarked_regimen_is_checked_on_load(browser: "webdriver.Chrome", base_url: str) -> None:
    browser.get("about:blank")
    browser.get(base_url + "/#m=%20ketamin%20&m=methadone&c=high%20blood%20pressure")
    wait(browser, lambda d: "NOT CHECKED: 1 INPUT" in text_of(d, "not-checked"), "the check of the bookmarked regimen")
    assert chips(browser, "med-chips") == ["ketamin", "methadone"]
    assert chips(browser, "cond-chips") == ["high blood pressure"]
    browser.find_element(By.CSS_SELECTOR, "button[aria-label='Replace ketamin with ketamine']").click()
    wait(browser, lambda d: not d.find_elements(By.ID, "not-checked"), "no NOT CHECKED section")
    assert chips(browser, "med-chips") == ["ketamine", "methadone"]
    assert browser.current_url.endswith("#m=ketamine&m=methadone&c=high+blood+pressure")


def test_no_warning_never_reads_as_safe(page: "webdriver.Chrome") -> None:
    type_into(page, "med-input", "naloxone" + Keys.ENTER)
    summary = wait_for_summary(page, "No warning")
    assert summary == "No warning found for the inputs that were checked. This does not mean the combination is safe."
    assert "safe" not in summary.replace("does not mean the combination is safe", "")


def test_no_rules_coverage_is_shown_loudly_when_the_report_has_it(page: "webdriver.Chrome") -> None:
    """The report may carry a `coverage` per input (covered / no-rules / unresolved); the page must show
    a recognised input without rules next to the NOT CHECKED ones. Until the engine sends the field, the
    page is fed a report with it."""
    page.execute_script(
        """
        const real = window.fetch;
        window.fetch = async (url, init) => {
          const response = await real(url, init);
          if (url !== "/api/check") return response;
          const report = await response.json();
          report.inputs.forEach((i) => { i.coverage = i.status === "resolved" ? (i.input === "norethindrone" ? "no-rules" : "covered") : "unresolved"; });
          return new Response(JSON.stringify(report), {status: 200, headers: {"Content-Type": "application/json"}});
        };
        """
    )
    type_into(page, "med-input", "norethindrone" + Keys.ENTER)
    type_into(page, "med-input", "methadone" + Keys.ENTER)
    wait(page, lambda d: "(2 inputs)" in text_of(d, "checked"), "the check of both medications")
    assert [line for line in text_of(page, "not-checked").splitlines() if line.strip()] == [
        "NOT CHECKED: 1 INPUT",
        "The warnings below do not cover these. No warning about them does not mean they are safe with the rest.",
        "NO RULES “norethindrone” was recognised as norethindrone, but this pack has no interaction rules for it: "
        "no warning about it means nothing.",
    ]


def test_a_drug_outside_the_pack_is_shown_as_no_rules_from_the_real_report(page: "webdriver.Chrome") -> None:
    """Issue 10: the engine now sends `coverage`; warfarin is recognised through the drug vocabulary
    and shown as NO RULES, never as a silent pass."""
    type_into(page, "med-input", "warfarin" + Keys.ENTER)
    type_into(page, "med-input", "methadone" + Keys.ENTER)
    wait(page, lambda d: "(2 inputs)" in text_of(d, "checked"), "the check of both medications")
    assert [line for line in text_of(page, "not-checked").splitlines() if line.strip()] == [
        "NOT CHECKED: 1 INPUT",
        "The warnings below do not cover these. No warning about them does not mean they are safe with the rest.",
        "NO RULES “warfarin” was recognised as Warfarin, but this pack has no interaction rules for it: "
        "no warning about it means nothing.",
    ]


def test_server_errors_are_shown_not_swallowed(page: "webdriver.Chrome") -> None:
    page.execute_script(
        """
        const real = window.fetch;
        window.fetch = async (url, init) => {
          const fail = (status, error) => new Response(JSON.stringify({error}), {status, headers: {"Content-Type": "application/json"}});
          if (url === "/api/graph") return fail(503, "the regimen graph needs Graphviz 'dot' on the server's PATH");
          if (url === "/api/check" && JSON.parse(init.body).medications.includes("methadone")) return fail(500, "internal error");
          return real(url, init);
        };
        """
    )
    type_into(page, "med-input", "ketamine" + Keys.ENTER)
    wait_for_summary(page, "warning")
    wait(page, lambda d: "No graph: the regimen graph needs Graphviz 'dot'" in text_of(d, "graph-body"), "the graph's error")
    assert not page.find_element(By.ID, "graph-enlarge").is_displayed()
    type_into(page, "med-input", "methadone" + Keys.ENTER)
    wait(page, lambda d: "The check failed: internal error" in text_of(d, "alerts"), "the check's error")
    assert page.find_element(By.CSS_SELECTOR, "#alerts .notice.error").get_attribute("role") == "alert"
    assert not page.find_elements(By.CSS_SELECTOR, "#alerts article.warning")  # no stale warnings left on screen


# --- keyboard only --------------------------------------------------------------------------------


def press(driver: "webdriver.Chrome", *keys: str) -> WebElement:
    """Key presses to whatever has the focus, as a person at a keyboard; returns the focused element."""
    actions = ActionChains(driver)
    for key in keys:
        actions.send_keys(key)
    actions.perform()
    return driver.switch_to.active_element


def test_keyboard_only(page: "webdriver.Chrome", kb: rxcaution.KnowledgeBase) -> None:
    focused = press(page, Keys.TAB)
    assert focused.text == "Skip to the results"
    focused = press(page, Keys.TAB)
    assert focused.get_attribute("id") == "med-input"

    press(page, *"methad")
    wait_for_options(page, "med-list", "methadone")
    focused = press(page, Keys.ARROW_DOWN)
    assert focused.get_attribute("aria-activedescendant") == "med-input-opt-0"
    assert page.find_element(By.ID, "med-input-opt-0").get_attribute("aria-selected") == "true"
    press(page, Keys.ENTER)
    assert chips(page, "med-chips") == ["methadone"]

    press(page, *"clarith")
    wait_for_options(page, "med-list", "clarithromycin")
    press(page, Keys.ESCAPE)
    assert page.find_element(By.ID, "med-list").get_attribute("hidden") is not None
    assert page.find_element(By.ID, "med-input").get_attribute("aria-expanded") == "false"
    press(page, Keys.ARROW_DOWN)  # opens the list again
    wait_for_options(page, "med-list", "clarithromycin")
    press(page, Keys.ARROW_DOWN, Keys.ENTER)
    assert chips(page, "med-chips") == ["methadone", "clarithromycin"]

    expected = kb.check(["methadone", "clarithromycin"]).warnings
    wait_for_summary(page, f"{len(expected)} warning")

    # Tab from the field: Add, then the chips' remove buttons, then on to the conditions.
    assert press(page, Keys.TAB).get_attribute("id") == "med-add"
    assert press(page, Keys.TAB).get_attribute("aria-label") == "Remove methadone"
    assert press(page, Keys.TAB).get_attribute("aria-label") == "Remove clarithromycin"
    assert press(page, Keys.TAB).get_attribute("id") == "cond-input"

    # Reach the first explanation with Tab and open it with Enter.
    focused = page.switch_to.active_element
    for _ in range(40):
        focused = press(page, Keys.TAB)
        if focused.tag_name == "summary" and focused.text == "Why this warning applies":
            break
    else:
        raise AssertionError("Tab never reached an explanation")
    details = focused.find_element(By.XPATH, "..")
    assert details.get_attribute("open") is None
    press(page, Keys.ENTER)
    assert details.get_attribute("open") is not None
    assert [li.text for li in details.find_elements(By.CSS_SELECTOR, "li")] == expected[0].explanation

    # Remove a medication with the keyboard: the check runs again.
    page.find_element(By.CSS_SELECTOR, "button[aria-label='Remove clarithromycin']").send_keys(Keys.ENTER)
    assert chips(page, "med-chips") == ["methadone"]
    assert page.switch_to.active_element.get_attribute("aria-label") == "Remove methadone"
    wait_for_summary(page, "No warning")

    # The skip link jumps over the form to the results.
    page.execute_script("document.querySelector('.skip').focus()")
    assert press(page, Keys.ENTER).get_attribute("id") == "output"


def test_every_control_is_labelled(page: "webdriver.Chrome") -> None:
    type_into(page, "med-input", "ketamine" + Keys.ENTER)
    wait_for_summary(page, "warning")
    unlabelled = page.execute_script(
        """
        const out = [];
        for (const el of document.querySelectorAll("input, button, select, textarea, [role=combobox], a[href]")) {
          const labelled = (el.labels && el.labels.length) || el.getAttribute("aria-label") ||
                           el.getAttribute("aria-labelledby") || el.textContent.trim();
          if (!labelled) out.push(el.outerHTML.slice(0, 80));
        }
        return out;
        """
    )
    assert unlabelled == []


def test_text_has_sufficient_contrast(page: "webdriver.Chrome") -> None:
    """WCAG AA: 4.5:1 for text, 3:1 for large text, for every visible text on the page (the graph's
    labels are Graphviz's and are read from the alerts as well)."""
    type_into(page, "med-input", "ketamine" + Keys.ENTER)
    type_into(page, "med-input", "Suboxone" + Keys.ENTER)
    type_into(page, "med-input", "ketamin" + Keys.ENTER)
    type_into(page, "med-input", "meth")
    wait_for_options(page, "med-list", "methadone")
    press(page, Keys.ARROW_DOWN)  # a highlighted suggestion is measured too
    wait_for_summary(page, "INCOMPLETE")
    failures = page.execute_script(
        """
        function rgb(s) { const m = s.match(/[\\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 0]; }
        function lum([r, g, b]) {
          const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
          return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
        }
        function background(el) {
          for (let e = el; e; e = e.parentElement) {
            const c = rgb(getComputedStyle(e).backgroundColor);
            if (c.length < 4 || c[3] > 0) return c;
          }
          return [255, 255, 255];
        }
        const out = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
          const node = walker.currentNode;
          const el = node.parentElement;
          if (!node.textContent.trim() || el.closest("svg") || !el.getClientRects().length) continue;
          const style = getComputedStyle(el);
          if (style.visibility === "hidden" || el.closest("[hidden]") || el.closest(".visually-hidden")) continue;
          const fg = lum(rgb(style.color)), bg = lum(background(el));
          const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
          const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
          const large = size >= 24 || (bold && size >= 18.66);
          if (ratio < (large ? 3 : 4.5)) out.push(node.textContent.trim().slice(0, 40) + " " + ratio.toFixed(2));
        }
        return out;
        """
    )
    assert failures == []


# --- network, print, speed ------------------------------------------------------------------------


def test_the_page_talks_to_its_own_origin_only(page: "webdriver.Chrome", base_url: str) -> None:
    type_into(page, "med-input", "ketamine" + Keys.ENTER)
    wait_for_summary(page, "warning")
    wait_for_graph(page)
    resources = page.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
    assert resources and all(r.startswith(base_url + "/") for r in resources), resources
    assert {r.split("?")[0][len(base_url) :] for r in resources} >= {"/assets/app.js", "/assets/app.css", "/api/check", "/api/graph"}
    # The page's policy refuses any other origin, even another port on this machine.
    other = free_socket()
    try:
        outcome = page.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0]).then(() => done('fetched'), (e) => done('refused: ' + e.name));",
            f"http://127.0.0.1:{other.getsockname()[1]}/",
        )
    finally:
        other.close()
    assert outcome == "refused: TypeError"
    messages = severe_console_messages(page)
    assert any("Content Security Policy" in m for m in messages), messages


def test_print_view(page: "webdriver.Chrome") -> None:
    type_into(page, "med-input", "methadone" + Keys.ENTER)
    type_into(page, "med-input", "clarithromycin" + Keys.ENTER)
    wait_for_summary(page, "warning")
    wait_for_graph(page)
    page.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not page.find_element(By.ID, "regimen").is_displayed()
        assert not page.find_element(By.ID, "graph-enlarge").is_displayed()
        assert page.find_element(By.ID, "disclaimer").is_displayed()
        assert page.find_element(By.CSS_SELECTOR, ".report-disclaimer").is_displayed()
        assert page.find_element(By.CSS_SELECTOR, "#graph-body svg").is_displayed()
        urls = [u.text for u in page.find_elements(By.CSS_SELECTOR, ".sources .url") if u.is_displayed()]
        assert urls and all(u.startswith("http") for u in urls)  # printed links keep their address
        # Every explanation is printed, and the screen gets back what it had.
        page.execute_script("window.dispatchEvent(new Event('beforeprint'))")
        assert all(d.get_attribute("open") is not None for d in page.find_elements(By.CSS_SELECTOR, "details"))
        page.execute_script("window.dispatchEvent(new Event('afterprint'))")
        assert all(d.get_attribute("open") is None for d in page.find_elements(By.CSS_SELECTOR, "details"))
    finally:
        page.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    pdf = page.print_page()
    assert len(pdf) > 10_000


def test_enlarged_graph_opens_and_closes_with_the_keyboard(page: "webdriver.Chrome") -> None:
    type_into(page, "med-input", "ketamine" + Keys.ENTER)
    wait_for_graph(page)
    button = wait(page, lambda d: (lambda b: b if b.is_displayed() else False)(d.find_element(By.ID, "graph-enlarge")), "the enlarge button")
    button.send_keys(Keys.ENTER)
    dialog = page.find_element(By.ID, "graph-dialog")
    assert dialog.get_attribute("open") is not None
    assert dialog.find_element(By.CSS_SELECTOR, "svg")
    assert page.switch_to.active_element.get_attribute("id") == "graph-close"
    press(page, Keys.ESCAPE)
    wait(page, lambda d: d.find_element(By.ID, "graph-dialog").get_attribute("open") is None, "the dialog to close")
    assert page.switch_to.active_element.get_attribute("id") == "graph-enlarge"


def test_first_render_is_fast(browser: "webdriver.Chrome", base_url: str) -> None:
    """Target: first render within 200 ms on loopback. Asserted here with room for a loaded shared
    machine (median of three cold loads under 1 s); bench/bench_web.py measures it properly."""
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    paints = []
    try:
        for _ in range(3):
            browser.get("about:blank")
            browser.get(base_url + "/")
            paints.append(
                wait(
                    browser,
                    lambda d: d.execute_script(
                        "const p = performance.getEntriesByName('first-contentful-paint'); return p.length ? p[0].startTime : false"
                    ),
                    "the first contentful paint",
                )
            )
    finally:
        browser.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
    assert sorted(paints)[1] < 1000, paints
