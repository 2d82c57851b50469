// Standard renderings of a report: HL7 FHIR R4 DetectedIssue resources and CDS Hooks cards.
// Ids and card uuids are derived from the warning id, so the same regimen checked twice (for
// example at order-select and again at order-sign) yields the same ids and an EHR can de-duplicate.

#include "detail/json_report.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <set>
#include <stdexcept>

namespace rxcaution {

namespace {

using json = nlohmann::ordered_json;

std::uint64_t fnv1a(std::string_view text, std::uint64_t seed) {
    std::uint64_t h = seed;
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

// A name-based UUID (version 8 layout: custom, deterministic) from the warning id.
std::string stable_uuid(std::string_view text) {
    const std::uint64_t hi = fnv1a(text, 14695981039346656037ULL);
    const std::uint64_t lo = fnv1a(text, 0x9e3779b97f4a7c15ULL ^ hi);
    unsigned char b[16];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(hi >> (56 - 8 * i));
    for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<unsigned char>(lo >> (56 - 8 * i));
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x80);  // version 8
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
    char out[37];
    std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                  b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return out;
}

std::string fhir_severity(Severity s) {
    switch (s) {
        case Severity::Contraindicated:
        case Severity::Major: return "high";
        case Severity::Moderate: return "moderate";
        case Severity::Minor: return "low";
    }
    return "low";
}

std::string cds_indicator(Severity s) {
    switch (s) {
        case Severity::Contraindicated: return "critical";
        case Severity::Major:
        case Severity::Moderate: return "warning";
        case Severity::Minor: return "info";
    }
    return "info";
}

// v3 ActCode detected-issue codes. A cumulative warning is a drug interaction among several
// medications: DRG, with `cumulative` as the code's text.
json issue_code(WarningKind kind) {
    const char* code = "DRG";
    const char* display = "Drug Interaction Alert";
    if (kind == WarningKind::DrugCondition) {
        code = "COND";
        display = "Condition Alert";
    } else if (kind == WarningKind::DuplicateTherapy) {
        code = "DUPTHPY";
        display = "Duplicate Therapy Alert";
    }
    json coding;
    coding["system"] = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
    coding["code"] = code;
    coding["display"] = display;
    json cc;
    cc["coding"] = json::array({coding});
    cc["text"] = std::string(to_string(kind));
    return cc;
}

// Cuts UTF-8 text to at most `limit` characters (code points), marking the cut; never splits a
// character. CDS Hooks limits a summary to 140 characters.
std::string clip(const std::string& text, std::size_t limit) {
    auto is_start = [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; };
    std::size_t chars = 0, cut = text.size();
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (!is_start(text[i])) continue;
        if (chars == limit - 3) cut = i;
        ++chars;
    }
    if (chars <= limit) return text;
    return text.substr(0, cut) + "...";
}


// The identity of each warning in standard outputs: its id, made unique within the report by the
// inputs' texts when two warnings share an id (two entries with one ingredient, e.g. Catapres and
// Kapvay each with amitriptyline, give the same rule and substances). A warning whose id is unique
// keeps the plain id, so its FHIR id and card uuid are those it always had.
std::vector<std::string> warning_keys(const Report& report, const detail::Renderer& render) {
    const auto& ws = report.warnings();
    std::vector<std::string> keys;
    keys.reserve(ws.size());
    for (const auto& w : ws) keys.push_back(render.id(w));
    std::vector<std::uint32_t> order(ws.size());
    for (std::uint32_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](std::uint32_t x, std::uint32_t y) { return keys[x] < keys[y]; });
    std::vector<char> shared(ws.size(), 0);
    for (std::size_t k = 1; k < order.size(); ++k)
        if (keys[order[k]] == keys[order[k - 1]]) shared[order[k]] = shared[order[k - 1]] = 1;
    for (std::size_t k = 0; k < ws.size(); ++k) {
        if (!shared[k]) continue;
        for (const auto& input : render.inputs(ws[k])) {  // length-prefixed: no two lists read alike
            keys[k] += '|';
            keys[k] += std::to_string(input.size());
            keys[k] += ':';
            keys[k] += input;
        }
    }
    return keys;
}

}  // namespace

