// The documented JSON contract of a report (docs/json-output.md). Field names and order are part
// of the contract: add fields, never rename them.

#include "detail/json_report.hpp"

namespace rxcaution::detail {

using json = nlohmann::ordered_json;

namespace {
json nullable(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
}  // namespace

json warning_to_json(const Warning& w) {
    json o;
    o["id"] = w.id;
    o["kind"] = std::string(to_string(w.kind));
    o["severity"] = std::string(to_string(w.severity));
    o["rule"] = w.rule;
    o["inputs"] = w.inputs;
    o["substances"] = w.substances;
    o["condition"] = nullable(w.condition);
    o["summary"] = w.summary;
    o["effect"] = w.effect;
    o["mechanism"] = nullable(w.mechanism);
    o["management"] = w.management;
    o["evidence"] = std::string(to_string(w.evidence));
    o["seriousness"] = nullable(w.seriousness);
    o["disagreement"] = nullable(w.disagreement);
    json sources = json::array();
    for (const auto& s : w.sources) {
        json so;
        so["id"] = s.id;
        so["title"] = s.title;
        so["section"] = nullable(s.section);
        so["url"] = nullable(s.url);
        so["grade"] = std::string(to_string(s.grade));
        sources.push_back(so);
    }
    o["sources"] = sources;
    o["explanation"] = w.explanation;
    return o;
}

json report_to_json(const Report& report) {
    json o;
    json pack;
    pack["name"] = report.pack_name;
    pack["version"] = report.pack_version;
    o["pack"] = pack;
    json inputs = json::array();
    for (const auto& r : report.inputs) {
        json i;
        i["input"] = r.input;
        i["status"] = r.resolved ? "resolved" : "unresolved";
        i["id"] = nullable(r.id);
        i["name"] = nullable(r.name);
        i["kind"] = r.resolved ? json(std::string(to_string(r.kind))) : json(nullptr);
        i["matched_by"] = nullable(r.matched_by);
        i["ingredients"] = r.ingredients;
        i["not_checked"] = r.not_checked;
        i["suggestions"] = r.suggestions;
        inputs.push_back(i);
    }
    o["inputs"] = inputs;
    json conditions = json::array();
    for (const auto& c : report.conditions) {
        json i;
        i["input"] = c.input;
        i["status"] = c.resolved ? "resolved" : "unresolved";
        i["id"] = nullable(c.id);
        i["name"] = nullable(c.name);
        i["suggestions"] = c.suggestions;
        conditions.push_back(i);
    }
    o["conditions"] = conditions;
    json warnings = json::array();
    for (const auto& w : report.warnings) warnings.push_back(warning_to_json(w));
    o["warnings"] = warnings;
    o["max_severity"] = report.max_severity ? json(std::string(to_string(*report.max_severity))) : json(nullptr);
    o["complete"] = report.complete();
    o["unresolved"] = report.unresolved();
    o["disclaimer"] = kDisclaimer;
    return o;
}

std::string dump(const json& j, int indent) {
    return j.dump(indent < 0 ? -1 : indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace rxcaution::detail

namespace rxcaution {

std::string to_json(const Report& report, int indent) { return detail::dump(detail::report_to_json(report), indent); }

}  // namespace rxcaution
