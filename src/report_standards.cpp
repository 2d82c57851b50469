// Standard renderings of a report: HL7 FHIR R4 DetectedIssue resources and CDS Hooks cards.
// Ids and card uuids are derived from the warning id, so the same regimen checked twice (for
// example at order-select and again at order-sign) yields the same ids and an EHR can de-duplicate.

#include "detail/json_report.hpp"

#include <cstdint>
#include <cstdio>

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

// Cuts UTF-8 text to at most `limit` bytes on a character boundary, marking the cut.
std::string clip(const std::string& text, std::size_t limit) {
    if (text.size() <= limit) return text;
    std::size_t cut = limit - 3;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
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
    // Inputs that were not checked must not vanish from the clinical record: one OperationOutcome
    // per unresolved medication or condition says so.
    auto not_checked = [&](const std::string& what, const std::string& input, const std::vector<std::string>& suggestions) {
        json issue;
        issue["severity"] = "warning";
        issue["code"] = "not-found";
        std::string text = detail::not_known_sentence(what, input) + ", so its interactions were not checked.";
        if (!suggestions.empty()) {
            text += ' ';
            text += detail::did_you_mean_sentence(suggestions);
        }
        json details;
        details["text"] = text;
        issue["details"] = details;
        json outcome;
        const std::string uuid = stable_uuid("unresolved:" + input);
        outcome["resourceType"] = "OperationOutcome";
        outcome["id"] = uuid;
        outcome["issue"] = json::array({issue});
        json entry;
        entry["fullUrl"] = "urn:uuid:" + uuid;
        entry["resource"] = outcome;
        entries.push_back(entry);
    };
    for (const auto& r : report.inputs())
        if (!r.resolved) not_checked("medication", r.input, r.suggestions);
    for (const auto& c : report.conditions())
        if (!c.resolved) not_checked("condition", c.input, c.suggestions);
    // FHIR JSON forbids empty arrays: a report with nothing to say has no `entry` at all.
    if (!entries.empty()) bundle["entry"] = entries;
    return detail::dump(bundle, indent);
}

std::string to_cds_hooks(const Report& report, int indent) {
    json cards = json::array();
    const std::string label = "rxcaution (" + report.pack_name() + " " + report.pack_version() + ")";
    const detail::Renderer render(report);
    for (const auto& compact : report.warnings()) {
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
        cards.push_back(card);
    }
    for (const auto& r : report.inputs()) {
        if (r.resolved) continue;
        json card;
        card["uuid"] = stable_uuid("unresolved:" + r.input);
        card["summary"] = clip(detail::not_known_sentence("medication", r.input), 139);
        std::string md = "rxcaution could not identify **" + r.input +
                         "**, so its interactions were **not checked**. No warning for it does not mean it is safe.";
        if (!r.suggestions.empty()) {
            md += "\n\n";
            md += detail::did_you_mean_sentence(r.suggestions);
        }
        card["detail"] = md;
        card["indicator"] = "info";
        json source;
        source["label"] = label;
        card["source"] = source;
        cards.push_back(card);
    }
    json out;
    out["cards"] = cards;
    return detail::dump(out, indent);
}

}  // namespace rxcaution