std::string to_fhir(const Report& report, int indent) {
    json bundle;
    bundle["resourceType"] = "Bundle";
    bundle["type"] = "collection";
    json entries = json::array();
    const detail::Renderer render(report);
    const auto& warnings = report.warnings();
    const auto keys = warning_keys(report, render);
    for (std::size_t k = 0; k < warnings.size(); ++k) {
        const Warning& compact = warnings[k];
        const WarningDetails w = render.details(compact);
        const std::string uuid = stable_uuid(keys[k]);
        json issue;
        issue["resourceType"] = "DetectedIssue";
        issue["id"] = uuid;
        issue["status"] = "final";
        issue["code"] = issue_code(w.kind);
        issue["severity"] = fhir_severity(w.severity);
        json implicated = json::array();
        for (const auto& input : w.inputs) {
            json ref;
            ref["display"] = input;
            implicated.push_back(ref);
        }
        issue["implicated"] = implicated;
        std::string detail = w.summary + ". " + w.effect;
        if (!w.condition.empty()) detail += " (condition: " + w.condition + ")";
        detail += " Severity: " + std::string(to_string(w.severity)) + ".";
        for (const auto& a : w.annotations) detail += " " + a.text;
        issue["detail"] = detail;
        for (const auto& s : w.sources)
            if (!s.url.empty()) {
                issue["reference"] = s.url;
                break;
            }
        json evidence = json::array();
        {
            json ev;
            json code;
            code["text"] = "evidence grade: " + std::string(to_string(w.evidence));
            ev["code"] = json::array({code});
            json details = json::array();
            for (const auto& s : w.sources) {
                json ref;
                ref["display"] = s.title + (s.section.empty() ? "" : ", " + s.section);
                details.push_back(ref);
            }
            for (const auto& step : w.explanation) {
                json ref;
                ref["display"] = "why: " + step;
                details.push_back(ref);
            }
            if (!details.empty()) ev["detail"] = details;
            evidence.push_back(ev);
        }
        // One DetectedIssue per warning, so that every rule keeps its own coded severity, evidence
        // and mitigation; the alert group (issue 12) is stated by an evidence entry that refers to
        // the other issues about the same inputs (urn:uuid references resolve inside the Bundle).
        const WarningGroup& group = report.groups()[report.group_of(k)];
        if (group.members.size() > 1) {
            const bool lead = group.lead == k;
            json ev;
            json code;
            code["text"] = lead ? "alert group: leading reason for these inputs"
                                : "alert group: further reason for these inputs";
            ev["code"] = json::array({code});
            json details = json::array();
            for (std::uint32_t m : group.members) {
                if (m == k) continue;
                json ref;
                ref["reference"] = "urn:uuid:" + stable_uuid(keys[m]);
                ref["display"] = std::string(m == group.lead ? "leading reason: " : "further reason: ") +
                                 render.summary(warnings[m]);
                details.push_back(ref);
            }
            ev["detail"] = details;
            evidence.push_back(ev);
        }
        issue["evidence"] = evidence;
        json mitigation;
        json action;
        action["text"] = w.management;
        mitigation["action"] = action;
        issue["mitigation"] = json::array({mitigation});
        json entry;
        entry["fullUrl"] = "urn:uuid:" + uuid;
        entry["resource"] = issue;
        entries.push_back(entry);
    }
    // One OperationOutcome entry about one input, its id stable for the same input and reason.
    auto outcome_entry = [&](const char* severity, const char* code, const std::string& text, const std::string& key) {
        json issue;
        issue["severity"] = severity;
        issue["code"] = code;
        json details;
        details["text"] = text;
        issue["details"] = details;
        json outcome;
        const std::string uuid = stable_uuid(key);
        outcome["resourceType"] = "OperationOutcome";
        outcome["id"] = uuid;
        outcome["issue"] = json::array({issue});
        json entry;
        entry["fullUrl"] = "urn:uuid:" + uuid;
        entry["resource"] = outcome;
        entries.push_back(entry);
    };
    // Inputs that were not checked must not vanish from the clinical record: one OperationOutcome
    // per unresolved medication or condition says so.
    auto not_checked = [&](const std::string& what, const std::string& input, const std::vector<std::string>& suggestions) {
        std::string text = detail::not_known_sentence(what, input) + ", so its interactions were not checked.";
        if (!suggestions.empty()) {
            text += ' ';
            text += detail::did_you_mean_sentence(suggestions);
        }
        outcome_entry("warning", "not-found", text, "unresolved:" + input);
    };
    // A recognised medication no rule of the pack involves is not "checked and fine" either: one
    // OperationOutcome (severity information, code `informational`) per such input says so.
    auto no_rules = [&](const Resolution& r) {
        outcome_entry("information", "informational",
                      "'" + r.input + "' was recognised as " + r.name +
                          ", but this pack has no interaction rules for it: no warning about it does not mean it is safe.",
                      "no-rules:" + r.input);
    };
    for (const auto& r : report.inputs()) {
        if (!r.resolved) not_checked("medication", r.input, r.suggestions);
        else if (r.coverage == Coverage::NoRules && !r.duplicate_of) no_rules(r);
    }
    for (const auto& c : report.conditions())
        if (!c.resolved) not_checked("condition", c.input, c.suggestions);
    // FHIR JSON forbids empty arrays: a report with nothing to say has no `entry` at all.
    if (!entries.empty()) bundle["entry"] = entries;
    return detail::dump(bundle, indent);
}

