// Pack loading: parse -> shape -> integrity. Shape errors stop at the first problem (the rest of
// the document cannot be trusted to be read); integrity problems are all gathered before throwing,
// so a curator fixes a pack in one round. Nothing here builds indexes: a PackData is returned only
// when it is complete and consistent.

#include "detail/pack.hpp"

#include <rxcaution/errors.hpp>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace rxcaution::detail {

using nlohmann::json;

namespace {

std::string escape_pointer_token(const std::string& token) {
    std::string out;
    for (char c : token) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

std::string child(const std::string& pointer, const std::string& key) {
    return pointer + "/" + escape_pointer_token(key);
}
std::string child(const std::string& pointer, std::size_t index) {
    return pointer + "/" + std::to_string(index);
}

// A short rendering of a value for "got ..." in messages.
std::string describe(const json& value) {
    if (value.is_string()) {
        std::string s = value.dump();
        if (s.size() > 60) s = s.substr(0, 57) + "...\"";
        return s;
    }
    if (value.is_object()) return "an object";
    if (value.is_array()) return "an array";
    if (value.is_null()) return "null";
    std::string s = value.dump();
    return value.is_boolean() ? "boolean " + s : "number " + s;
}

// Reads typed fields of one JSON document and reports shape errors with file and pointer.
class Reader {
public:
    explicit Reader(std::string file) : file_(std::move(file)) {}
    const std::string& file() const { return file_; }

    [[noreturn]] void fail(const std::string& pointer, const std::string& expected, const std::string& found) const {
        throw SchemaError(file_, pointer.empty() ? "/" : pointer, expected, found);
    }

    const json& object(const json& v, const std::string& ptr) const {
        if (!v.is_object()) fail(ptr, "an object", describe(v));
        return v;
    }
    const json& array(const json& v, const std::string& ptr) const {
        if (!v.is_array()) fail(ptr, "an array", describe(v));
        return v;
    }

    // Rejects keys that the format does not define (catches typos such as "severty").
    void only(const json& obj, const std::string& ptr, std::initializer_list<const char*> allowed) const {
        for (const auto& item : obj.items()) {
            bool ok = false;
            for (const char* a : allowed) ok = ok || item.key() == a;
            if (!ok) {
                std::string list;
                for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
                fail(child(ptr, item.key()), "one of the fields " + list, "unknown field \"" + item.key() + "\"");
            }
        }
    }

    std::string req_string(const json& obj, const std::string& ptr, const char* key) const {
        auto it = obj.find(key);
        if (it == obj.end()) fail(child(ptr, key), "a string", "nothing (the field is required)");
        if (!it->is_string()) fail(child(ptr, key), "a string", describe(*it));
        std::string s = it->get<std::string>();
        if (s.empty()) fail(child(ptr, key), "a non-empty string", "\"\"");
        return s;
    }
    std::string opt_string(const json& obj, const std::string& ptr, const char* key) const {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return {};
        if (!it->is_string()) fail(child(ptr, key), "a string", describe(*it));
        return it->get<std::string>();
    }
    std::vector<std::string> opt_strings(const json& obj, const std::string& ptr, const char* key) const {
        std::vector<std::string> out;
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return out;
        const std::string p = child(ptr, key);
        if (!it->is_array()) fail(p, "an array of strings", describe(*it));
        for (std::size_t i = 0; i < it->size(); ++i) {
            const json& e = (*it)[i];
            if (!e.is_string()) fail(child(p, i), "a string", describe(e));
            out.push_back(e.get<std::string>());
        }
        return out;
    }
    // A list of strings or a single string (ATC codes are often written as one).
    std::vector<std::string> string_or_strings(const json& obj, const std::string& ptr, const char* key) const {
        auto it = obj.find(key);
        if (it != obj.end() && it->is_string()) return {it->get<std::string>()};
        return opt_strings(obj, ptr, key);
    }

private:
    std::string file_;
};

// Values that must be gathered rather than thrown (integrity problems found while reading).
struct Problems {
    std::vector<std::string> list;
    void add(const std::string& file, const std::string& pointer, const std::string& text) {
        list.push_back(file + ":" + pointer + ": " + text);
    }
};

Severity read_severity(const Reader& r, const json& obj, const std::string& ptr, Problems& problems) {
    std::string s = r.req_string(obj, ptr, "severity");
    if (auto sev = parse_severity(s)) return *sev;
    problems.add(r.file(), child(ptr, "severity"),
                 "expected one of contraindicated|major|moderate|minor, got \"" + s + "\"");
    return Severity::Minor;
}

EvidenceGrade read_grade(const Reader& r, const std::string& text, const std::string& ptr, Problems& problems,
                         bool allow_weak) {
    auto g = parse_evidence_grade(text);
    if (!g || *g == EvidenceGrade::Derived || (!allow_weak && *g == EvidenceGrade::Weak)) {
        problems.add(r.file(), ptr,
                     std::string("expected one of label|label-quoted|secondary") + (allow_weak ? "|weak" : "") +
                         ", got \"" + text + "\"" +
                         (text == "unverified" || text == "U" ? " (unverified facts are never encoded)" : ""));
        return EvidenceGrade::Secondary;
    }
    return *g;
}

// Citations: grade defaults to the source's grade, resolved after all sources are known.
struct PendingCitation {
    Citation* citation;
    bool has_grade;
    std::string file;
    std::string pointer;
};

class PackReader {
public:
    PackReader(PackData& pack, Problems& problems) : pack_(pack), problems_(problems) {}

    std::vector<PendingCitation> pending;

    std::vector<Citation> citations(const Reader& r, const json& obj, const std::string& ptr, const char* key,
                                    bool required) {
        std::vector<Citation> out;
        auto it = obj.find(key);
        const std::string p = child(ptr, key);
        if (it == obj.end() || it->is_null()) {
            if (required) problems_.add(r.file(), p, "no source cited (every fact needs at least one source)");
            return out;
        }
        r.array(*it, p);
        if (it->empty() && required) problems_.add(r.file(), p, "no source cited (every fact needs at least one source)");
        for (std::size_t i = 0; i < it->size(); ++i) {
            const std::string cp = child(p, i);
            const json& c = r.object((*it)[i], cp);
            r.only(c, cp, {"source", "section", "grade", "note"});
            Citation cit;
            cit.source = r.req_string(c, cp, "source");
            cit.section = r.opt_string(c, cp, "section");
            cit.note = r.opt_string(c, cp, "note");
            std::string g = r.opt_string(c, cp, "grade");
            if (!g.empty()) cit.grade = read_grade(r, g, child(cp, "grade"), problems_, true);
            out.push_back(std::move(cit));
        }
        return out;
    }

    Identifiers identifiers(const Reader& r, const json& obj, const std::string& ptr) {
        Identifiers ids;
        auto it = obj.find("identifiers");
        if (it == obj.end() || it->is_null()) return ids;
        const std::string p = child(ptr, "identifiers");
        r.object(*it, p);
        r.only(*it, p, {"rxcui", "rxcui_products", "atc", "unii", "salt_unii", "drugbank", "setid"});
        ids.rxcui = r.opt_string(*it, p, "rxcui");
        ids.rxcui_products = r.string_or_strings(*it, p, "rxcui_products");
        ids.atc = r.string_or_strings(*it, p, "atc");
        ids.unii = r.opt_string(*it, p, "unii");
        ids.drugbank = r.opt_string(*it, p, "drugbank");
        ids.setid = r.opt_string(*it, p, "setid");
        if (auto s = it->find("salt_unii"); s != it->end() && !s->is_null()) {
            const std::string sp = child(p, "salt_unii");
            r.object(*s, sp);
            for (const auto& kv : s->items()) {
                if (!kv.value().is_string()) r.fail(child(sp, kv.key()), "a string", describe(kv.value()));
                ids.salt_unii[kv.key()] = kv.value().get<std::string>();
            }
        }
        return ids;
    }

    Participant participant(const Reader& r, const json& v, const std::string& ptr, bool allow_product) {
        r.object(v, ptr);
        Participant p;
        int n = 0;
        if (v.contains("substance")) { p.kind = EntityKind::Substance; p.id = r.req_string(v, ptr, "substance"); ++n; }
        if (v.contains("class")) { p.kind = EntityKind::Class; p.id = r.req_string(v, ptr, "class"); ++n; }
        if (allow_product && v.contains("product")) { p.kind = EntityKind::Product; p.id = r.req_string(v, ptr, "product"); ++n; }
        const char* expected = allow_product ? "exactly one of {\"substance\": id}, {\"class\": id}, {\"product\": id}"
                                             : "exactly one of {\"substance\": id}, {\"class\": id}";
        if (n != 1 || v.size() != 1) r.fail(ptr, expected, v.dump());
        return p;
    }

    void read_section(const Reader& r, const std::string& section, const json& value, const std::string& ptr) {
        r.array(value, ptr);
        for (std::size_t i = 0; i < value.size(); ++i) {
            const std::string p = child(ptr, i);
            const json& o = r.object(value[i], p);
            Origin origin{r.file(), p};
            if (section == "sources") read_source(r, o, p, origin);
            else if (section == "substances") read_substance(r, o, p, origin);
            else if (section == "products") read_product(r, o, p, origin);
            else if (section == "classes") read_class(r, o, p, origin);
            else if (section == "conditions") read_condition(r, o, p, origin);
            else if (section == "interactions") read_interaction(r, o, p, origin);
            else if (section == "contraindications") read_contraindication(r, o, p, origin);
            else if (section == "treatments") read_treatment(r, o, p, origin);
            else if (section == "profiles") read_profile(r, o, p, origin);
        }
    }

    // Where each entity's citations sit in the JSON, kept until all entity vectors are final.
    struct Deferred {
        Reader reader;
        const json* obj;
        std::string ptr;
    };

private:
    void read_source(const Reader& r, const json& o, const std::string& p, const Origin& origin) {
        r.only(o, p, {"id", "title", "publisher", "date", "url", "setid", "kind", "grade", "notes"});
        Source s;
        s.id = r.req_string(o, p, "id");
        s.title = r.req_string(o, p, "title");
        s.publisher = r.opt_string(o, p, "publisher");
        s.date = r.opt_string(o, p, "date");
        s.url = r.opt_string(o, p, "url");
        s.setid = r.opt_string(o, p, "setid");
        s.kind = r.req_string(o, p, "kind");
        s.grade = read_grade(r, r.req_string(o, p, "grade"), child(p, "grade"), problems_, true);
        s.notes = r.opt_string(o, p, "notes");
        pack_.sources.push_back(std::move(s));
        pack_.source_origins.push_back(origin);
    }

    void read_substance(const Reader& r, const json& o, const std::string& p, const Origin& origin) {
        r.only(o, p, {"id", "name", "synonyms", "salts", "kind", "identifiers", "identifier_sources", "notes"});
        Substance s;
        s.id = r.req_string(o, p, "id");
        s.name = r.req_string(o, p, "name");
        s.synonyms = r.opt_strings(o, p, "synonyms");
        s.salts = r.opt_strings(o, p, "salts");
        s.kind = r.opt_string(o, p, "kind");
        if (s.kind.empty()) s.kind = "drug";
        static const std::set<std::string> kinds = {"drug", "illicit", "food", "supplement", "beverage", "environmental"};
        if (!kinds.count(s.kind))
            problems_.add(r.file(), child(p, "kind"),
                          "expected one of drug|illicit|food|supplement|beverage|environmental, got \"" + s.kind + "\"");
        s.identifiers = identifiers(r, o, p);
        const bool has_ids = !s.identifiers.rxcui.empty() || !s.identifiers.atc.empty() || !s.identifiers.unii.empty() ||
                             !s.identifiers.drugbank.empty() || !s.identifiers.salt_unii.empty() ||
                             !s.identifiers.rxcui_products.empty();
        s.identifier_sources = citations(r, o, p, "identifier_sources", has_ids);
        s.notes = r.opt_string(o, p, "notes");
        pack_.substances.push_back(std::move(s));
        pack_.substance_origins.push_back(origin);
        defer('s', r, o, p);
    }

    void read_product(const Reader& r, const json& o, const std::string& p, const Origin& origin) {
        r.only(o, p, {"id", "name", "synonyms", "ingredients", "inactive_ingredients", "route", "form", "identifiers",
                      "identifier_sources", "sources", "notes"});
        Product x;
        x.id = r.req_string(o, p, "id");
        x.name = r.req_string(o, p, "name");
        x.synonyms = r.opt_strings(o, p, "synonyms");
        if (!o.contains("ingredients")) r.fail(child(p, "ingredients"), "an array of substance ids", "nothing (the field is required)");
        x.ingredients = r.opt_strings(o, p, "ingredients");
        if (x.ingredients.empty()) problems_.add(r.file(), child(p, "ingredients"), "a product needs at least one ingredient");
        if (auto in = o.find("inactive_ingredients"); in != o.end() && !in->is_null()) {
            const std::string ip = child(p, "inactive_ingredients");
            r.array(*in, ip);
            for (std::size_t i = 0; i < in->size(); ++i) {
                const std::string ep = child(ip, i);
                const json& m = r.object((*in)[i], ep);
                r.only(m, ep, {"substance", "note", "sources"});
                InactiveIngredient ii;
                ii.substance = r.req_string(m, ep, "substance");
                ii.note = r.req_string(m, ep, "note");
                ii.sources = citations(r, m, ep, "sources", true);
                if (std::find(x.ingredients.begin(), x.ingredients.end(), ii.substance) == x.ingredients.end())
                    problems_.add(r.file(), child(ep, "substance"),
                                  "\"" + ii.substance + "\" is not one of the product's ingredients");
                x.inactive_ingredients.push_back(std::move(ii));
            }
        }
        x.route = r.opt_string(o, p, "route");
        x.form = r.opt_string(o, p, "form");
        x.identifiers = identifiers(r, o, p);
        const bool has_ids = !x.identifiers.rxcui.empty() || !x.identifiers.rxcui_products.empty() ||
                             !x.identifiers.setid.empty() || !x.identifiers.atc.empty();
        x.identifier_sources = citations(r, o, p, "identifier_sources", has_ids);
        x.sources = citations(r, o, p, "sources", true);
        x.notes = r.opt_string(o, p, "notes");
        pack_.products.push_back(std::move(x));
        pack_.product_origins.push_back(origin);
        defer('p', r, o, p);
    }

    void read_class(const Reader& r, const json& o, const std::string& p, const Origin& origin) {
        r.only(o, p, {"id", "name", "description", "parents", "members", "duplicate_therapy", "notes"});
        DrugClass c;
        c.id = r.req_string(o, p, "id");
        c.name = r.req_string(o, p, "name");
        c.description = r.opt_string(o, p, "description");
        c.parents = r.opt_strings(o, p, "parents");
        if (!o.contains("members")) r.fail(child(p, "members"), "an array of members", "nothing (the field is required)");
        const std::string mp = child(p, "members");
        const json& members = r.array(o.at("members"), mp);
        for (std::size_t i = 0; i < members.size(); ++i) {
            const std::string ep = child(mp, i);
            const json& m = r.object(members[i], ep);
            r.only(m, ep, {"substance", "sources", "strength", "note"});
            ClassMember cm;
            cm.substance = r.req_string(m, ep, "substance");
            cm.strength = r.opt_string(m, ep, "strength");
            cm.note = r.opt_string(m, ep, "note");
            cm.sources = citations(r, m, ep, "sources", true);
            c.members.push_back(std::move(cm));
        }
        if (auto d = o.find("duplicate_therapy"); d != o.end() && !d->is_null()) {
            const std::string dp = child(p, "duplicate_therapy");
            r.object(*d, dp);
            r.only(*d, dp, {"severity", "management", "sources"});
            DuplicateTherapyPolicy policy;
            policy.severity = read_severity(r, *d, dp, problems_);
            policy.management = r.req_string(*d, dp, "management");
            policy.sources = citations(r, *d, dp, "sources", true);
            c.duplicate_therapy = std::move(policy);
        }
        pack_.classes.push_back(std::move(c));
        pack_.class_origins.push_back(origin);
        defer('c', r, o, p);
    }

    void read_condition(const Reader& r, const json& o, const std::string& p, const Origin& origin) {
        r.only(o, p, {"id", "name", "synonyms", "parents", "symptoms", "notes"});
        Condition c;
        c.id = r.req_string(o, p, "id");
        c.name = r.req_string(o, p, "name");
        c.synonyms = r.opt_strings(o, p, "synonyms");
        c.parents = r.opt_strings(o, p, "parents");
        c.notes = r.opt_string(o, p, "notes");
        if (auto s = o.find("symptoms"); s != o.end() && !s->is_null()) {
            const std::string sp = child(p, "symptoms");
            r.array(*s, sp);
            for (std::size_t i = 0; i < s->size(); ++i) {
                const std::string ep = child(sp, i);
                const json& m = r.object((*s)[i], ep);
                r.only(m, ep, {"name", "sources"});
                c.symptoms.push_back({r.req_string(m, ep, "name"), citations(r, m, ep, "sources", true)});
            }
        }
        pack_.conditions.push_back(std::move(c));
        pack_.condition_origins.push_back(origin);
        defer('n', r, o, p);
    }

    void read_rule_common(const Reader& r, const json& o, const std::string& p, Severity& severity,
                          EvidenceGrade& evidence, std::string& seriousness, std::vector<Citation>& sources) {
        severity = read_severity(r, o, p, problems_);
        evidence = read_grade(r, r.req_string(o, p, "evidence"), child(p, "evidence"), problems_, false);
        seriousness = r.opt_string(o, p, "seriousness");
        static const std::set<std::string> levels = {"", "boxed", "contraindication", "warnings", "interactions",
                                                     "highlights", "none"};
        if (!levels.count(seriousness))
            problems_.add(r.file(), child(p, "seriousness"),
                          "expected one of boxed|contraindication|warnings|interactions|highlights|none, got \"" +
                              seriousness + "\"");
        sources = citations(r, o, p, "sources", true);
    }

    void read_interaction(const Reader& r, const json& o, const std::string& p, const Origin& origin) {
        r.only(o, p, {"id", "participants", "severity", "summary", "effect", "mechanism", "management", "evidence",
                      "seriousness", "label_severity_basis", "sources", "disagreement", "notes", "supersedes"});
        InteractionRule x;
        x.id = r.req_string(o, p, "id");
        const std::string pp = child(p, "participants");
        if (!o.contains("participants")) r.fail(pp, "an array of two participants", "nothing (the field is required)");
        const json& parts = r.array(o.at("participants"), pp);
        if (parts.size() != 2) r.fail(pp, "exactly two participants", std::to_string(parts.size()));
        x.first = participant(r, parts[0], child(pp, 0), true);
        x.second = participant(r, parts[1], child(pp, 1), true);
        x.summary = r.req_string(o, p, "summary");
        x.effect = r.req_string(o, p, "effect");
        const std::string mp = child(p, "mechanism");
        if (!o.contains("mechanism")) r.fail(mp, "an object {type, detail}", "nothing (the field is required)");
        const json& m = r.object(o.at("mechanism"), mp);
        r.only(m, mp, {"type", "detail"});
        x.mechanism.type = r.req_string(m, mp, "type");
        x.mechanism.detail = r.opt_string(m, mp, "detail");
        static const std::set<std::string> types = {"pharmacokinetic", "pharmacodynamic",
                                                    "pharmacokinetic-and-pharmacodynamic", "unknown"};
        if (!types.count(x.mechanism.type))
            problems_.add(r.file(), child(mp, "type"),
                          "expected one of pharmacokinetic|pharmacodynamic|pharmacokinetic-and-pharmacodynamic|unknown, got \"" +
                              x.mechanism.type + "\"");
        x.management = r.req_string(o, p, "management");
        read_rule_common(r, o, p, x.severity, x.evidence, x.seriousness, x.sources);
        x.severity_basis = r.opt_string(o, p, "label_severity_basis");
        x.disagreement = r.opt_string(o, p, "disagreement");
        x.notes = r.opt_string(o, p, "notes");
        x.supersedes = r.opt_strings(o, p, "supersedes");
        pack_.interactions.push_back(std::move(x));
        pack_.interaction_origins.push_back(origin);
        defer('i', r, o, p);
    }

    void read_contraindication(const Reader& r, const json& o, const std::string& p, const Origin& origin) {
        r.only(o, p, {"id", "subject", "condition", "severity", "summary", "rationale", "management", "evidence",
                      "seriousness", "label_severity_basis", "sources", "disagreement", "notes"});
        ContraindicationRule x;
        x.id = r.req_string(o, p, "id");
        if (!o.contains("subject")) r.fail(child(p, "subject"), "a subject", "nothing (the field is required)");
        x.subject = participant(r, o.at("subject"), child(p, "subject"), true);
        x.condition = r.req_string(o, p, "condition");
        x.summary = r.req_string(o, p, "summary");
        x.rationale = r.req_string(o, p, "rationale");
        x.management = r.req_string(o, p, "management");
        read_rule_common(r, o, p, x.severity, x.evidence, x.seriousness, x.sources);
        x.disagreement = r.opt_string(o, p, "disagreement");
        x.notes = r.opt_string(o, p, "notes");
        pack_.contraindications.push_back(std::move(x));
        pack_.contraindication_origins.push_back(origin);
        defer('x', r, o, p);
    }

    void read_treatment(const Reader& r, const json& o, const std::string& p, const Origin& origin) {
        r.only(o, p, {"id", "name", "kind", "description", "substances", "treats", "complements", "sources", "notes"});
        Treatment t;
        t.id = r.req_string(o, p, "id");
        t.name = r.req_string(o, p, "name");
        t.kind = r.req_string(o, p, "kind");
        t.description = r.req_string(o, p, "description");
        t.substances = r.opt_strings(o, p, "substances");
        t.treats = r.opt_strings(o, p, "treats");
        t.complements = r.opt_strings(o, p, "complements");
        t.sources = citations(r, o, p, "sources", true);
        pack_.treatments.push_back(std::move(t));
        pack_.treatment_origins.push_back(origin);
        defer('t', r, o, p);
    }

    std::vector<ProfileItem> profile_items(const Reader& r, const json& o, const std::string& p, const char* key) {
        std::vector<ProfileItem> out;
        auto it = o.find(key);
        if (it == o.end() || it->is_null()) return out;
        const std::string ap = child(p, key);
        r.array(*it, ap);
        for (std::size_t i = 0; i < it->size(); ++i) {
            const std::string ep = child(ap, i);
            const json& m = r.object((*it)[i], ep);
            r.only(m, ep, {"id", "name", "description", "sources"});
            out.push_back({r.req_string(m, ep, "id"), r.req_string(m, ep, "name"), r.req_string(m, ep, "description"),
                           citations(r, m, ep, "sources", true)});
        }
        return out;
    }

    void read_profile(const Reader& r, const json& o, const std::string& p, const Origin& origin) {
        r.only(o, p, {"substance", "mechanisms", "benefits", "risks"});
        Profile x;
        x.substance = r.req_string(o, p, "substance");
        x.mechanisms = profile_items(r, o, p, "mechanisms");
        x.benefits = profile_items(r, o, p, "benefits");
        x.risks = profile_items(r, o, p, "risks");
        pack_.profiles.push_back(std::move(x));
        pack_.profile_origins.push_back(origin);
        defer('f', r, o, p);
    }

    void defer(char kind, const Reader& r, const json& o, const std::string& p) {
        deferred_.push_back({r, &o, p});
        deferred_kind_.push_back(kind);
    }

public:
    // After every section is read the entity vectors no longer move: record where each citation
    // lives so that grades defaulting to the source's grade can be filled in.
    void collect_citations() {
        std::size_t counters[128] = {};
        for (std::size_t k = 0; k < deferred_.size(); ++k) {
            const Deferred& d = deferred_[k];
            const char kind = deferred_kind_[k];
            const std::size_t idx = counters[static_cast<unsigned char>(kind)]++;
            auto add = [&](std::vector<Citation>& cits, const json* container, const std::string& ptr) {
                for (std::size_t i = 0; i < cits.size(); ++i) {
                    // Only a non-empty grade overrides the source's grade: `"grade": null` must not
                    // silently lift a weak source to secondary.
                    bool has = false;
                    if (container && container->is_array() && i < container->size() && (*container)[i].is_object()) {
                        auto g = (*container)[i].find("grade");
                        has = g != (*container)[i].end() && g->is_string() && !g->get<std::string>().empty();
                    }
                    pending.push_back({&cits[i], has, d.reader.file(), child(ptr, i)});
                }
            };
            auto field = [&](const json& obj, const char* key) -> const json* {
                auto it = obj.find(key);
                return it == obj.end() ? nullptr : &*it;
            };
            const json& o = *d.obj;
            switch (kind) {
                case 's': add(pack_.substances[idx].identifier_sources, field(o, "identifier_sources"),
                              child(d.ptr, "identifier_sources")); break;
                case 'p': {
                    auto& x = pack_.products[idx];
                    add(x.sources, field(o, "sources"), child(d.ptr, "sources"));
                    add(x.identifier_sources, field(o, "identifier_sources"), child(d.ptr, "identifier_sources"));
                    for (std::size_t m = 0; m < x.inactive_ingredients.size(); ++m) {
                        const std::string mp = child(child(d.ptr, "inactive_ingredients"), m);
                        add(x.inactive_ingredients[m].sources, field(o.at("inactive_ingredients")[m], "sources"),
                            child(mp, "sources"));
                    }
                    break;
                }
                case 'i': add(pack_.interactions[idx].sources, field(o, "sources"), child(d.ptr, "sources")); break;
                case 'x': add(pack_.contraindications[idx].sources, field(o, "sources"), child(d.ptr, "sources")); break;
                case 't': add(pack_.treatments[idx].sources, field(o, "sources"), child(d.ptr, "sources")); break;
                case 'c': {
                    auto& c = pack_.classes[idx];
                    for (std::size_t m = 0; m < c.members.size(); ++m) {
                        const std::string mp = child(child(d.ptr, "members"), m);
                        add(c.members[m].sources, field(o.at("members")[m], "sources"), child(mp, "sources"));
                    }
                    if (c.duplicate_therapy)
                        add(c.duplicate_therapy->sources, field(o.at("duplicate_therapy"), "sources"),
                            child(child(d.ptr, "duplicate_therapy"), "sources"));
                    break;
                }
                case 'n': {
                    auto& c = pack_.conditions[idx];
                    for (std::size_t m = 0; m < c.symptoms.size(); ++m) {
                        const std::string mp = child(child(d.ptr, "symptoms"), m);
                        add(c.symptoms[m].sources, field(o.at("symptoms")[m], "sources"), child(mp, "sources"));
                    }
                    break;
                }
                case 'f': {
                    auto& pr = pack_.profiles[idx];
                    auto items = [&](std::vector<ProfileItem>& v, const char* key) {
                        for (std::size_t m = 0; m < v.size(); ++m) {
                            const std::string mp = child(child(d.ptr, key), m);
                            add(v[m].sources, field(o.at(key)[m], "sources"), child(mp, "sources"));
                        }
                    };
                    items(pr.mechanisms, "mechanisms");
                    items(pr.benefits, "benefits");
                    items(pr.risks, "risks");
                    break;
                }
                default: break;
            }
        }
    }

private:
    PackData& pack_;
    Problems& problems_;
    std::vector<Deferred> deferred_;
    std::vector<char> deferred_kind_;
};

const std::vector<std::string>& section_names() {
    static const std::vector<std::string> names = {"sources", "substances", "products", "classes", "conditions",
                                                   "interactions", "contraindications", "treatments", "profiles"};
    return names;
}

void read_manifest(const Reader& r, const json& m, const std::string& ptr, PackInfo& info) {
    r.object(m, ptr);
    r.only(m, ptr, {"name", "version", "format_version", "licence", "description", "files"});
    const std::string vp = child(ptr, "format_version");
    auto fv = m.find("format_version");
    if (fv == m.end()) r.fail(vp, "an integer", "nothing (the field is required)");
    if (!fv->is_number_integer()) r.fail(vp, "an integer", describe(*fv));
    const long long version = fv->get<long long>();
    if (version != kFormatVersion) throw UnsupportedFormatVersion(r.file(), version, kFormatVersion);
    info.format_version = static_cast<int>(version);
    info.name = r.req_string(m, ptr, "name");
    info.version = r.req_string(m, ptr, "version");
    info.licence = r.req_string(m, ptr, "licence");
    info.description = r.opt_string(m, ptr, "description");
}

// ^[a-z0-9]+(-[a-z0-9]+)*$ without std::regex, which dominated load time on large packs.
bool is_slug(const std::string& id) {
    if (id.empty() || id.front() == '-' || id.back() == '-') return false;
    char prev = 0;
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok || (c == '-' && prev == '-')) return false;
        prev = c;
    }
    return true;
}

