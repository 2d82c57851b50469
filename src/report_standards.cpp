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

// v3 ActCode detected-issue codes.
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


}  // namespace

std::string to_fhir(const Report& report, int indent) {
    json bundle;
    bundle["resourceType"] = "Bundle";
    bundle["type"] = "collection";
    json entries = json::array();
    const detail::Renderer render(report);
    for (const auto& compact : report.warnings()) {
        const WarningDetails w = render.details(compact);
        const std::string uuid = stable_uuid(w.id);
        json issue;
        issue["resourceType"] = "DetectedIssue";
        issue["id"] = uuid;
        issue["status"] = "final";
        issue["code"] = issue_code(w.kind);
        issue["severity"] = fhir_severity(w.severity);
        json implicated = json::array();
        for (std::size_t k = 0; k < w.inputs.size(); ++k) {
            json ref;
            ref["display"] = w.inputs[k];
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
    for (const auto& compact : report.warnings()) {
        const bool of_interest = options.focus.empty() || options.include_active_interactions ||
                                 options.focus[compact.input_a] ||
                                 (compact.input_b != kNone && options.focus[compact.input_b]);
        if (!of_interest) continue;
        const WarningDetails w = render.details(compact);
        json card;
        card["uuid"] = stable_uuid(w.id);
        card["summary"] = clip(w.summary, 139);
        std::string md = "**" + std::string(to_string(w.severity)) + "** " + std::string(to_string(w.kind)) +
                         " interaction\n\n";
        md += "**Effect:** " + w.effect + "\n\n";
        if (!w.mechanism.empty()) md += "**Mechanism:** " + w.mechanism + "\n\n";
        md += "**Management:** " + w.management + "\n\n";
        md += "**Evidence:** " + std::string(to_string(w.evidence));
        if (!w.seriousness.empty()) md += " (label placement: " + w.seriousness + ")";
        md += "\n\n";
        if (!w.disagreement.empty()) md += "**Sources disagree:** " + w.disagreement + "\n\n";
        if (!w.pack.empty()) md += "**Pack:** " + w.pack + "\n\n";
        for (const auto& a : w.annotations) md += "**Also rated:** " + a.text + "\n\n";
        if (!options.input_labels.empty()) {
            std::string lines;
            for (std::size_t i : w.input_indexes)
                if (!options.input_labels[i].empty()) lines += "- " + options.input_labels[i] + "\n";
            if (!lines.empty()) md += "**Orders and medications involved:**\n" + lines + "\n";
        }
        md += "**Why this fired:**\n";
        for (const auto& step : w.explanation) md += "- " + step + "\n";
        if (!w.sources.empty()) {
            md += "\n**Sources:**\n";
            for (const auto& s : w.sources)
                md += "- " + s.title + (s.section.empty() ? "" : ", " + s.section) + " [" + std::string(to_string(s.grade)) +
                      "]\n";
        }
        md += "\n_" + std::string(detail::kDisclaimer) + "_";
        card["detail"] = md;
        card["indicator"] = cds_indicator(w.severity);
        // Cards are shown inside EHRs served over HTTPS, which block or flag plain-http links; such
        // sources stay cited in the detail but are not offered as links.
        auto linkable = [](const std::string& url) { return url.rfind("https://", 0) == 0; };
        json source;
        source["label"] = label;
        for (const auto& s : w.sources)
            if (linkable(s.url)) {
                source["url"] = s.url;
                break;
            }
        card["source"] = source;
        json links = json::array();
        for (const auto& s : w.sources) {
            if (!linkable(s.url)) continue;
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
