// The regimen check. Every input pair costs one probe of the compiled pair index per ingredient
// pair; class rules were already expanded at load time, so nothing here walks the class graph
// except to print an explanation for a warning that fired.

#include "detail/impl.hpp"

#include <algorithm>
#include <map>
#include <tuple>

namespace rxcaution::detail {

namespace {

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

std::string participant_text(const Participant& p) {
    return (p.kind == EntityKind::Substance ? std::string() : std::string(to_string(p.kind)) + " ") + p.id;
}

}  // namespace

Report KnowledgeBaseImpl::check(const std::vector<std::string>& medications, const CheckContext& context) const {
    Report report;
    report.pack_name = pack.info.name;
    report.pack_version = pack.info.version;

    // --- resolve inputs -------------------------------------------------------------------
    const std::size_t n = medications.size();
    std::vector<std::vector<std::uint32_t>> ingredients(n);
    report.inputs.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        report.inputs.push_back(resolve(medications[i]));
        const Resolution& res = report.inputs.back();
        if (!res.resolved) continue;
        if (res.kind == EntityKind::Product) ingredients[i] = product_active_ingredients[product_index.at(res.id)];
        else ingredients[i] = {substance_index.at(res.id)};
    }
    // Patient conditions, expanded to their ancestors; remember which typed condition led where.
    std::map<std::uint32_t, std::pair<std::size_t, std::uint32_t>> patient_conditions;  // ancestor -> (input, typed)
    for (std::size_t c = 0; c < context.conditions.size(); ++c) {
        report.conditions.push_back(resolve_condition(context.conditions[c]));
        const auto& cr = report.conditions.back();
        if (!cr.resolved) continue;
        const std::uint32_t ci = condition_index.at(cr.id);
        for (std::uint32_t a : condition_ancestors[ci]) patient_conditions.emplace(a, std::make_pair(c, ci));
    }

    auto input_step = [&](std::size_t i) {
        const Resolution& r = report.inputs[i];
        std::string step = in_quotes(r.input) + " resolved to " + std::string(to_string(r.kind)) + " " + r.name;
        if (r.matched_by != "name" && r.matched_by != "id" && r.matched_by != "brand")
            step += " (by " + r.matched_by + ")";
        if (r.kind == EntityKind::Product) {
            step += ", which contains ";
            for (std::size_t k = 0; k < r.ingredients.size(); ++k)
                step += (k ? (k + 1 == r.ingredients.size() ? " and " : ", ") : "") + r.ingredients[k];
            for (const auto& nc : r.not_checked) step += " (not checked for interactions: " + nc + ")";
        }
        return step;
    };
    auto membership_step = [&](std::uint32_t s, const Participant& p) -> std::string {
        if (p.kind != EntityKind::Class) return {};
        const auto path = class_path(s, class_index.at(p.id));
        std::string step = pack.substances[s].id + " is a member of " + path.front();
        for (std::size_t k = 1; k < path.size(); ++k) step += ", a subclass of " + path[k];
        return step;
    };
    auto source_refs = [&](const std::vector<Citation>& cits) {
        std::vector<SourceRef> out;
        for (const auto& c : cits) {
            const Source& s = pack.sources[source_index.at(c.source)];
            out.push_back({s.id, s.title, c.section, s.url, c.grade});
        }
        return out;
    };

    std::vector<Warning> warnings;
    struct Key {
        int kind;
        std::uint32_t rule;
        std::size_t a, b;
        bool operator<(const Key& o) const { return std::tie(kind, rule, a, b) < std::tie(o.kind, o.rule, o.a, o.b); }
    };
    std::map<Key, std::size_t> seen;

