// The rxcaution command-line tool. Lives in the library so that the executable and
// `python -m rxcaution` run exactly the same code.

#include "cli.hpp"
#include "import_ddinter.hpp"
#include <rxcaution/errors.hpp>
#include <rxcaution/knowledge_base.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <unistd.h>

namespace rxcaution::cli {

namespace {

using json = nlohmann::ordered_json;

// The first lines come from the library, so the disclaimer reads the same everywhere.
std::string usage_text();
constexpr const char* kUsageText = R"(

usage:
  rxcaution check [--condition C]... [--format text|json|fhir|cds-hooks] [--pack PATH]
                  [--allow-unresolved] [--fail-on SEVERITY] [--min-severity SEVERITY] MED...
  rxcaution resolve [--format text|json] [--pack PATH] TEXT...
  rxcaution show [--format text|json] [--pack PATH] ID
  rxcaution validate PATH
  rxcaution compile PACK... -o OUT.rxpack
  rxcaution stats [--format text|json] [--pack PATH]
  rxcaution graph [--format dot|svg] [--pack-file PATH] [--condition C]... MED...
  rxcaution graph --pack [--format dot|svg] [--pack-file PATH]
  rxcaution import ddinter DIR|CSV... -o OUT.json|OUT.rxpack [--join PACK]... [--max-file-bytes N]
  rxcaution screen REGIMENS.csv|.parquet --out RESULTS.csv|.parquet|.jsonl ...   (in Python, see below)
  rxcaution --help | --version

check     warnings for a medication list (brands, salts, synonyms and RxCUIs are understood)
resolve   what a name resolves to, or suggestions when unknown
show      an entity (substance, product, class, condition, rule, source) with its rules
validate  load a pack and report every problem
compile   validate a pack and write its compiled snapshot (loads without parsing or compiling;
          --pack and every PATH accept it)
stats     counts of the pack by kind, severity and evidence grade
graph     Graphviz picture of a regimen's warnings, or of the pack's class hierarchy
import    turn the DDInter CSV downloads into a pack to layer under the curated one
          (DDInter is CC BY-NC-SA 4.0: so is the pack written)

--pack PATH may be given more than once: the packs are layered, the first leading where they
overlap (its warning shows the others' ratings); `--pack builtin` is the built-in pack, e.g.
`--pack builtin --pack ddinter.json`.
screen    a population of regimens from a file; runs in Python (it reads Parquet and streams):
          python -m rxcaution screen --help   (pip install 'rxcaution[screen]')

exit status: 0 done; 1 usage or pack error; 2 a medication or condition could not be resolved
(check, unless --allow-unresolved); 3 a warning at or above --fail-on was found.
SEVERITY is one of minor, moderate, major, contraindicated.
)";

std::string usage_text() {
    return "rxcaution - medication interaction checks for opioid use disorder care\n" + std::string(disclaimer()) +
           kUsageText;
}

struct Args {
    std::string command;
    std::vector<std::string> positional;
    std::vector<std::string> conditions;
    std::string format;
    std::vector<std::string> packs;
    std::optional<std::string> output;
    bool allow_unresolved = false;
    bool whole_pack = false;
    std::optional<Severity> fail_on;
    Severity min_severity = Severity::Minor;
};

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

Severity severity_arg(const std::string& option, const std::string& value) {
    if (auto s = parse_severity(value)) return *s;
    throw UsageError(option + ": expected minor, moderate, major or contraindicated, got \"" + value + "\"");
}

Args parse(const std::vector<std::string>& argv) {
    Args a;
    if (argv.empty()) throw UsageError("missing command");
    a.command = argv[0];
    for (std::size_t i = 1; i < argv.size(); ++i) {
        const std::string& s = argv[i];
        auto value = [&](const std::string& opt) -> std::string {
            if (i + 1 >= argv.size()) throw UsageError(opt + " needs a value");
            return argv[++i];
        };
        if (s == "--") {
            for (++i; i < argv.size(); ++i) a.positional.push_back(argv[i]);
            break;
        }
        if (s == "--condition" || s == "-c") a.conditions.push_back(value(s));
        else if (s.rfind("--condition=", 0) == 0) a.conditions.push_back(s.substr(12));
        else if (s == "--format" || s == "-f") a.format = value(s);
        else if (s.rfind("--format=", 0) == 0) a.format = s.substr(9);
        else if (s == "--pack" && a.command == "graph") a.whole_pack = true;
        else if (s == "--pack" || s == "--pack-file") a.packs.push_back(value(s));
        else if (s.rfind("--pack=", 0) == 0) a.packs.push_back(s.substr(7));
        else if (s == "--output" || s == "-o") a.output = value(s);
        else if (s.rfind("--output=", 0) == 0) a.output = s.substr(9);
        else if (s == "--allow-unresolved") a.allow_unresolved = true;
        else if (s == "--fail-on") a.fail_on = severity_arg(s, value(s));
        else if (s.rfind("--fail-on=", 0) == 0) a.fail_on = severity_arg("--fail-on", s.substr(10));
        else if (s == "--min-severity") a.min_severity = severity_arg(s, value(s));
        else if (s.size() > 1 && s[0] == '-' && s != "-") throw UsageError("unknown option " + s);
        else a.positional.push_back(s);
    }
    return a;
}

KnowledgeBase open(const Args& a) {
    if (a.packs.empty()) return KnowledgeBase::builtin();
    return KnowledgeBase::load(std::vector<std::filesystem::path>(a.packs.begin(), a.packs.end()));
}

void require_format(const Args& a, std::initializer_list<const char*> allowed) {
    if (a.format.empty()) return;
    for (const char* f : allowed)
        if (a.format == f) return;
    std::string list;
    for (const char* f : allowed) {
        if (!list.empty()) list += '|';
        list += f;
    }
    throw UsageError("--format: expected " + list + ", got \"" + a.format + "\"");
}

int cmd_check(const Args& a, std::ostream& out, std::ostream& err) {
    require_format(a, {"text", "json", "fhir", "cds-hooks"});
    if (a.positional.empty()) throw UsageError("check: give at least one medication");
    const KnowledgeBase kb = open(a);
    CheckContext ctx;
    ctx.conditions = a.conditions;
    ctx.min_severity = a.min_severity;
    const Report report = kb.check(a.positional, ctx);
    if (a.format == "json") out << to_json(report) << "\n";
    else if (a.format == "fhir") out << to_fhir(report) << "\n";
    else if (a.format == "cds-hooks") out << to_cds_hooks(report) << "\n";
    else out << to_text(report);
    if (!report.complete()) {
        for (const auto& text : report.unresolved())
            err << "rxcaution: NOT CHECKED: unknown medication '" << printable(text) << "'\n";
        for (const auto& c : report.conditions())
            if (!c.resolved) err << "rxcaution: NOT CHECKED: unknown condition '" << printable(c.input) << "'\n";
        if (!a.allow_unresolved) return kUnresolved;
    }
    if (a.fail_on && report.max_severity() && *report.max_severity() >= *a.fail_on) return kSeverityFound;
    return kOk;
}

int cmd_resolve(const Args& a, std::ostream& out) {
    require_format(a, {"text", "json"});
    if (a.positional.empty()) throw UsageError("resolve: give a name");
    const KnowledgeBase kb = open(a);
    json all = json::array();
    bool all_ok = true;
    for (const auto& text : a.positional) {
        const Resolution r = kb.resolve(text);
        all_ok = all_ok && r.resolved;
        if (a.format == "json") {
            json o;
            o["input"] = r.input;
            o["status"] = r.resolved ? "resolved" : "unresolved";
            o["id"] = r.resolved && !r.id.empty() ? json(r.id) : json(nullptr);
            o["name"] = r.resolved ? json(r.name) : json(nullptr);
            o["kind"] = r.resolved ? json(std::string(to_string(r.kind))) : json(nullptr);
            o["matched_by"] = r.resolved ? json(r.matched_by) : json(nullptr);
            o["ingredients"] = r.ingredients;
            o["suggestions"] = r.suggestions;
            o["not_checked"] = r.not_checked;
            o["coverage"] = std::string(to_string(r.coverage));
            o["drugbank"] = r.drugbank.empty() ? json(nullptr) : json(r.drugbank);
            o["vocabulary_only"] = r.vocabulary_only;
            o["ambiguous"] = r.ambiguous;
            all.push_back(o);
        } else {
            out << to_text(r) << "\n";
        }
    }
    if (a.format == "json") out << all.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return all_ok ? kOk : kUnresolved;
}

std::string citations_text(const std::vector<Citation>& cits) {
    std::string s;
    for (const auto& c : cits) s += (s.empty() ? "" : "; ") + c.source + (c.section.empty() ? "" : " " + c.section);
    return s;
}

json citations_json(const std::vector<Citation>& cits) {
    json arr = json::array();
    for (const auto& c : cits) {
        json o;
        o["source"] = c.source;
        if (!c.section.empty()) o["section"] = c.section;
        o["grade"] = std::string(to_string(c.grade));
        arr.push_back(o);
    }
    return arr;
}

json rule_json(const InteractionRule& r) {
    json o;
    o["id"] = r.id;
    o["participants"] = json::array({std::string(to_string(r.first.kind)) + ":" + r.first.id,
                                     std::string(to_string(r.second.kind)) + ":" + r.second.id});
    o["severity"] = std::string(to_string(r.severity));
    o["summary"] = r.summary;
    o["management"] = r.management;
    o["evidence"] = std::string(to_string(r.evidence));
    o["sources"] = citations_json(r.sources);
    return o;
}

json contra_json(const ContraindicationRule& r) {
    json o;
    o["id"] = r.id;
    o["subject"] = std::string(to_string(r.subject.kind)) + ":" + r.subject.id;
    o["condition"] = r.condition;
    o["severity"] = std::string(to_string(r.severity));
    o["summary"] = r.summary;
    o["management"] = r.management;
    o["evidence"] = std::string(to_string(r.evidence));
    o["sources"] = citations_json(r.sources);
    return o;
}

int cmd_show(const Args& a, std::ostream& out) {
    require_format(a, {"text", "json"});
    if (a.positional.size() != 1) throw UsageError("show: give exactly one id or name");
    const KnowledgeBase kb = open(a);
    std::string id = a.positional[0];
    json o;
    std::vector<const InteractionRule*> rules;
    RefList<ContraindicationRule> contras;
    bool with_rules = false;
    if (const Substance* s = kb.find_substance(id); s || (!kb.find_product(id) && !kb.find_class(id) &&
                                                          !kb.find_condition(id) && !kb.find_source(id))) {
        if (!s) {
            // Not an id: try it as a name people type ("Suboxone", "methadone HCl").
            const Resolution r = kb.resolve(id);
            bool is_rule = false;
            for (const auto& rule : kb.interactions()) is_rule = is_rule || rule.id == id;
            for (const auto& rule : kb.contraindications()) is_rule = is_rule || rule.id == id;
            is_rule = is_rule || kb.find_cumulative_rule(id) != nullptr;
            if (is_rule) {
                for (const auto& rule : kb.interactions())
                    if (rule.id == id) {
                        o = rule_json(rule);
                        o["kind"] = "interaction";
                        o["effect"] = rule.effect;
                        o["mechanism"] = rule.mechanism.type + ": " + rule.mechanism.detail;
                        if (!rule.disagreement.empty()) o["disagreement"] = rule.disagreement;
                    }
                for (const auto& rule : kb.contraindications())
                    if (rule.id == id) {
                        o = contra_json(rule);
                        o["kind"] = "contraindication";
                        o["rationale"] = rule.rationale;
                        if (!rule.disagreement.empty()) o["disagreement"] = rule.disagreement;
                    }
                if (const CumulativeRule* rule = kb.find_cumulative_rule(id)) {
                    o["id"] = rule->id;
                    o["kind"] = "cumulative";
                    json needs = json::array();
                    for (const auto& q : rule->requirements)
                        needs.push_back("at least " + std::to_string(q.min) + " of " + std::string(to_string(q.member.kind)) +
                                        " " + q.member.id);
                    o["requires"] = needs;
                    if (!rule->conditions.empty()) o["conditions"] = rule->conditions;
                    o["severity"] = std::string(to_string(rule->severity));
                    o["summary"] = rule->summary;
                    o["effect"] = rule->effect;
                    o["mechanism"] = rule->mechanism.type + ": " + rule->mechanism.detail;
                    o["management"] = rule->management;
                    o["evidence"] = std::string(to_string(rule->evidence));
                    json thresholds = json::array();
                    for (const auto& t : rule->dose_thresholds)
                        thresholds.push_back(t.substance + " above " +
                                             (t.above_mg_per_day == static_cast<double>(static_cast<long long>(t.above_mg_per_day))
                                                  ? std::to_string(static_cast<long long>(t.above_mg_per_day))
                                                  : json(t.above_mg_per_day).dump()) +
                                             " mg/day");
                    if (!thresholds.empty()) o["dose_thresholds"] = thresholds;
                    json sources = json::array();
                    for (const auto& c : rule->sources) sources.push_back(c.source + (c.section.empty() ? "" : " (" + c.section + ")"));
                    o["sources"] = sources;
                }
                if (a.format == "json") out << o.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
                else
                    for (const auto& item : o.items())
                        out << item.key() << ": " << (item.value().is_string() ? item.value().get<std::string>() : item.value().dump(-1, ' ', false, json::error_handler_t::replace)) << "\n";
                return kOk;
            }
            if (!r.resolved) throw NotFoundError(id, r.suggestions, "id or name");
            id = r.id;
            s = kb.find_substance(id);
        }
        if (s) {
            o["kind"] = "substance";
            o["id"] = s->id;
            o["name"] = s->name;
            o["synonyms"] = s->synonyms;
            o["salts"] = s->salts;
            o["classes"] = kb.classes_of(s->id);
            json ids;
            if (!s->identifiers.rxcui.empty()) ids["rxcui"] = s->identifiers.rxcui;
            if (!s->identifiers.atc.empty()) ids["atc"] = s->identifiers.atc;
            if (!s->identifiers.unii.empty()) ids["unii"] = s->identifiers.unii;
            if (!s->identifiers.drugbank.empty()) ids["drugbank"] = s->identifiers.drugbank;
            o["identifiers"] = ids;
            rules = kb.rules_for(s->id).pointers();
            contras = kb.contraindications_for(s->id);
            with_rules = true;
        }
    }
    if (o.empty()) {
        if (const Product* p = kb.find_product(id)) {
            o["kind"] = "product";
            o["id"] = p->id;
            o["name"] = p->name;
            o["ingredients"] = p->ingredients;
            o["route"] = p->route;
            o["form"] = p->form;
            o["sources"] = citations_json(p->sources);
            std::map<std::string, const InteractionRule*> merged;
            // Rules stated for the product itself, then those of the ingredients it makes active.
            for (const auto& r : kb.rules_for(p->id)) merged.emplace(r.id, &r);
            for (const auto& ing : p->ingredients) {
                bool inactive = false;
                for (const auto& ii : p->inactive_ingredients) inactive = inactive || ii.substance == ing;
                if (!inactive)
                    for (const auto& r : kb.rules_for(ing)) merged.emplace(r.id, &r);
            }
            for (auto& [k, r] : merged) rules.push_back(r);
            std::stable_sort(rules.begin(), rules.end(), [](const auto* x, const auto* y) { return x->severity > y->severity; });
            contras = kb.contraindications_for(p->id);
            with_rules = true;
        } else if (const DrugClass* c = kb.find_class(id)) {
            o["kind"] = "class";
            o["id"] = c->id;
            o["name"] = c->name;
            o["description"] = c->description;
            o["parents"] = c->parents;
            o["members"] = kb.members_of(c->id);
            rules = kb.rules_for(c->id).pointers();
            contras = kb.contraindications_for(c->id);
            with_rules = true;
        } else if (const Condition* cond = kb.find_condition(id)) {
            o["kind"] = "condition";
            o["id"] = cond->id;
            o["name"] = cond->name;
            o["synonyms"] = cond->synonyms;
            o["parents"] = cond->parents;
            json symptoms = json::array();
            for (const auto& s : cond->symptoms) symptoms.push_back(s.name);
            o["symptoms"] = symptoms;
            json cr = json::array();
            for (const auto& r : kb.contraindications())
                if (r.condition == cond->id) cr.push_back(contra_json(r));
            o["contraindications"] = cr;
        } else if (const Source* s = kb.find_source(id)) {
            o["kind"] = "source";
            o["id"] = s->id;
            o["title"] = s->title;
            o["publisher"] = s->publisher;
            o["date"] = s->date;
            o["url"] = s->url;
            o["setid"] = s->setid;
            o["grade"] = std::string(to_string(s->grade));
        }
    }
    if (with_rules) {
        json rr = json::array();
        for (const auto* r : rules) rr.push_back(rule_json(*r));
        o["interactions"] = rr;
        json cr = json::array();
        for (const auto& r : contras) cr.push_back(contra_json(r));
        o["contraindications"] = cr;
    }
    if (a.format == "json") {
        out << o.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
        return kOk;
    }
    for (const auto& item : o.items()) {
        if (item.key() == "interactions" || item.key() == "contraindications") continue;
        out << item.key() << ": " << (item.value().is_string() ? item.value().get<std::string>() : item.value().dump(-1, ' ', false, json::error_handler_t::replace)) << "\n";
    }
    if (with_rules) {
        out << "\ninteraction rules (" << rules.size() << "):\n";
        for (const auto* r : rules)
            out << "  " << to_string(r->severity) << "  " << r->id << ": " << r->first.id << " x " << r->second.id << " - "
                << r->summary << " [" << to_string(r->evidence) << "; " << citations_text(r->sources) << "]\n";
        out << "\ncontraindications (" << contras.size() << "):\n";
        for (const auto& r : contras)
            out << "  " << to_string(r.severity) << "  " << r.id << ": " << r.subject.id << " in " << r.condition << " - "
                << r.summary << " [" << to_string(r.evidence) << "; " << citations_text(r.sources) << "]\n";
    } else if (o.contains("contraindications")) {
        out << "contraindications: " << o["contraindications"].size() << "\n";
        for (const auto& r : o["contraindications"])
            out << "  " << r["severity"].get<std::string>() << "  " << r["id"].get<std::string>() << " - "
                << r["summary"].get<std::string>() << "\n";
    }
    return kOk;
}

json stats_json(const KnowledgeBase& kb) {
    const PackInfo& info = kb.info();
    json o;
    o["pack"] = {{"name", info.name}, {"version", info.version}, {"format_version", info.format_version}};
    if (info.layers.size() > 1) {
        json layers = json::array();
        for (const auto& l : info.layers)
            layers.push_back({{"name", l.name},
                              {"version", l.version},
                              {"licence", l.licence},
                              {"origin", l.origin},
                              {"substances", l.substances},
                              {"interaction_rules", l.interactions},
                              {"unified_by_id", l.unified_by_id},
                              {"unified_by_identifier", l.unified_by_identifier},
                              {"unified_by_name", l.unified_by_name},
                              {"ambiguous", l.ambiguous},
                              {"added", l.added},
                              {"annotating_rules", l.annotating_rules}});
        o["pack"]["layers"] = layers;
    }
    o["counts"] = {{"substances", info.substances},
                   {"products", info.products},
                   {"classes", info.classes},
                   {"class_memberships", info.class_memberships},
                   {"conditions", info.conditions},
                   {"interaction_rules", info.interactions},
                   {"contraindication_rules", info.contraindications},
                   {"treatments", info.treatments},
                   {"sources", info.sources},
                   {"compiled_substance_pairs", info.compiled_pairs}};
    auto tally = [](const auto& rules) {
        json by_sev;
        for (Severity s : {Severity::Contraindicated, Severity::Major, Severity::Moderate, Severity::Minor})
            by_sev[std::string(to_string(s))] = 0;
        json by_ev;
        for (EvidenceGrade g : {EvidenceGrade::Label, EvidenceGrade::LabelQuoted, EvidenceGrade::Secondary})
            by_ev[std::string(to_string(g))] = 0;
        for (const auto& r : rules) {
            by_sev[std::string(to_string(r.severity))] = by_sev[std::string(to_string(r.severity))].template get<int>() + 1;
            by_ev[std::string(to_string(r.evidence))] = by_ev[std::string(to_string(r.evidence))].template get<int>() + 1;
        }
        return json{{"by_severity", by_sev}, {"by_evidence", by_ev}};
    };
    o["interactions"] = tally(kb.interactions());
    o["contraindications"] = tally(kb.contraindications());
    json kinds;
    for (const auto& s : kb.substances()) kinds[s.kind] = kinds.contains(s.kind) ? kinds[s.kind].get<int>() + 1 : 1;
    o["substances_by_kind"] = kinds;
    return o;
}

int cmd_stats(const Args& a, std::ostream& out) {
    require_format(a, {"text", "json"});
    const json o = stats_json(open(a));
    if (a.format == "json") {
        out << o.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
        return kOk;
    }
    out << "pack " << o["pack"]["name"].get<std::string>() << " " << o["pack"]["version"].get<std::string>() << "\n";
    if (o["pack"].contains("layers"))
        for (const auto& l : o["pack"]["layers"])
            out << "  layer " << l["name"].get<std::string>() << " " << l["version"].get<std::string>() << " ("
                << l["licence"].get<std::string>() << "; " << l["origin"].get<std::string>() << "): " << l["substances"].dump()
                << " substances (unified by id " << l["unified_by_id"].dump() << ", identifier "
                << l["unified_by_identifier"].dump() << ", name " << l["unified_by_name"].dump() << "; ambiguous "
                << l["ambiguous"].dump() << "; new " << l["added"].dump() << "), " << l["interaction_rules"].dump()
                << " interaction rules (" << l["annotating_rules"].dump() << " annotate an earlier pack's warning)\n";
    for (const auto& item : o["counts"].items()) out << "  " << item.key() << ": " << item.value().dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    for (const char* section : {"interactions", "contraindications"}) {
        out << section << " by severity:";
        for (const auto& item : o[section]["by_severity"].items()) out << " " << item.key() << "=" << item.value().dump(-1, ' ', false, json::error_handler_t::replace);
        out << "\n" << section << " by evidence:";
        for (const auto& item : o[section]["by_evidence"].items()) out << " " << item.key() << "=" << item.value().dump(-1, ' ', false, json::error_handler_t::replace);
        out << "\n";
    }
    out << "substances by kind:";
    for (const auto& item : o["substances_by_kind"].items()) out << " " << item.key() << "=" << item.value().dump(-1, ' ', false, json::error_handler_t::replace);
    out << "\n";
    return kOk;
}

int cmd_validate(const Args& a, std::ostream& out) {
    if (a.positional.size() != 1) throw UsageError("validate: give exactly one pack path");
    const KnowledgeBase kb = KnowledgeBase::load(a.positional[0]);
    const PackInfo& i = kb.info();
    out << a.positional[0] << ": valid pack " << i.name << " " << i.version << " (" << i.substances << " substances, "
        << i.products << " products, " << i.classes << " classes, " << i.conditions << " conditions, " << i.interactions
        << " interaction rules, " << i.contraindications << " contraindication rules, " << i.sources << " sources)\n";
    return kOk;
}

int cmd_compile(const Args& a, std::ostream& out) {
    if (a.positional.empty()) throw UsageError("compile: give the pack (or packs, highest priority first) to compile");
    if (!a.output) throw UsageError("compile: give the snapshot to write with -o OUT.rxpack");
    const KnowledgeBase kb = KnowledgeBase::load(std::vector<std::filesystem::path>(a.positional.begin(), a.positional.end()));
    kb.save(*a.output);
    const PackInfo& i = kb.info();
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(*a.output, ec);
    out << *a.output << ": snapshot of " << i.name << " " << i.version << " (" << i.substances << " substances, "
        << i.interactions << " interaction rules, " << i.compiled_pairs << " compiled pairs; " << (ec ? 0 : bytes)
        << " bytes)\n";
    return kOk;
}

std::string render_svg(const std::string& dot) {
    char in_name[] = "/tmp/rxcaution-dot-XXXXXX";
    const int fd = mkstemp(in_name);
    if (fd < 0) throw Error("graph: cannot create a temporary file");
    close(fd);
    {
        std::ofstream f(in_name);
        f << dot;
    }
    const std::string cmd = std::string("dot -Tsvg '") + in_name + "' 2>/dev/null";
    std::string svg;
    if (FILE* pipe = popen(cmd.c_str(), "r")) {
        char buf[4096];
        std::size_t n;
        while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) svg.append(buf, n);
        const int status = pclose(pipe);
        std::remove(in_name);
        if (status != 0 || svg.empty())
            throw Error("graph: --format svg needs Graphviz 'dot' on PATH (apt-get install graphviz); use --format dot");
        return svg;
    }
    std::remove(in_name);
    throw Error("graph: cannot run Graphviz 'dot'");
}

int cmd_graph(const Args& a, std::ostream& out) {
    require_format(a, {"dot", "svg"});
    const KnowledgeBase kb = open(a);
    std::string dot;
    if (a.whole_pack) dot = kb.class_hierarchy_dot();
    else {
        if (a.positional.empty()) throw UsageError("graph: give medications, or --pack for the class hierarchy");
        CheckContext ctx;
        ctx.conditions = a.conditions;
        dot = kb.regimen_dot(a.positional, ctx);
    }
    out << (a.format == "svg" ? render_svg(dot) : dot);
    return kOk;
}

std::size_t size_arg(const std::string& option, const std::string& value) {
    try {
        std::size_t used = 0;
        const unsigned long long n = std::stoull(value, &used);
        if (used == value.size() && n > 0) return static_cast<std::size_t>(n);
    } catch (const std::exception&) {
    }
    throw UsageError(option + ": expected a positive number of bytes, got \"" + value + "\"");
}

int cmd_import(const std::vector<std::string>& argv, std::ostream& out) {
    if (argv.size() < 2 || argv[1] != "ddinter") throw UsageError("import: the one importer is `import ddinter DIR -o OUT.json|OUT.rxpack`");
    importer::DDInterOptions options;
    std::string output;
    std::vector<std::string> joins;
    for (std::size_t i = 2; i < argv.size(); ++i) {
        const std::string& s = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argv.size()) throw UsageError(s + " needs a value");
            return argv[++i];
        };
        if (s == "-o" || s == "--output") output = value();
        else if (s == "--join") joins.push_back(value());
        else if (s == "--max-file-bytes") options.max_file_bytes = size_arg(s, value());
        else if (s == "--pack-version") options.pack_version = value();
        else if (s.size() > 1 && s[0] == '-') throw UsageError("unknown option " + s);
        else options.inputs.emplace_back(s);
    }
    if (options.inputs.empty()) throw UsageError("import ddinter: give the DDInter directory or its CSV files");
    if (output.empty()) throw UsageError("import ddinter: give the output file with -o OUT.json or -o OUT.rxpack");
    const std::filesystem::path out_path(output);
    const bool snapshot = out_path.extension() == ".rxpack";
    if (!snapshot && out_path.extension() != ".json")
        throw UsageError("import ddinter: the output must be a .json pack or a .rxpack snapshot, got \"" + output + "\"");
    const KnowledgeBase join =
        joins.empty() ? KnowledgeBase::builtin() : KnowledgeBase::load(std::vector<std::filesystem::path>(joins.begin(), joins.end()));
    importer::DDInterSummary summary;
    const std::string pack = importer::import_ddinter(options, join, summary);
    // The pack is loaded once before it is written: what is written always loads.
    LoadOptions load_options;
    load_options.max_file_bytes = std::max(load_options.max_file_bytes, pack.size());
    const KnowledgeBase loaded = KnowledgeBase::from_json(pack, load_options, output);
    std::size_t bytes = pack.size();
    if (snapshot) {
        loaded.save(out_path);
        std::error_code ec;
        bytes = static_cast<std::size_t>(std::filesystem::file_size(out_path, ec));
    } else {
        std::ofstream f(out_path, std::ios::binary | std::ios::trunc);
        if (!f) throw Error("import ddinter: cannot write " + output);
        f << pack;
        if (!f.flush()) throw Error("import ddinter: cannot write " + output);
    }
    for (const auto& line : summary.lines()) out << line << "\n";
    out << "wrote " << output << " (" << bytes << " bytes; licence CC BY-NC-SA 4.0: non-commercial, share alike)\n";
    return kOk;
}

}  // namespace

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    try {
        if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
            (args.empty() ? err : out) << usage_text();
            return args.empty() ? kUsage : kOk;
        }
        if (args[0] == "--version") {
            const PackInfo& i = KnowledgeBase::builtin().info();
            out << "rxcaution 0.1.0 (built-in pack " << i.name << " " << i.version << ")\n";
            return kOk;
        }
        if (args[0] == "import") return cmd_import(args, out);
        if (args[0] == "screen") {
            // Parquet input/output needs pyarrow, which this executable cannot use; the Python entry
            // point implements screen (and `python -m rxcaution` runs every other command here).
            err << "rxcaution: screen runs in the Python package: python -m rxcaution screen "
                   "REGIMENS.csv|.parquet --out RESULTS.csv|.parquet|.jsonl (pip install 'rxcaution[screen]')\n";
            return kUsage;
        }
        const Args a = parse(args);
        for (const auto& p : a.positional)
            if (p == "--help") {
                out << usage_text();
                return kOk;
            }
        if (a.command == "check") return cmd_check(a, out, err);
        if (a.command == "resolve") return cmd_resolve(a, out);
        if (a.command == "show") return cmd_show(a, out);
        if (a.command == "validate") return cmd_validate(a, out);
        if (a.command == "compile") return cmd_compile(a, out);
        if (a.command == "stats") return cmd_stats(a, out);
        if (a.command == "graph") return cmd_graph(a, out);
        throw UsageError("unknown command \"" + a.command + "\"");
    } catch (const UsageError& e) {
        err << "rxcaution: " << e.what() << "\n(rxcaution --help shows the usage)\n";
        return kUsage;
    } catch (const IntegrityError& e) {
        err << "rxcaution: " << e.what() << "\n";
        return kUsage;
    } catch (const Error& e) {
        err << "rxcaution: " << e.what() << "\n";
        return kUsage;
    } catch (const std::exception& e) {
        err << "rxcaution: internal error: " << e.what() << "\n";
        return kUsage;
    }
}

}  // namespace rxcaution::cli