// Finds a cycle in a parent graph (child -> parents) and returns it as "a -> b -> a", or "".
std::vector<std::string> find_cycles(const std::vector<std::string>& ids,
                                     const std::vector<std::vector<std::string>>& parents) {
    using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
    std::unordered_map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < ids.size(); ++i) index.emplace(ids[i], i);
    Graph g(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
        for (const auto& p : parents[i])
            if (auto it = index.find(p); it != index.end()) boost::add_edge(i, it->second, g);

    struct Visitor : boost::default_dfs_visitor {
        std::vector<std::pair<std::size_t, std::size_t>>* back_edges;
        void back_edge(Graph::edge_descriptor e, const Graph& graph) const {
            back_edges->emplace_back(boost::source(e, graph), boost::target(e, graph));
        }
    };
    std::vector<std::pair<std::size_t, std::size_t>> back;
    Visitor vis;
    vis.back_edges = &back;
    boost::depth_first_search(g, boost::visitor(vis));

    std::vector<std::string> out;
    for (auto [from, to] : back) {
        // Walk parents from `to` until `from` to print the cycle.
        std::vector<std::size_t> path{to};
        std::vector<int> prev(ids.size(), -1);
        std::vector<std::size_t> queue{to};
        std::vector<bool> seen(ids.size(), false);
        seen[to] = true;
        bool found = (to == from);
        for (std::size_t q = 0; q < queue.size() && !found; ++q) {
            for (auto [e, end] = boost::out_edges(queue[q], g); e != end && !found; ++e) {
                std::size_t t = boost::target(*e, g);
                if (seen[t]) continue;
                seen[t] = true;
                prev[t] = static_cast<int>(queue[q]);
                if (t == from) found = true;
                queue.push_back(t);
            }
        }
        std::vector<std::string> names;
        for (int v = static_cast<int>(from); v != -1 && static_cast<std::size_t>(v) != to; v = prev[v])
            names.push_back(ids[v]);
        names.push_back(ids[to]);
        std::reverse(names.begin(), names.end());
        std::string text;
        for (const auto& n : names) text += n + " -> ";
        text += ids[to];
        out.push_back(text);
    }
    return out;
}