std::string to_cds_hooks(const Report& report, int indent) { return to_cds_hooks(report, CdsHooksOptions{}, indent); }

std::string to_cds_hooks(const Report& report, const CdsHooksOptions& options, int indent) {
    const std::size_t n = report.input_count();
    if (!options.focus.empty() && options.focus.size() != n)
        throw std::invalid_argument("to_cds_hooks: focus has " + std::to_string(options.focus.size()) +
                                    " entries for " + std::to_string(n) + " medications");
    if (!options.input_labels.empty() && options.input_labels.size() != n)
        throw std::invalid_argument("to_cds_hooks: input_labels has " + std::to_string(options.input_labels.size()) +
                                    " entries for " + std::to_string(n) + " medications");
    json cards = json::array();
    std::set<std::string> uuids;
    auto add_card = [&](json card) {
        if (uuids.insert(card["uuid"].get<std::string>()).second) cards.push_back(std::move(card));
    };
    const std::string label = "rxcaution (" + report.pack_name() + " " + report.pack_version() + ")";
    const detail::Renderer render(report);
    const auto& warnings = report.warnings();
    const auto keys = warning_keys(report, render);
    // Everything a card says about one warning after its heading, up to its sources; the orders
    // involved come before "Why this fired" (they are the same for every warning of a group).
    auto warning_md = [&](const WarningDetails& w, const std::string& orders) {
        std::string md = "**Effect:** " + w.effect + "\n\n";
        if (!w.mechanism.empty()) md += "**Mechanism:** " + w.mechanism + "\n\n";
        md += "**Management:** " + w.management + "\n\n";
        md += "**Evidence:** " + std::string(to_string(w.evidence));
        if (!w.seriousness.empty()) md += " (label placement: " + w.seriousness + ")";
        md += "\n\n";
        if (!w.disagreement.empty()) md += "**Sources disagree:** " + w.disagreement + "\n\n";
        if (!w.pack.empty()) md += "**Pack:** " + w.pack + "\n\n";
        for (const auto& a : w.annotations) md += "**Also rated:** " + a.text + "\n\n";
        md += orders;
        md += "**Why this fired:**\n";
        for (const auto& step : w.explanation) md += "- " + step + "\n";
        if (!w.sources.empty()) {
            md += "\n**Sources:**\n";
            for (const auto& s : w.sources)
                md += "- " + s.title + (s.section.empty() ? "" : ", " + s.section) + " [" + std::string(to_string(s.grade)) +
                      "]\n";
        }
        return md;
    };
    // One card per alert group (issue 12): the lead's card, with every further reason for the same
    // inputs written out under it, so an EHR shows one alert per pair and loses no reason.
    for (const WarningGroup& group : report.groups()) {
        const Warning& compact = warnings[group.lead];
        bool of_interest = options.focus.empty() || options.include_active_interactions;
        for (std::size_t i : render.input_indexes(compact)) of_interest = of_interest || options.focus[i];
        if (!of_interest) continue;
        const WarningDetails w = render.details(compact);
        std::vector<WarningDetails> further;
        for (std::size_t m = 1; m < group.members.size(); ++m) further.push_back(render.details(warnings[group.members[m]]));
        json card;
        card["uuid"] = stable_uuid(keys[group.lead]);
        if (further.empty()) {
            card["summary"] = clip(w.summary, 139);
        } else {
            const std::string more = " (+" + std::to_string(further.size()) +
                                     (further.size() == 1 ? " further reason)" : " further reasons)");
            card["summary"] = clip(w.summary, 139 - more.size()) + more;
        }
        std::string orders;
        if (!options.input_labels.empty()) {
            std::string lines;
            for (std::size_t i : w.input_indexes)
                if (!options.input_labels[i].empty()) lines += "- " + options.input_labels[i] + "\n";
            if (!lines.empty()) orders = "**Orders and medications involved:**\n" + lines + "\n";
        }
        std::string md = "**" + std::string(to_string(w.severity)) + "** " + std::string(to_string(w.kind)) +
                         " interaction\n\n";
        md += warning_md(w, orders);
        for (std::size_t m = 0; m < further.size(); ++m) {
            const WarningDetails& x = further[m];
            md += "\n---\n\n**Further reason " + std::to_string(m + 2) + " of " + std::to_string(further.size() + 1) +
                  ": " + std::string(to_string(x.severity)) + "** " + std::string(to_string(x.kind)) + " - " + x.summary +
                  "\n\n";
            md += warning_md(x, "");
        }
        md += "\n_" + std::string(detail::kDisclaimer) + "_";
        card["detail"] = md;
        card["indicator"] = cds_indicator(w.severity);
        // Cards are shown inside EHRs served over HTTPS, which block or flag plain-http links; such
        // sources stay cited in the detail but are not offered as links.
        auto linkable = [](const std::string& url) { return url.rfind("https://", 0) == 0; };
        std::vector<const SourceRef*> cited;
        for (const auto& s : w.sources) cited.push_back(&s);
        for (const auto& x : further)
            for (const auto& s : x.sources) cited.push_back(&s);
        json source;
        source["label"] = label;
        for (const SourceRef* s : cited)
            if (linkable(s->url)) {
                source["url"] = s->url;
                break;
            }
        card["source"] = source;
        json links = json::array();
        std::set<std::string> linked;
        for (const SourceRef* sp : cited) {
            const SourceRef& s = *sp;
            if (!linkable(s.url) || !linked.insert(s.url).second) continue;
            json link;
            link["label"] = clip(s.title, 120);
            link["url"] = s.url;
            link["type"] = "absolute";
            links.push_back(link);
        }
        if (!links.empty()) card["links"] = links;
        json reasons = json::array();
        for (const auto& [code, display] :
             std::vector<std::pair<const char*, const char*>>{{"benefit-outweighs-risk", "Benefit outweighs risk"},
                                                              {"will-monitor", "Will monitor the patient"},
                                                              {"already-aware", "Already aware; combination intended"},
                                                              {"not-applicable", "Not applicable to this patient"}}) {
            json coding;
            coding["system"] = "urn:rxcaution:override-reason";
            coding["code"] = code;
            coding["display"] = display;
            reasons.push_back(coding);
        }
        card["overrideReasons"] = reasons;
        add_card(std::move(card));
    }
    auto info_card = [&](const std::string& key, const std::string& summary, const std::string& detail_md) {
        json card;
        card["uuid"] = stable_uuid(key);
        card["summary"] = clip(summary, 139);
        card["detail"] = detail_md;
        card["indicator"] = "info";
        json source;
        source["label"] = label;
        card["source"] = source;
        add_card(std::move(card));
    };
    for (const auto& r : report.inputs()) {
        if (r.resolved) continue;
        std::string md = "rxcaution could not identify **" + r.input +
                         "**, so its interactions were **not checked**. No warning for it does not mean it is safe.";
        if (!r.suggestions.empty()) md += "\n\n" + detail::did_you_mean_sentence(r.suggestions);
        info_card("unresolved:" + r.input, detail::not_known_sentence("medication", r.input), md);
    }
    {
        // Recognised medications with no rule in this pack: one info card lists them all.
        std::vector<std::string> names, lines;
        for (const auto& r : report.inputs()) {
            if (!r.resolved || r.coverage != Coverage::NoRules || r.duplicate_of) continue;
            names.push_back(r.input);
            lines.push_back("- " + r.input + " (recognised as " + r.name + ")");
        }
        if (!names.empty())
            info_card("no-rules:" + detail::join_names(names, "\n"),
                      std::to_string(names.size()) + " medication(s) recognised, but this pack has no rules for them",
                      "rxcaution recognised these medications, but its pack has **no interaction rules** for them, so "
                      "they were not checked against anything. No warning about them does not mean they are safe.\n\n" +
                          detail::join_names(lines, "\n"));
    }
    if (options.unresolved_condition_card) {
        std::vector<std::string> names, lines;
        for (const auto& c : report.conditions()) {
            if (c.resolved) continue;
            names.push_back(c.input);
            std::string line = "- " + c.input;
            if (!c.suggestions.empty()) line += " (" + detail::did_you_mean_sentence(c.suggestions) + ")";
            if (std::find(lines.begin(), lines.end(), line) == lines.end()) lines.push_back(std::move(line));
        }
        if (!names.empty()) {
            auto folded = [](std::string s) {
                for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                return s;
            };
            std::sort(names.begin(), names.end(), [&](const auto& a, const auto& b) { return folded(a) < folded(b); });
            names.erase(std::unique(names.begin(), names.end()), names.end());
            info_card("unresolved-conditions:" + detail::join_names(names, "\n"),
                      std::to_string(names.size()) +
                          " condition(s) not recognised: drug-condition warnings for them were not checked",
                      "rxcaution does not know these patient conditions, so no drug-condition warning could be given "
                      "for them. No warning does not mean the order is safe for this patient.\n\n" +
                          detail::join_names(lines, "\n"));
        }
    }
    for (const auto& extra : options.info_cards) info_card(extra.key, extra.summary, extra.detail);
    json out;
    out["cards"] = cards;
    return detail::dump(out, indent);
}

}  // namespace rxcaution