    auto add_interaction = [&](std::uint32_t r, std::size_t i, std::size_t j, std::uint32_t a, std::uint32_t b) {
        const InteractionRule& rule = pack.interactions[r];
        if (rule.severity < context.min_severity) return;
        const Key key{0, r, i, j};
        if (seen.count(key)) return;
        seen.emplace(key, warnings.size());
        // Orient the pair to the rule's participants for the explanation.
        std::uint32_t first = a, second = b;
        if (!(matches(a, rule.first) && matches(b, rule.second)) &&
            (matches(b, rule.first) || matches(a, rule.second)))
            std::swap(first, second);
        Warning w;
        w.kind = WarningKind::DrugDrug;
        w.severity = rule.severity;
        w.rule = rule.id;
        w.id = rule.id + ":" + std::min(pack.substances[a].id, pack.substances[b].id) + "+" +
               std::max(pack.substances[a].id, pack.substances[b].id);
        w.inputs = {report.inputs[i].input, report.inputs[j].input};
        w.input_indexes = {i, j};
        w.substances = {pack.substances[a].id, pack.substances[b].id};
        w.summary = report.inputs[i].input + " + " + report.inputs[j].input + ": " + rule.summary;
        w.effect = rule.effect;
        w.mechanism = rule.mechanism.type + (rule.mechanism.detail.empty() ? "" : ": " + rule.mechanism.detail);
        w.management = rule.management;
        w.evidence = rule.evidence;
        w.seriousness = rule.seriousness;
        w.disagreement = rule.disagreement;
        w.sources = source_refs(rule.sources);
        w.explanation = {input_step(i), input_step(j)};
        for (auto [s, part] : {std::pair{first, &rule.first}, std::pair{second, &rule.second}}) {
            std::string m = membership_step(s, *part);
            if (!m.empty()) w.explanation.push_back(std::move(m));
        }
        w.explanation.push_back("rule " + rule.id + ": " + participant_text(rule.first) + " x " +
                                participant_text(rule.second) + " (" + std::string(to_string(rule.severity)) +
                                ", evidence " + std::string(to_string(rule.evidence)) + ")");
        warnings.push_back(std::move(w));
    };
    auto add_class_duplicate = [&](std::uint32_t c, std::size_t i, std::size_t j, std::uint32_t a, std::uint32_t b) {
        const DrugClass& cls = pack.classes[c];
        if (cls.duplicate_therapy->severity < context.min_severity) return;
        const Key key{3, c, i, j};
        if (seen.count(key)) return;
        seen.emplace(key, warnings.size());
        Warning w;
        w.kind = WarningKind::DuplicateTherapy;
        w.severity = cls.duplicate_therapy->severity;
        w.rule = cls.id;
        w.id = "duplicate-class:" + cls.id + ":" + std::to_string(i) + "-" + std::to_string(j);
        w.inputs = {report.inputs[i].input, report.inputs[j].input};
        w.input_indexes = {i, j};
        w.substances = {pack.substances[a].id};
        if (b != a) w.substances.push_back(pack.substances[b].id);
        w.summary = report.inputs[i].input + " + " + report.inputs[j].input + ": duplicate therapy (" + cls.name + ")";
        w.effect = "Two medicines of the same class (" + cls.name + ") are taken together.";
        w.mechanism = "Same therapeutic class";
        w.management = cls.duplicate_therapy->management;
        w.evidence = EvidenceGrade::Secondary;
        for (const auto& cit : cls.duplicate_therapy->sources) w.evidence = std::min(w.evidence, cit.grade);
        w.sources = source_refs(cls.duplicate_therapy->sources);
        w.explanation = {input_step(i), input_step(j), membership_step(a, {EntityKind::Class, cls.id})};
        if (b != a) w.explanation.push_back(membership_step(b, {EntityKind::Class, cls.id}));
        w.explanation.push_back("class " + cls.id + " is marked for duplicate-therapy checks");
        warnings.push_back(std::move(w));
    };