void check_integrity(PackData& pack, Problems& problems, const std::string& pack_file) {
    // Ids: well-formed and unique across every entity kind.
    std::unordered_map<std::string, std::pair<EntityKind, std::string>> ids;  // id -> kind, origin
    std::unordered_map<std::string, std::size_t> source_index;
    auto declare = [&](const std::string& id, EntityKind kind, const Origin& o, const char* what) {
        if (!is_slug(id)) {
            problems.add(o.file, child(o.pointer, "id"),
                         "id \"" + id + "\" is not a lowercase slug ([a-z0-9]+ joined by single hyphens)");
        }
        auto [it, inserted] = ids.emplace(id, std::make_pair(kind, o.str()));
        if (!inserted)
            problems.add(o.file, child(o.pointer, "id"),
                         std::string("duplicate id \"") + id + "\" (" + what + "; first defined at " + it->second.second + ")");
    };
    for (std::size_t i = 0; i < pack.sources.size(); ++i) {
        const auto& s = pack.sources[i];
        if (!is_slug(s.id)) problems.add(pack.source_origins[i].file, child(pack.source_origins[i].pointer, "id"),
                                         "id \"" + s.id + "\" is not a lowercase slug");
        auto [it, inserted] = source_index.emplace(s.id, i);
        if (!inserted)
            problems.add(pack.source_origins[i].file, child(pack.source_origins[i].pointer, "id"),
                         "duplicate source id \"" + s.id + "\" (first defined at " + pack.source_origins[it->second].str() + ")");
    }
    for (std::size_t i = 0; i < pack.substances.size(); ++i)
        declare(pack.substances[i].id, EntityKind::Substance, pack.substance_origins[i], "substance");
    for (std::size_t i = 0; i < pack.products.size(); ++i)
        declare(pack.products[i].id, EntityKind::Product, pack.product_origins[i], "product");
    for (std::size_t i = 0; i < pack.classes.size(); ++i)
        declare(pack.classes[i].id, EntityKind::Class, pack.class_origins[i], "class");
    for (std::size_t i = 0; i < pack.conditions.size(); ++i)
        declare(pack.conditions[i].id, EntityKind::Condition, pack.condition_origins[i], "condition");
    for (std::size_t i = 0; i < pack.treatments.size(); ++i)
        declare(pack.treatments[i].id, EntityKind::Treatment, pack.treatment_origins[i], "treatment");
    {
        std::unordered_map<std::string, std::string> rule_ids;
        auto rule = [&](const std::string& id, const Origin& o) {
            if (!is_slug(id)) problems.add(o.file, child(o.pointer, "id"), "id \"" + id + "\" is not a lowercase slug");
            auto [it, inserted] = rule_ids.emplace(id, o.str());
            if (!inserted)
                problems.add(o.file, child(o.pointer, "id"), "duplicate rule id \"" + id + "\" (first defined at " + it->second + ")");
        };
        for (std::size_t i = 0; i < pack.interactions.size(); ++i) rule(pack.interactions[i].id, pack.interaction_origins[i]);
        for (std::size_t i = 0; i < pack.contraindications.size(); ++i)
            rule(pack.contraindications[i].id, pack.contraindication_origins[i]);
    }

    auto expect = [&](const std::string& id, EntityKind kind, const std::string& file, const std::string& pointer) {
        auto it = ids.find(id);
        if (it == ids.end()) {
            problems.add(file, pointer, std::string("unknown ") + std::string(to_string(kind)) + " \"" + id + "\"");
        } else if (it->second.first != kind) {
            problems.add(file, pointer, "\"" + id + "\" is a " + std::string(to_string(it->second.first)) + ", expected a " +
                                            std::string(to_string(kind)));
        }
    };

    // References.
    for (std::size_t i = 0; i < pack.products.size(); ++i) {
        const auto& o = pack.product_origins[i];
        for (std::size_t k = 0; k < pack.products[i].ingredients.size(); ++k)
            expect(pack.products[i].ingredients[k], EntityKind::Substance, o.file, child(child(o.pointer, "ingredients"), k));
    }
    std::vector<std::string> class_ids;
    std::vector<std::vector<std::string>> class_parents;
    for (std::size_t i = 0; i < pack.classes.size(); ++i) {
        const auto& c = pack.classes[i];
        const auto& o = pack.class_origins[i];
        for (std::size_t k = 0; k < c.parents.size(); ++k)
            expect(c.parents[k], EntityKind::Class, o.file, child(child(o.pointer, "parents"), k));
        std::set<std::string> seen;
        for (std::size_t k = 0; k < c.members.size(); ++k) {
            const std::string mp = child(child(o.pointer, "members"), k);
            expect(c.members[k].substance, EntityKind::Substance, o.file, child(mp, "substance"));
            if (!seen.insert(c.members[k].substance).second)
                problems.add(o.file, child(mp, "substance"), "\"" + c.members[k].substance + "\" is listed twice in class \"" + c.id + "\"");
        }
        class_ids.push_back(c.id);
        class_parents.push_back(c.parents);
    }
    for (const auto& cycle : find_cycles(class_ids, class_parents))
        problems.add(pack_file, "/classes", "class hierarchy has a cycle: " + cycle);

    std::vector<std::string> cond_ids;
    std::vector<std::vector<std::string>> cond_parents;
    for (std::size_t i = 0; i < pack.conditions.size(); ++i) {
        const auto& c = pack.conditions[i];
        const auto& o = pack.condition_origins[i];
        for (std::size_t k = 0; k < c.parents.size(); ++k)
            expect(c.parents[k], EntityKind::Condition, o.file, child(child(o.pointer, "parents"), k));
        cond_ids.push_back(c.id);
        cond_parents.push_back(c.parents);
    }
    for (const auto& cycle : find_cycles(cond_ids, cond_parents))
        problems.add(pack_file, "/conditions", "condition hierarchy has a cycle: " + cycle);

    for (std::size_t i = 0; i < pack.interactions.size(); ++i) {
        const auto& x = pack.interactions[i];
        const auto& o = pack.interaction_origins[i];
        expect(x.first.id, x.first.kind, o.file, child(child(o.pointer, "participants"), 0));
        expect(x.second.id, x.second.kind, o.file, child(child(o.pointer, "participants"), 1));
        if (x.first.kind == x.second.kind && x.first.id == x.second.id && x.first.kind == EntityKind::Substance)
            problems.add(o.file, child(o.pointer, "participants"), "a substance cannot interact with itself");
    }
    {
        std::unordered_set<std::string> interaction_ids;
        for (const auto& x : pack.interactions) interaction_ids.insert(x.id);
        for (std::size_t i = 0; i < pack.interactions.size(); ++i) {
            const auto& x = pack.interactions[i];
            const auto& o = pack.interaction_origins[i];
            for (std::size_t k = 0; k < x.supersedes.size(); ++k) {
                const std::string sp = child(child(o.pointer, "supersedes"), k);
                if (!interaction_ids.count(x.supersedes[k]))
                    problems.add(o.file, sp, "unknown interaction rule \"" + x.supersedes[k] + "\"");
                else if (x.supersedes[k] == x.id)
                    problems.add(o.file, sp, "a rule cannot supersede itself");
            }
        }
    }
    for (std::size_t i = 0; i < pack.contraindications.size(); ++i) {
        const auto& x = pack.contraindications[i];
        const auto& o = pack.contraindication_origins[i];
        expect(x.subject.id, x.subject.kind, o.file, child(o.pointer, "subject"));
        expect(x.condition, EntityKind::Condition, o.file, child(o.pointer, "condition"));
    }
    for (std::size_t i = 0; i < pack.treatments.size(); ++i) {
        const auto& t = pack.treatments[i];
        const auto& o = pack.treatment_origins[i];
        for (std::size_t k = 0; k < t.substances.size(); ++k)
            expect(t.substances[k], EntityKind::Substance, o.file, child(child(o.pointer, "substances"), k));
        for (std::size_t k = 0; k < t.treats.size(); ++k)
            expect(t.treats[k], EntityKind::Condition, o.file, child(child(o.pointer, "treats"), k));
        for (std::size_t k = 0; k < t.complements.size(); ++k)
            expect(t.complements[k], EntityKind::Treatment, o.file, child(child(o.pointer, "complements"), k));
    }
    for (std::size_t i = 0; i < pack.profiles.size(); ++i)
        expect(pack.profiles[i].substance, EntityKind::Substance, pack.profile_origins[i].file,
               child(pack.profile_origins[i].pointer, "substance"));
}

