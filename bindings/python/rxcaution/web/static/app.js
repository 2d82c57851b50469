// The rxcaution checker page. Plain DOM code, no library: the page must work offline and its
// Content-Security-Policy allows scripts from this origin only. Every text from the server is put
// in with textContent, never parsed as HTML; the graph is SVG that the server already sanitised
// and that is parsed here as XML and filtered again before it is inserted.
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("rx-config").textContent);
  const limits = config.limits;

  const SEVERITIES = ["contraindicated", "major", "moderate", "minor"];
  const SEVERITY_TITLES = {
    contraindicated: "Contraindicated",
    major: "Major",
    moderate: "Moderate",
    minor: "Minor",
  };
  const KIND_LABELS = {
    "drug-drug": "drug–drug",
    "drug-condition": "drug–condition",
    "duplicate-therapy": "duplicate therapy",
    cumulative: "cumulative (three or more, or with a condition)",
  };
  const EVIDENCE_LABELS = {
    label: "product label",
    "label-quoted": "product label, quoted by a third party",
    secondary: "secondary source (review, guideline or reference)",
    weak: "weak (case reports or theory)",
    derived: "derived by rxcaution from the ingredients",
  };
  const PLACEMENT_LABELS = {
    boxed: "boxed warning",
    contraindication: "Contraindications section",
    warnings: "Warnings and Precautions section",
    interactions: "Drug Interactions section",
    highlights: "Highlights of Prescribing Information",
    none: "not on the label",
  };

  const state = { medications: [], conditions: [] };
  let checkSeq = 0;

  // --- small DOM helpers -------------------------------------------------------------------------

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === null || value === undefined || value === false) continue;
        if (key === "text") node.textContent = value;
        else if (key === "className") node.className = value;
        else node.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children || []) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function safeUrl(url) {
    // Only web links: a source URL is shown to be followed, never a script or data URL.
    try {
      const parsed = new URL(url);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  async function postJson(path, body, signal) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: signal,
      credentials: "same-origin",
    });
    return response;
  }

  async function errorMessage(response) {
    try {
      const body = await response.json();
      if (body && typeof body.error === "string") return body.error;
    } catch (e) {
      /* not JSON */
    }
    return "HTTP " + response.status;
  }

  // --- the medication and condition fields -------------------------------------------------------

  // One text field with suggestions as you type (the ARIA 1.2 combobox pattern: the input keeps
  // the focus, the highlighted option is named by aria-activedescendant).
  function Combo(kind, input, list, addButton, chips, maxItems) {
    const items = kind === "medication" ? state.medications : state.conditions;
    let options = [];
    let active = -1;
    let pending = null;
    let typedSeq = 0;

    function close() {
      list.hidden = true;
      list.replaceChildren();
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      options = [];
      active = -1;
    }

    function highlight(index) {
      const nodes = list.querySelectorAll("[role=option]");
      nodes.forEach((n, i) => n.setAttribute("aria-selected", i === index ? "true" : "false"));
      active = index;
      if (index >= 0 && nodes[index]) {
        input.setAttribute("aria-activedescendant", nodes[index].id);
        nodes[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function show(suggestions) {
      options = suggestions;
      list.replaceChildren();
      if (!suggestions.length) {
        close();
        return;
      }
      suggestions.forEach((s, i) => {
        const li = el("li", { role: "option", id: input.id + "-opt-" + i, "aria-selected": "false", "data-value": s.value }, [
          el("span", { className: "opt-value", text: s.value }),
        ]);
        if (s.match === "similar") li.append(el("span", { className: "opt-note", text: " (did you mean?)" }));
        else if (s.value !== s.name) li.append(el("span", { className: "opt-note", text: " → " + s.name }));
        if (s.kind === "product") li.append(el("span", { className: "opt-kind", text: " product" }));
        // mousedown, not click: the input must not lose focus before the choice is taken.
        li.addEventListener("mousedown", (event) => {
          event.preventDefault();
          choose(s.value);
        });
        list.append(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }

    async function lookup() {
      const text = input.value;
      const seq = ++typedSeq;
      if (!text.trim()) {
        close();
        return;
      }
      if (pending) pending.abort();
      pending = new AbortController();
      try {
        const response = await postJson("/api/suggest", { text: text.slice(0, limits.max_text_chars), kind: kind, limit: 8 }, pending.signal);
        if (!response.ok || seq !== typedSeq) return;
        const body = await response.json();
        if (seq !== typedSeq || input.value !== text) return;
        show(body.suggestions);
      } catch (e) {
        if (e.name !== "AbortError") close();
      }
    }

    function choose(value) {
      close();
      input.value = "";
      add(value);
    }

    function add(value) {
      const text = value.trim();
      if (!text) return false;
      if (items.some((x) => x.toLowerCase() === text.toLowerCase())) {
        announce("“" + text + "” is already in the list.");
        return false;
      }
      if (items.length >= maxItems) {
        announce("At most " + maxItems + " " + kind + "s can be checked at once.");
        return false;
      }
      items.push(text);
      renderChips();
      runCheck();
      return true;
    }

    function addTyped() {
      const text = input.value;
      close();
      if (text.trim()) {
        input.value = "";
        add(text);
      }
    }

    function renderChips() {
      chips.replaceChildren(
        ...items.map((text, i) => {
          const remove = el("button", { type: "button", className: "chip-remove", "aria-label": "Remove " + text, text: "×" });
          remove.addEventListener("click", () => {
            items.splice(i, 1);
            renderChips();
            // Keep keyboard users in place: the next chip's button, else the field.
            const next = chips.querySelectorAll(".chip-remove")[Math.min(i, items.length - 1)];
            (next || input).focus();
            runCheck();
          });
          return el("li", { className: "chip" }, [el("span", { className: "chip-text", text: text }), remove]);
        })
      );
    }

    input.addEventListener("input", lookup);
    input.addEventListener("keydown", (event) => {
      const open = !list.hidden && options.length > 0;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (open) highlight((active + 1) % options.length);
        else lookup();
      } else if (event.key === "ArrowUp") {
        if (open) {
          event.preventDefault();
          highlight(active <= 0 ? options.length - 1 : active - 1);
        }
      } else if (event.key === "Enter") {
        event.preventDefault();
        if (open && active >= 0) choose(options[active].value);
        else if (input.value.trim()) addTyped();
        else if (state.medications.length) runCheck();
      } else if (event.key === "Escape") {
        if (open) {
          event.preventDefault();
          close();
        }
      } else if (event.key === "Tab") {
        close();
      }
    });
    input.addEventListener("blur", () => setTimeout(close, 0));
    addButton.addEventListener("click", () => {
      addTyped();
      input.focus();
    });

    return { addTyped: addTyped, renderChips: renderChips, add: add, input: input, close: close };
  }

  const medCombo = Combo(
    "medication",
    document.getElementById("med-input"),
    document.getElementById("med-list"),
    document.getElementById("med-add"),
    document.getElementById("med-chips"),
    limits.max_medications
  );
  const condCombo = Combo(
    "condition",
    document.getElementById("cond-input"),
    document.getElementById("cond-list"),
    document.getElementById("cond-add"),
    document.getElementById("cond-chips"),
    limits.max_conditions
  );

  const statusLine = document.getElementById("status");
  const results = document.getElementById("results");
  const alerts = document.getElementById("alerts");
  const graphBody = document.getElementById("graph-body");
  const enlarge = document.getElementById("graph-enlarge");
  const dialog = document.getElementById("graph-dialog");

  function announce(text) {
    statusLine.textContent = text;
    // Once the results are shown their own summary says the same; the line stays for screen readers.
    statusLine.classList.toggle("visually-hidden", !results.hidden);
  }

  // --- the regimen in the address, so a check can be bookmarked, shared and printed ---------------

  function writeHash() {
    const params = new URLSearchParams();
    state.medications.forEach((m) => params.append("m", m));
    state.conditions.forEach((c) => params.append("c", c));
    const hash = params.toString();
    history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
  }

  function readHash() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    // Trimmed like typed names: the report names each input as the server received it.
    const names = (key, most) => params.getAll(key).map((x) => x.trim().slice(0, limits.max_text_chars)).filter((x) => x).slice(0, most);
    state.medications.splice(0, state.medications.length, ...names("m", limits.max_medications));
    state.conditions.splice(0, state.conditions.length, ...names("c", limits.max_conditions));
    medCombo.renderChips();
    condCombo.renderChips();
  }

  // --- checking ----------------------------------------------------------------------------------

  async function runCheck() {
    writeHash();
    const seq = ++checkSeq;
    if (!state.medications.length) {
      results.hidden = true;
      alerts.replaceChildren();
      graphBody.replaceChildren();
      enlarge.hidden = true;
      announce(state.conditions.length ? "Add at least one medication to check against the conditions." : "Add at least one medication to check.");
      return;
    }
    const body = { medications: state.medications.slice(), conditions: state.conditions.slice() };
    announce("Checking…");
    results.setAttribute("aria-busy", "true");
    const graphRequest = postJson("/api/graph", body).catch((e) => e);
    enlarge.hidden = true;
    let report;
    try {
      const response = await postJson("/api/check", body);
      if (!response.ok) {
        if (seq === checkSeq) showError(await errorMessage(response));
        return;
      }
      report = await response.json();
    } catch (e) {
      if (seq === checkSeq) showError("the server could not be reached (" + e.message + ")");
      return;
    }
    if (seq !== checkSeq) return; // a newer check is on its way
    results.hidden = false;
    renderReport(report);
    results.removeAttribute("aria-busy");
    renderGraph(await graphRequest, seq);
  }

  function showError(message) {
    results.hidden = false;
    results.removeAttribute("aria-busy");
    alerts.replaceChildren(el("div", { className: "notice error", role: "alert" }, [el("strong", { text: "The check failed: " }), message]));
    graphBody.replaceChildren();
    announce("The check failed: " + message);
  }

  async function renderGraph(response, seq) {
    if (seq !== checkSeq) return;
    if (response instanceof Error) {
      graphBody.replaceChildren(el("p", { className: "graph-note", text: "The graph could not be loaded: " + response.message }));
      return;
    }
    if (!response.ok) {
      const message = await errorMessage(response);
      if (seq === checkSeq) graphBody.replaceChildren(el("p", { className: "graph-note", text: "No graph: " + message }));
      return;
    }
    const text = await response.text();
    if (seq !== checkSeq) return;
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const svg = doc.documentElement;
    if (!svg || svg.nodeName !== "svg" || doc.getElementsByTagName("parsererror").length) {
      graphBody.replaceChildren(el("p", { className: "graph-note", text: "The graph could not be read." }));
      return;
    }
    // The server already dropped these; checking again costs nothing.
    svg.querySelectorAll("script, foreignObject, a, image, use, iframe").forEach((n) => n.remove());
    for (const node of [svg, ...svg.querySelectorAll("*")]) {
      for (const attr of Array.from(node.attributes)) {
        const name = attr.name.toLowerCase();
        if (name.startsWith("on") || name.endsWith("href") || name === "style") node.removeAttribute(attr.name);
      }
    }
    graphBody.replaceChildren(document.importNode(svg, true));
    enlarge.hidden = false;
  }

  enlarge.addEventListener("click", () => {
    const svg = graphBody.querySelector("svg");
    if (!svg) return;
    document.getElementById("graph-dialog-body").replaceChildren(svg.cloneNode(true));
    dialog.showModal();
    document.getElementById("graph-close").focus();
  });
  document.getElementById("graph-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => enlarge.focus());

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many || one + "s");
  }

  function quoted(text) {
    return "“" + text + "”";
  }

  function suggestionButtons(suggestions, onPick, label) {
    if (!suggestions || !suggestions.length) return null;
    const wrap = el("span", { className: "did-you-mean" }, [" Did you mean: "]);
    suggestions.forEach((s, i) => {
      const b = el("button", { type: "button", className: "suggestion", "aria-label": label(s), text: s });
      b.addEventListener("click", () => onPick(s));
      if (i) wrap.append(" ");
      wrap.append(b);
    });
    wrap.append("?");
    return wrap;
  }

  function replaceItem(list, from, to) {
    const i = list.indexOf(from);
    if (i < 0) return;
    if (list.some((x, j) => j !== i && x.toLowerCase() === to.toLowerCase())) list.splice(i, 1);
    else list[i] = to;
    medCombo.renderChips();
    condCombo.renderChips();
    runCheck();
  }

  function notCheckedSection(report) {
    const rows = [];
    for (const input of report.inputs) {
      const coverage = input.coverage;
      if (input.status === "unresolved" || coverage === "unresolved") {
        rows.push(
          el("li", { className: "nc-item" }, [
            el("strong", { className: "nc-tag", text: "NOT CHECKED" }),
            " ",
            el("span", { className: "nc-what", text: quoted(input.input) }),
            " was not recognised, so it was not checked against anything.",
            suggestionButtons(input.suggestions, (s) => replaceItem(state.medications, input.input, s), (s) => "Replace " + input.input + " with " + s),
          ])
        );
      } else if (coverage === "no-rules") {
        rows.push(
          el("li", { className: "nc-item" }, [
            el("strong", { className: "nc-tag", text: "NO RULES" }),
            " ",
            el("span", { className: "nc-what", text: quoted(input.input) }),
            " was recognised" + (input.name ? " as " + input.name : "") + ", but this pack has no interaction rules for it: no warning about it means nothing.",
          ])
        );
      }
    }
    for (const cond of report.conditions || []) {
      if (cond.status !== "resolved") {
        rows.push(
          el("li", { className: "nc-item" }, [
            el("strong", { className: "nc-tag", text: "NOT CHECKED" }),
            " condition ",
            el("span", { className: "nc-what", text: quoted(cond.input) }),
            " was not recognised: no drug–condition warning could be given for it.",
            suggestionButtons(cond.suggestions, (s) => replaceItem(state.conditions, cond.input, s), (s) => "Replace " + cond.input + " with " + s),
          ])
        );
      }
    }
    if (!rows.length) return null;
    return el("section", { className: "notice not-checked", id: "not-checked", role: "alert", "aria-labelledby": "not-checked-title" }, [
      el("h2", { id: "not-checked-title", text: "Not checked: " + plural(rows.length, "input") }),
      el("p", { text: "The warnings below do not cover these. No warning about them does not mean they are safe with the rest." }),
      el("ul", null, rows),
    ]);
  }

  function checkedSection(report) {
    const items = [];
    for (const input of report.inputs) {
      if (input.status !== "resolved") continue;
      const what = input.kind === "product" ? "product " + input.name + " (" + input.ingredients.join(", ") + ")" : input.name;
      const li = el("li", null, [el("span", { className: "in-text", text: input.input }), " → " + what]);
      if (input.matched_by && input.matched_by !== "name" && input.matched_by !== "brand") li.append(el("span", { className: "in-how", text: " matched by " + input.matched_by }));
      if (input.not_checked && input.not_checked.length) {
        li.append(el("ul", { className: "ingredient-notes" }, input.not_checked.map((n) => el("li", null, [el("strong", { text: "Ingredient not checked: " }), n]))));
      }
      items.push(li);
    }
    for (const cond of report.conditions || []) {
      if (cond.status === "resolved") items.push(el("li", null, [el("span", { className: "in-text", text: cond.input }), " → condition " + cond.name]));
    }
    if (!items.length) return null;
    return el("details", { className: "checked", id: "checked" }, [el("summary", { text: "What was checked (" + plural(items.length, "input") + ")" }), el("ul", null, items)]);
  }

  function field(term, value, className) {
    if (value === null || value === undefined || value === "") return [];
    return [el("dt", { text: term }), el("dd", { className: className || null, text: value })];
  }

  function sourcesList(sources) {
    return el(
      "ol",
      { className: "sources" },
      sources.map((s) => {
        const url = s.url ? safeUrl(s.url) : null;
        const title = url ? el("a", { href: url, rel: "noopener noreferrer", target: "_blank", text: s.title }) : el("span", { text: s.title });
        const parts = [title];
        if (s.section) parts.push(", " + s.section);
        parts.push(el("span", { className: "grade", text: " [" + s.grade + "]" }));
        if (url) parts.push(el("span", { className: "url print-only", text: " " + url }));
        return el("li", null, parts);
      })
    );
  }

  let warningCount = 0;
  function warningCard(w) {
    const id = "w" + ++warningCount;
    const badge = el("span", { className: "badge sev-" + w.severity, text: w.severity.toUpperCase() });
    const header = el("header", { className: "w-head" }, [
      badge,
      el("span", { className: "w-kind", text: KIND_LABELS[w.kind] || w.kind }),
      el("span", { className: "w-inputs", text: w.inputs.join(" + ") + (w.condition ? " · condition: " + w.condition : "") }),
    ]);
    const dl = el("dl", { className: "w-fields" }, [
      ...field("What to do", w.management, "management"),
      ...field("Effect", w.effect),
      ...field("Mechanism", w.mechanism),
      ...field("Evidence", w.evidence ? (EVIDENCE_LABELS[w.evidence] || w.evidence) : null),
      ...field("Label placement", w.seriousness ? (PLACEMENT_LABELS[w.seriousness] || w.seriousness) : null),
      ...field("Sources disagree", w.disagreement),
    ]);
    const why = el("details", { className: "why" }, [
      el("summary", { text: "Why this warning applies" }),
      el("ol", null, (w.explanation || []).map((step) => el("li", { text: step }))),
      el("p", { className: "rule-id" }, ["Rule ", el("code", { text: w.rule })]),
    ]);
    return el("article", { className: "warning sev-" + w.severity, "aria-labelledby": id, "data-rule": w.rule }, [
      header,
      el("h3", { id: id, className: "w-summary", text: w.summary }),
      dl,
      el("h4", { className: "sources-title", text: "Sources" }),
      sourcesList(w.sources || []),
      why,
    ]);
  }

  function renderReport(report) {
    warningCount = 0;
    const parts = [];
    const nc = notCheckedSection(report);
    if (nc) parts.push(nc);

    const counts = {};
    for (const w of report.warnings) counts[w.severity] = (counts[w.severity] || 0) + 1;
    const unchecked = report.inputs.filter((i) => i.status !== "resolved" || i.coverage === "unresolved").length;
    const uncheckedConds = (report.conditions || []).filter((c) => c.status !== "resolved").length;
    let summary;
    if (report.warnings.length) {
      summary = plural(report.warnings.length, "warning") + ": " + SEVERITIES.filter((s) => counts[s]).map((s) => counts[s] + " " + s).join(", ") + ".";
    } else {
      summary = "No warning found for the inputs that were checked. This does not mean the combination is safe.";
    }
    if (unchecked || uncheckedConds) summary += " INCOMPLETE: " + plural(unchecked + uncheckedConds, "input") + " not checked.";
    parts.push(el("p", { className: "summary" + (report.warnings.length ? "" : " none"), id: "summary", text: summary }));

    const checked = checkedSection(report);
    if (checked) parts.push(checked);

    for (const severity of SEVERITIES) {
      const group = report.warnings.filter((w) => w.severity === severity);
      if (!group.length) continue;
      parts.push(
        el("section", { className: "group sev-" + severity, id: "group-" + severity, "aria-labelledby": "group-" + severity + "-title" }, [
          el("h2", { id: "group-" + severity + "-title", text: SEVERITY_TITLES[severity] + " (" + group.length + ")" }),
          ...group.map(warningCard),
        ])
      );
    }
    parts.push(el("p", { className: "report-disclaimer", text: report.disclaimer }));
    parts.push(el("p", { className: "report-pack", text: "Checked with pack " + report.pack.name + " " + report.pack.version + "." }));
    alerts.replaceChildren(...parts);
    announce(summary);
  }

  // --- the form's buttons ------------------------------------------------------------------------

  document.getElementById("regimen").addEventListener("submit", (event) => {
    event.preventDefault();
    // Text still in a field counts: Check means "check what I typed".
    const before = state.medications.length + state.conditions.length;
    medCombo.close();
    condCombo.close();
    for (const combo of [medCombo, condCombo]) {
      const text = combo.input.value.trim();
      if (text) {
        combo.input.value = "";
        const list = combo === medCombo ? state.medications : state.conditions;
        if (!list.some((x) => x.toLowerCase() === text.toLowerCase())) list.push(text);
      }
    }
    medCombo.renderChips();
    condCombo.renderChips();
    if (state.medications.length + state.conditions.length !== before || state.medications.length) runCheck();
  });
  document.getElementById("clear").addEventListener("click", () => {
    state.medications.length = 0;
    state.conditions.length = 0;
    medCombo.renderChips();
    condCombo.renderChips();
    runCheck();
    medCombo.input.focus();
  });
  document.getElementById("print").addEventListener("click", () => window.print());

  // Printed pages show every explanation; the screen goes back to what was open.
  let openedForPrint = [];
  window.addEventListener("beforeprint", () => {
    openedForPrint = Array.from(document.querySelectorAll("details:not([open])"));
    openedForPrint.forEach((d) => (d.open = true));
  });
  window.addEventListener("afterprint", () => {
    openedForPrint.forEach((d) => (d.open = false));
    openedForPrint = [];
  });
  window.addEventListener("hashchange", () => {
    readHash();
    runCheck();
  });

  readHash();
  if (state.medications.length) runCheck();
  document.documentElement.setAttribute("data-ready", "true");
})();