    // --- drug-drug and duplicate therapy ----------------------------------------------------
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = i + 1; j < n; ++j) {
            for (std::uint32_t a : ingredients[i]) {
                for (std::uint32_t b : ingredients[j]) {
                    if (a == b) {
                        if (!context.duplicate_therapy) continue;
                        if (!duplicate_classes_by_substance[a].empty()) {
                            for (std::uint32_t c : duplicate_classes_by_substance[a]) add_class_duplicate(c, i, j, a, a);
                            continue;
                        }
                        const Key key{2, a, i, j};
                        if (seen.count(key)) continue;
                        seen.emplace(key, warnings.size());
                        const auto& s = pack.substances[a];
                        Warning w;
                        w.kind = WarningKind::DuplicateTherapy;
                        w.severity = Severity::Moderate;
                        w.rule = "duplicate-ingredient";
                        w.id = "duplicate-ingredient:" + s.id + ":" + std::to_string(i) + "-" + std::to_string(j);
                        w.inputs = {report.inputs[i].input, report.inputs[j].input};
                        w.input_indexes = {i, j};
                        w.substances = {s.id};
                        w.summary = report.inputs[i].input + " + " + report.inputs[j].input + ": both contain " + s.name;
                        w.effect = "The same ingredient is taken twice; the combined dose may be higher than intended.";
                        w.mechanism = "Same active ingredient";
                        w.management = "Confirm that both are intended and count the combined dose of " + s.name + ".";
                        w.evidence = EvidenceGrade::Derived;
                        w.explanation = {input_step(i), input_step(j),
                                         s.id + " is an ingredient of both inputs (duplicate ingredient; derived by rxcaution, not a sourced rule)"};
                        warnings.push_back(std::move(w));
                        continue;
                    }
                    std::size_t count = 0;
                    const std::uint32_t* rules = rules_for_pair(a, b, count);
                    for (std::size_t k = 0; k < count; ++k) add_interaction(rules[k], i, j, a, b);
                    if (context.duplicate_therapy)
                        for (std::uint32_t c : duplicate_classes_by_substance[a])
                            if (in_class(b, c)) add_class_duplicate(c, i, j, a, b);
                }
            }
        }
    }

    // Rules stated for one product (e.g. a depot formulation) fire only when that product is an input.
    for (std::size_t i = 0; i < n; ++i) {
        const Resolution& res = report.inputs[i];
        if (!res.resolved || res.kind != EntityKind::Product) continue;
        for (std::uint32_t r : interactions_by_product[product_index.at(res.id)]) {
            const InteractionRule& rule = pack.interactions[r];
            const bool this_first = rule.first.kind == EntityKind::Product && rule.first.id == res.id;
            const Participant& mine = this_first ? rule.first : rule.second;
            const Participant& other = this_first ? rule.second : rule.first;
            const std::int64_t a = input_matches(res, ingredients[i], mine);
            if (a < 0) continue;
            for (std::size_t j = 0; j < n; ++j) {
                if (j == i) continue;
                const std::int64_t b = input_matches(report.inputs[j], ingredients[j], other);
                if (b < 0 || b == a) continue;
                if (i < j) add_interaction(r, i, j, static_cast<std::uint32_t>(a), static_cast<std::uint32_t>(b));
                else add_interaction(r, j, i, static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(a));
            }
        }
    }

    // --- drug-condition ---------------------------------------------------------------------
    if (!patient_conditions.empty()) {
        for (std::size_t i = 0; i < n; ++i) {
            const Resolution& res = report.inputs[i];
            if (!res.resolved) continue;
            std::vector<std::pair<std::uint32_t, std::int64_t>> candidates;  // rule, substance (-1: product)
            if (res.kind == EntityKind::Product)
                for (std::uint32_t r : contraindications_by_product[product_index.at(res.id)]) candidates.emplace_back(r, -1);
            for (std::uint32_t s : ingredients[i])
                for (std::uint32_t r : contraindications_by_substance[s]) candidates.emplace_back(r, s);
            for (auto [r, s] : candidates) {
                const ContraindicationRule& rule = pack.contraindications[r];
                if (rule.severity < context.min_severity) continue;
                auto hit = patient_conditions.find(condition_index.at(rule.condition));
                if (hit == patient_conditions.end()) continue;
                const Key key{1, r, i, 0};
                if (seen.count(key)) continue;
                seen.emplace(key, warnings.size());
                const auto [typed_index, typed_condition] = hit->second;
                Warning w;
                w.kind = WarningKind::DrugCondition;
                w.severity = rule.severity;
                w.rule = rule.id;
                w.inputs = {res.input};
                w.input_indexes = {i};
                w.condition = rule.condition;
                if (s >= 0) w.substances = {pack.substances[static_cast<std::size_t>(s)].id};
                else w.substances = res.ingredients;
                w.id = rule.id + ":" + res.id;
                w.summary = res.input + " with " + report.conditions[typed_index].input + ": " + rule.summary;
                w.effect = rule.rationale;
                w.mechanism = "";
                w.management = rule.management;
                w.evidence = rule.evidence;
                w.seriousness = rule.seriousness;
                w.disagreement = rule.disagreement;
                w.sources = source_refs(rule.sources);
                w.explanation = {input_step(i)};
                if (s >= 0) {
                    std::string m = membership_step(static_cast<std::uint32_t>(s), rule.subject);
                    if (!m.empty()) w.explanation.push_back(std::move(m));
                }
                std::string cstep = "patient condition " + in_quotes(report.conditions[typed_index].input) + " resolved to " +
                                    pack.conditions[typed_condition].id;
                if (pack.conditions[typed_condition].id != rule.condition)
                    cstep += ", which falls under " + rule.condition;
                w.explanation.push_back(std::move(cstep));
                w.explanation.push_back("rule " + rule.id + ": " +
                                        (rule.subject.kind == EntityKind::Class ? "class " : "") + rule.subject.id +
                                        " in " + rule.condition + " (" + std::string(to_string(rule.severity)) +
                                        ", evidence " + std::string(to_string(rule.evidence)) + ")");
                warnings.push_back(std::move(w));
            }
        }
    }

    // A more specific rule replaces the general rules it names when both fired for the same inputs
    // (unless the general one is more severe);
    // the surviving warning says which one it replaced, so nothing disappears silently.
    {
        std::vector<char> drop(warnings.size(), 0);
        for (auto& w : warnings) {
            if (w.kind != WarningKind::DrugDrug) continue;
            const auto& sup = pack.interactions[interaction_index.at(w.rule)].supersedes;
            if (sup.empty()) continue;
            for (std::size_t k = 0; k < warnings.size(); ++k) {
                const Warning& other = warnings[k];
                if (other.kind != WarningKind::DrugDrug || other.input_indexes != w.input_indexes) continue;
                if (std::find(sup.begin(), sup.end(), other.rule) == sup.end()) continue;
                if (other.severity > w.severity) continue;  // never trade a warning for a milder one
                drop[k] = 1;
                w.explanation.push_back("supersedes the more general rule " + other.rule + " for this pair");
            }
        }
        std::vector<Warning> kept;
        kept.reserve(warnings.size());
        for (std::size_t k = 0; k < warnings.size(); ++k)
            if (!drop[k]) kept.push_back(std::move(warnings[k]));
        warnings = std::move(kept);
    }

    // Most severe first, then in the order the caller listed the inputs.
    std::stable_sort(warnings.begin(), warnings.end(), [](const Warning& x, const Warning& y) {
        if (x.severity != y.severity) return x.severity > y.severity;
        if (x.input_indexes != y.input_indexes) return x.input_indexes < y.input_indexes;
        if (x.kind != y.kind) return x.kind < y.kind;
        return x.rule < y.rule;
    });
    for (const auto& w : warnings)
        if (!report.max_severity || w.severity > *report.max_severity) report.max_severity = w.severity;
    report.warnings = std::move(warnings);
    return report;
}

}  // namespace rxcaution::detail

namespace rxcaution {

bool Report::complete() const noexcept {
    for (const auto& i : inputs)
        if (!i.resolved) return false;
    for (const auto& c : conditions)
        if (!c.resolved) return false;
    return true;
}

std::vector<std::string> Report::unresolved() const {
    std::vector<std::string> out;
    for (const auto& i : inputs)
        if (!i.resolved) out.push_back(i.input);
    return out;
}

}  // namespace rxcaution