// Fills default citation grades and checks that cited sources exist and that no rule claims
// better evidence than its citations carry (an "unverified fact presented as established").
void check_citations(PackData& pack, const std::vector<PendingCitation>& pending, Problems& problems) {
    std::unordered_map<std::string, const Source*> sources;
    for (const auto& s : pack.sources) sources.emplace(s.id, &s);
    std::unordered_set<const Citation*> dangling;
    for (const auto& pc : pending) {
        auto it = sources.find(pc.citation->source);
        if (it == sources.end()) {
            dangling.insert(pc.citation);
            problems.add(pc.file, child(pc.pointer, "source"), "unknown source \"" + pc.citation->source + "\"");
            continue;
        }
        if (!pc.has_grade) pc.citation->grade = it->second->grade;
    }
    auto check_rule = [&](const std::vector<Citation>& cits, EvidenceGrade claimed, const Origin& o) {
        if (cits.empty()) return;
        for (const auto& c : cits)
            if (dangling.count(&c)) return;  // already reported; its grade is unknown
        EvidenceGrade best = EvidenceGrade::Derived;
        for (const auto& c : cits) best = std::min(best, c.grade);
        if (claimed < best)
            problems.add(o.file, child(o.pointer, "evidence"),
                         "evidence \"" + std::string(to_string(claimed)) + "\" is stronger than any citation (best: " +
                             std::string(to_string(best)) + ")");
        if (best == EvidenceGrade::Weak)
            problems.add(o.file, child(o.pointer, "sources"), "a rule cannot rest on weak sources only");
    };
    for (std::size_t i = 0; i < pack.interactions.size(); ++i)
        check_rule(pack.interactions[i].sources, pack.interactions[i].evidence, pack.interaction_origins[i]);
    // Class membership drives class rules, so it needs the same footing as a rule.
    for (std::size_t c = 0; c < pack.classes.size(); ++c) {
        const auto& cls = pack.classes[c];
        for (std::size_t m = 0; m < cls.members.size(); ++m) {
            const auto& cits = cls.members[m].sources;
            if (cits.empty()) continue;
            bool known = true, strong = false;
            for (const auto& cit : cits) {
                known = known && !dangling.count(&cit);
                strong = strong || cit.grade != EvidenceGrade::Weak;
            }
            if (known && !strong)
                problems.add(pack.class_origins[c].file,
                             child(child(child(pack.class_origins[c].pointer, "members"), m), "sources"),
                             "membership of \"" + cls.members[m].substance + "\" in class \"" + cls.id +
                                 "\" rests on weak sources only");
        }
    }
    for (std::size_t i = 0; i < pack.contraindications.size(); ++i)
        check_rule(pack.contraindications[i].sources, pack.contraindications[i].evidence,
                   pack.contraindication_origins[i]);
}

void finish(PackData& pack, PackReader& reader, Problems& problems, const std::string& pack_file) {
    reader.collect_citations();
    check_integrity(pack, problems, pack_file);
    check_citations(pack, reader.pending, problems);
    if (!problems.list.empty()) throw IntegrityError(pack_file, problems.list);
    auto& info = pack.info;
    info.substances = pack.substances.size();
    info.products = pack.products.size();
    info.classes = pack.classes.size();
    info.class_memberships = 0;
    for (const auto& c : pack.classes) info.class_memberships += c.members.size();
    info.conditions = pack.conditions.size();
    info.interactions = pack.interactions.size();
    info.contraindications = pack.contraindications.size();
    info.treatments = pack.treatments.size();
    info.sources = pack.sources.size();
}

void merge_section(json& bundled, const std::string& section, const json& items) {
    json& target = bundled[section];
    if (target.is_null()) target = json::array();
    for (const auto& item : items) target.push_back(item);
}

}  // namespace

std::string read_file_limited(const std::filesystem::path& path, const std::string& display, std::size_t max_bytes) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) throw DataError(display, display + ": no such file");
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw DataError(display, display + ": cannot read (" + ec.message() + ")");
    if (size > max_bytes)
        throw DataError(display, display + ": file is " + std::to_string(size) + " bytes, over the limit of " +
                                     std::to_string(max_bytes) + " bytes");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw DataError(display, display + ": cannot open");
    std::string text(static_cast<std::size_t>(size), '\0');
    in.read(text.data(), static_cast<std::streamsize>(size));
    if (!in) throw DataError(display, display + ": cannot read");
    return text;
}

json parse_json(const std::string& file, std::string_view text, std::size_t max_bytes) {
    if (text.size() > max_bytes)
        throw DataError(file, file + ": text is " + std::to_string(text.size()) + " bytes, over the limit of " +
                                  std::to_string(max_bytes) + " bytes");
    try {
        return json::parse(text.begin(), text.end());
    } catch (const json::parse_error& e) {
        // nlohmann reports the 1-based index of the byte it stopped at.
        std::size_t offset = e.byte > 0 ? e.byte - 1 : 0;
        if (offset > text.size()) offset = text.size();
        std::size_t line = 1, column = 1;
        for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
            if (text[i] == '\n') { ++line; column = 1; }
            else ++column;
        }
        std::string detail = e.what();
        // Keep nlohmann's explanation but drop its "[json.exception.parse_error.101] parse error at ..." prefix.
        if (auto pos = detail.find(": syntax error"); pos != std::string::npos) detail = detail.substr(pos + 2);
        else if (auto pos2 = detail.rfind(": "); pos2 != std::string::npos) detail = detail.substr(pos2 + 2);
        throw ParseError(file, line, column, offset, detail);
    }
}

PackData load_manifest_pack(const PackFile& manifest, const std::function<PackFile(const std::string&)>& read,
                            const LoadOptions& options) {
    PackData pack;
    Problems problems;
    PackReader reader(pack, problems);
    const json m = parse_json(manifest.name, manifest.text, options.max_file_bytes);
    Reader mr(manifest.name);
    read_manifest(mr, m, "", pack.info);
    const auto files = mr.opt_strings(m, "", "files");
    if (files.empty()) mr.fail("/files", "a non-empty array of data file names", m.contains("files") ? "[]" : "nothing");

    // Parse everything first: documents must outlive the citation bookkeeping.
    std::vector<std::pair<std::string, json>> docs;
    for (const auto& f : files) {
        PackFile pf = read(f);
        docs.emplace_back(pf.name, parse_json(pf.name, pf.text, options.max_file_bytes));
    }
    json bundled = json::object();
    json man = m;
    man.erase("files");
    bundled["manifest"] = man;
    for (const auto& [name, doc] : docs) {
        Reader r(name);
        r.object(doc, "");
        for (const auto& item : doc.items()) {
            const auto& names = section_names();
            if (std::find(names.begin(), names.end(), item.key()) == names.end()) {
                std::string list;
                for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
                r.fail("/" + escape_pointer_token(item.key()), "one of the sections " + list,
                       "unknown section \"" + item.key() + "\"");
            }
            reader.read_section(r, item.key(), item.value(), "/" + item.key());
            merge_section(bundled, item.key(), item.value());
        }
    }
    finish(pack, reader, problems, manifest.name);
    pack.bundled = std::move(bundled);
    return pack;
}

PackData load_bundled_pack(const PackFile& file, const LoadOptions& options) {
    PackData pack;
    Problems problems;
    PackReader reader(pack, problems);
    json doc = parse_json(file.name, file.text, options.max_file_bytes);
    Reader r(file.name);
    r.object(doc, "");
    if (!doc.contains("manifest"))
        r.fail("/manifest", "the pack manifest (a bundled pack is {\"manifest\": {...}, \"sources\": [...], ...})",
               "nothing");
    read_manifest(r, doc.at("manifest"), "/manifest", pack.info);
    for (const auto& item : doc.items()) {
        if (item.key() == "manifest") continue;
        const auto& names = section_names();
        if (std::find(names.begin(), names.end(), item.key()) == names.end()) {
            std::string list;
            for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
            r.fail("/" + escape_pointer_token(item.key()), "manifest or one of the sections " + list,
                   "unknown section \"" + item.key() + "\"");
        }
        reader.read_section(r, item.key(), item.value(), "/" + item.key());
    }
    finish(pack, reader, problems, file.name);
    doc["manifest"].erase("files");
    pack.bundled = std::move(doc);
    return pack;
}

}  // namespace rxcaution::detail
