// Writing the English of a report, on demand, from the check's plain data (see detail/render.hpp).

#include "detail/render.hpp"

#include "detail/dose.hpp"

#include <algorithm>
#include <charconv>
#include <tuple>
#include <stdexcept>

namespace rxcaution {

namespace detail {

namespace {

std::string in_quotes(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '\'';
    out += s;
    out += '\'';
    return out;
}

std::string part_text(const KnowledgeBaseImpl& kb, const Part& p) {
    switch (p.kind) {
        case EntityKind::Class: return "class " + kb.pack.classes[p.index].id;
        case EntityKind::Product: return "product " + kb.pack.products[p.index].id;
        default: return kb.pack.substances[p.index].id;
    }
}

std::string rule_step(std::string_view id, const std::string& what, Severity severity, EvidenceGrade evidence) {
    std::string s = "rule ";
    s += id;
    s += ": ";
    s += what;
    s += " (";
    s += to_string(severity);
    s += ", evidence ";
    s += to_string(evidence);
    s += ")";
    return s;
}

// A dose in mg as people write it: "40", "2.5", "0.125".
std::string mg_text(double mg) {
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, mg, std::chars_format::general, 6);
    return std::string(buf, res.ptr);
}

}  // namespace

std::string join_names(const std::vector<std::string>& names, std::string_view separator) {
    std::string out;
    for (std::size_t k = 0; k < names.size(); ++k) {
        if (k) out += separator;
        out += names[k];
    }
    return out;
}

std::string did_you_mean_clause(const std::vector<std::string>& suggestions) {
    if (suggestions.empty()) return {};
    return "; did you mean " + join_names(suggestions) + "?";
}

std::string did_you_mean_sentence(const std::vector<std::string>& suggestions) {
    if (suggestions.empty()) return {};
    return "Did you mean: " + join_names(suggestions) + "?";
}

std::string not_known_sentence(std::string_view what, std::string_view input) {
    return "Not checked: '" + std::string(input) + "' is not a " + std::string(what) + " rxcaution knows";
}

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) {
            out += "\xEF\xBF\xBD";
            continue;
        }
        // C1 controls are U+0080..U+009F, encoded as C2 80..C2 9F.
        if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
            static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
            out += "\xEF\xBF\xBD";
            ++i;
            continue;
        }
        out += static_cast<char>(c);
    }
    return out;
}

std::string Renderer::input_step(std::size_t i) const {
    const InputRef& ref = d_.refs[i];
    if (ref.form == RefForm::Composite) {
        // An RxNorm-style name: its ingredients, as the report lists them.
        const Resolution r = kb_.resolution(d_.inputs[i], ref, {}, &d_.parts);
        std::string step = in_quotes(d_.inputs[i]) + " resolved by its RxNorm-style name to " + r.name +
                           ", whose checked ingredients are ";
        for (std::size_t k = 0; k < r.ingredients.size(); ++k)
            step += (k ? (k + 1 == r.ingredients.size() ? " and " : ", ") : "") + r.ingredients[k];
        for (const auto& nc : r.not_checked) step += " (not checked: " + nc + ")";
        return step;
    }
    std::string step = in_quotes(d_.inputs[i]) + " resolved to " + std::string(to_string(ref.kind)) + " ";
    if (ref.kind == EntityKind::Product) {
        const Product& p = kb_.pack.products[ref.index];
        step += p.name;
        if (ref.matched_by != MatchedBy::Name && ref.matched_by != MatchedBy::Id && ref.matched_by != MatchedBy::Brand)
            step += std::string(" (by ") + to_text(ref.matched_by) + ")";
        step += ", which contains ";
        for (std::size_t k = 0; k < p.ingredients.size(); ++k)
            step += (k ? (k + 1 == p.ingredients.size() ? " and " : ", ") : "") + p.ingredients[k];
        for (const auto& ii : p.inactive_ingredients)
            step += " (not checked for interactions: " + ii.substance + ": " + ii.note + ")";
    } else {
        step += kb_.pack.substances[ref.index].name;
        if (ref.matched_by != MatchedBy::Name && ref.matched_by != MatchedBy::Id && ref.matched_by != MatchedBy::Brand)
            step += std::string(" (by ") + to_text(ref.matched_by) + ")";
    }
    return step;
}

std::string Renderer::membership_step(std::uint32_t s, const Part& p) const {
    if (p.kind != EntityKind::Class) return {};
    const auto path = kb_.class_path(s, p.index);
    std::string step = kb_.pack.substances[s].id + " is a member of " + kb_.pack.classes[path.front()].id;
    for (std::size_t k = 1; k < path.size(); ++k) step += ", a subclass of " + kb_.pack.classes[path[k]].id;
    return step;
}

std::string Renderer::id(const Warning& w) const {
    const auto& pack = kb_.pack;
    switch (w.kind) {
        case WarningKind::DrugDrug: {
            const std::string& a = pack.substances[w.substance_a].id;
            const std::string& b = pack.substances[w.substance_b].id;
            return kb_.interaction(w.rule).id + ":" + std::min(a, b) + "+" + std::max(a, b);
        }
        case WarningKind::DrugCondition: {
            const InputRef& ref = d_.refs[w.input_a];
            const std::string& entity = ref.form == RefForm::Composite ? pack.substances[w.substance_a].id
                                        : ref.kind == EntityKind::Product ? pack.products[ref.index].id
                                                                          : pack.substances[ref.index].id;
            return pack.contraindications[w.rule].id + ":" + entity;
        }
        case WarningKind::Cumulative: {
            std::vector<std::string_view> ids;
            for_each_substance(w, [&](std::string_view id) { ids.push_back(id); });
            std::sort(ids.begin(), ids.end());
            std::string out = pack.cumulative_rules[w.rule].id + ":";
            for (std::size_t k = 0; k < ids.size(); ++k) {
                if (k) out += '+';
                out += ids[k];
            }
            return out;
        }
        case WarningKind::DuplicateTherapy:
            if (w.rule == kNone)
                return "duplicate-ingredient:" + pack.substances[w.substance_a].id + ":" + std::to_string(w.input_a) + "-" +
                       std::to_string(w.input_b);
            return "duplicate-class:" + pack.classes[w.rule].id + ":" + std::to_string(w.input_a) + "-" +
                   std::to_string(w.input_b);
    }
    return {};
}

std::string_view Renderer::rule_id(const Warning& w) const {
    switch (w.kind) {
        case WarningKind::DrugDrug: return kb_.interaction(w.rule).id;
        case WarningKind::DrugCondition: return kb_.pack.contraindications[w.rule].id;
        case WarningKind::Cumulative: return kb_.pack.cumulative_rules[w.rule].id;
        case WarningKind::DuplicateTherapy:
            return w.rule == kNone ? std::string_view("duplicate-ingredient") : std::string_view(kb_.pack.classes[w.rule].id);
    }
    return {};
}

std::vector<std::string> Renderer::inputs(const Warning& w) const {
    if (w.kind == WarningKind::Cumulative) {
        std::vector<std::string> out;
        for (std::uint32_t k = 0; k < w.implicated_count; ++k) out.push_back(d_.inputs[d_.implicated[w.implicated_begin + k].input]);
        return out;
    }
    if (w.input_b == kNone) return {d_.inputs[w.input_a]};
    return {d_.inputs[w.input_a], d_.inputs[w.input_b]};
}

std::vector<std::size_t> Renderer::input_indexes(const Warning& w) const {
    if (w.kind == WarningKind::Cumulative) {
        std::vector<std::size_t> out;
        for (std::uint32_t k = 0; k < w.implicated_count; ++k) out.push_back(d_.implicated[w.implicated_begin + k].input);
        return out;
    }
    if (w.input_b == kNone) return {w.input_a};
    return {w.input_a, w.input_b};
}

std::vector<std::string> Renderer::substances(const Warning& w) const {
    std::vector<std::string> out;
    for_each_substance(w, [&](std::string_view id) { out.emplace_back(id); });
    return out;
}

std::string_view Renderer::condition(const Warning& w) const {
    if (w.kind == WarningKind::Cumulative) return cumulative_condition(w);
    return w.kind == WarningKind::DrugCondition ? std::string_view(kb_.pack.contraindications[w.rule].condition)
                                                : std::string_view();
}

std::string_view Renderer::cumulative_condition(const Warning& w) const {
    if (w.kind != WarningKind::Cumulative || w.condition_input == kNone) return {};
    const auto& ancestors = kb_.condition_ancestors[static_cast<std::size_t>(d_.condition_refs[w.condition_input])];
    for (std::uint32_t c : kb_.cumulative_conditions[w.rule])
        if (std::find(ancestors.begin(), ancestors.end(), c) != ancestors.end()) return kb_.pack.conditions[c].id;
    return {};
}

std::vector<std::string> Renderer::dose_statements(const Warning& w) const {
    std::vector<std::string> out;
    if (w.kind != WarningKind::Cumulative) return out;
    const CumulativeRule& rule = kb_.pack.cumulative_rules[w.rule];
    const auto& substances = kb_.cumulative_dose_substances[w.rule];
    for (std::size_t t = 0; t < substances.size(); ++t) {
        const std::string threshold = mg_text(rule.dose_thresholds[t].above_mg_per_day) + " mg/day";
        const std::string& name = kb_.pack.substances[substances[t]].name;
        for (std::uint32_t k = 0; k < w.implicated_count; ++k) {
            const Implicated& m = d_.implicated[w.implicated_begin + k];
            if (m.substance != substances[t]) continue;
            const std::string& text = d_.inputs[m.input];
            const auto dose = parse_dose(text);
            std::string line = in_quotes(text) + ": ";
            if (!dose) {
                line += "dose of " + name + " not given, so it is unknown whether it is above the " + threshold +
                        " the source names";
            } else if (!dose->daily_known()) {
                line += mg_text(dose->amount_mg) + " mg per dose (" + std::string(dose->text) +
                        "), how often a day not given: compare the daily dose of " + name + " with the " + threshold +
                        " the source names";
            } else {
                const double daily = dose->mg_per_day();
                line += mg_text(daily) + " mg/day of " + name + " (" + std::string(dose->text) + "), " +
                        (daily > rule.dose_thresholds[t].above_mg_per_day ? "above" : "not above") + " the " +
                        threshold + " the source names";
            }
            out.push_back(std::move(line));
        }
    }
    return out;
}

std::string Renderer::summary(const Warning& w) const {
    const auto& pack = kb_.pack;
    switch (w.kind) {
        case WarningKind::DrugDrug:
            return d_.inputs[w.input_a] + " + " + d_.inputs[w.input_b] + ": " + kb_.interaction(w.rule).summary;
        case WarningKind::DrugCondition:
            return d_.inputs[w.input_a] + " with " + d_.condition_inputs[w.condition_input] + ": " +
                   pack.contraindications[w.rule].summary;
        case WarningKind::Cumulative: {
            std::string out;
            for (std::uint32_t k = 0; k < w.implicated_count; ++k) {
                if (k) out += " + ";
                out += d_.inputs[d_.implicated[w.implicated_begin + k].input];
            }
            if (w.condition_input != kNone) out += " with " + d_.condition_inputs[w.condition_input];
            return out + ": " + pack.cumulative_rules[w.rule].summary;
        }
        case WarningKind::DuplicateTherapy:
            if (w.rule == kNone)
                return d_.inputs[w.input_a] + " + " + d_.inputs[w.input_b] + ": both contain " +
                       pack.substances[w.substance_a].name;
            return d_.inputs[w.input_a] + " + " + d_.inputs[w.input_b] + ": duplicate therapy (" + pack.classes[w.rule].name +
                   ")";
    }
    return {};
}

std::string_view Renderer::effect_view(const Warning& w, std::string& scratch) const {
    switch (w.kind) {
        case WarningKind::DrugDrug: return kb_.interaction(w.rule).effect;
        case WarningKind::DrugCondition: return kb_.pack.contraindications[w.rule].rationale;
        case WarningKind::Cumulative: {
            const std::string& effect = kb_.pack.cumulative_rules[w.rule].effect;
            if (kb_.cumulative_dose_substances[w.rule].empty()) return effect;
            scratch = effect;
            for (const auto& line : dose_statements(w)) scratch += " Dose: " + line + ".";
            return scratch;
        }
        case WarningKind::DuplicateTherapy:
            if (w.rule == kNone) return "The same ingredient is taken twice; the combined dose may be higher than intended.";
            scratch = "Two medicines of the same class (" + kb_.pack.classes[w.rule].name + ") are taken together.";
            return scratch;
    }
    return {};
}

std::string Renderer::effect(const Warning& w) const {
    std::string scratch;
    return std::string(effect_view(w, scratch));
}

std::string Renderer::mechanism(const Warning& w) const {
    switch (w.kind) {
        case WarningKind::DrugDrug: {
            const Mechanism& m = kb_.interaction(w.rule).mechanism;
            return m.type + (m.detail.empty() ? "" : ": " + m.detail);
        }
        case WarningKind::DrugCondition: return {};
        case WarningKind::Cumulative: {
            const Mechanism& m = kb_.pack.cumulative_rules[w.rule].mechanism;
            return m.type + (m.detail.empty() ? "" : ": " + m.detail);
        }
        case WarningKind::DuplicateTherapy: return w.rule == kNone ? "Same active ingredient" : "Same therapeutic class";
    }
    return {};
}

std::string_view Renderer::management_view(const Warning& w, std::string& scratch) const {
    switch (w.kind) {
        case WarningKind::DrugDrug: return kb_.interaction(w.rule).management;
        case WarningKind::DrugCondition: return kb_.pack.contraindications[w.rule].management;
        case WarningKind::Cumulative: return kb_.pack.cumulative_rules[w.rule].management;
        case WarningKind::DuplicateTherapy:
            if (w.rule == kNone) {
                scratch = "Confirm that both are intended and count the combined dose of " +
                          kb_.pack.substances[w.substance_a].name + ".";
                return scratch;
            }
            return kb_.pack.classes[w.rule].duplicate_therapy->management;
    }
    return {};
}

std::string Renderer::management(const Warning& w) const {
    std::string scratch;
    return std::string(management_view(w, scratch));
}

std::string_view Renderer::seriousness(const Warning& w) const {
    if (w.kind == WarningKind::DrugDrug) return kb_.interaction(w.rule).seriousness;
    if (w.kind == WarningKind::DrugCondition) return kb_.pack.contraindications[w.rule].seriousness;
    if (w.kind == WarningKind::Cumulative) return kb_.pack.cumulative_rules[w.rule].seriousness;
    return {};
}

std::string_view Renderer::disagreement(const Warning& w) const {
    if (w.kind == WarningKind::DrugDrug) return kb_.interaction(w.rule).disagreement;
    if (w.kind == WarningKind::DrugCondition) return kb_.pack.contraindications[w.rule].disagreement;
    if (w.kind == WarningKind::Cumulative) return kb_.pack.cumulative_rules[w.rule].disagreement;
    return {};
}

const std::vector<Citation>* Renderer::citations(const Warning& w) const {
    if (w.kind == WarningKind::DrugDrug) return &kb_.interaction(w.rule).sources;
    if (w.kind == WarningKind::DrugCondition) return &kb_.pack.contraindications[w.rule].sources;
    if (w.kind == WarningKind::Cumulative) return &kb_.pack.cumulative_rules[w.rule].sources;
    if (w.rule != kNone) return &kb_.pack.classes[w.rule].duplicate_therapy->sources;
    return nullptr;
}

const Source& Renderer::source_of(const Citation& c) const {
    // A loaded pack's citations always name a source (integrity checks); a snapshot's are
    // trusted as written, so a crafted one naming none renders as a bare id rather than crashing.
    const auto& sources = kb_.pack.sources.all();  // first: the built-in pack indexes them when it decodes them
    if (auto it = kb_.source_index.find(c.source); it != kb_.source_index.end()) return sources[it->second];
    thread_local Source unknown;
    unknown = Source{};
    unknown.id = c.source;
    return unknown;
}

std::vector<SourceRef> Renderer::sources(const Warning& w) const {
    std::vector<SourceRef> out;
    const std::vector<Citation>* cits = citations(w);
    if (!cits) return out;
    out.reserve(cits->size());
    for (const auto& c : *cits) {
        const Source& s = source_of(c);
        out.push_back({s.id, s.title, c.section, s.url, c.grade});
    }
    return out;
}

std::vector<std::string> Renderer::explanation(const Warning& w) const {
    const auto& pack = kb_.pack;
    std::vector<std::string> out;
    switch (w.kind) {
        case WarningKind::DrugDrug: {
            const InteractionRule& rule = kb_.interaction(w.rule);
            const Part& pf = kb_.rule_first[w.rule];
            const Part& ps = kb_.rule_second[w.rule];
            // Orient the pair to the rule's participants.
            std::uint32_t first = w.substance_a, second = w.substance_b;
            if (!(kb_.matches(first, pf) && kb_.matches(second, ps)) && (kb_.matches(second, pf) || kb_.matches(first, ps)))
                std::swap(first, second);
            out = {input_step(w.input_a), input_step(w.input_b)};
            for (auto [s, part] : {std::pair{first, &pf}, std::pair{second, &ps}}) {
                std::string m = membership_step(s, *part);
                if (!m.empty()) out.push_back(std::move(m));
            }
            out.push_back(rule_step(rule.id, part_text(kb_, pf) + " x " + part_text(kb_, ps), rule.severity, rule.evidence));
            for (std::uint32_t k = 0; k < w.superseded_count; ++k)
                out.push_back("supersedes the more general rule " + kb_.interaction(d_.superseded[w.superseded_begin + k]).id +
                              " for this pair");
            return out;
        }
        case WarningKind::DrugCondition: {
            const ContraindicationRule& rule = pack.contraindications[w.rule];
            const Part& subject = kb_.contraindication_subject[w.rule];
            out = {input_step(w.input_a)};
            if (w.substance_a != kNone) {
                std::string m = membership_step(w.substance_a, subject);
                if (!m.empty()) out.push_back(std::move(m));
            }
            const Condition& typed = pack.conditions[static_cast<std::size_t>(d_.condition_refs[w.condition_input])];
            std::string cstep = "patient condition " + in_quotes(d_.condition_inputs[w.condition_input]) + " resolved to " + typed.id;
            if (typed.id != rule.condition) cstep += ", which falls under " + rule.condition;
            out.push_back(std::move(cstep));
            out.push_back(rule_step(rule.id, (subject.kind == EntityKind::Class ? "class " : "") + rule.subject.id + " in " +
                                                 rule.condition,
                                    rule.severity, rule.evidence));
            return out;
        }
        case WarningKind::Cumulative: {
            const CumulativeRule& rule = pack.cumulative_rules[w.rule];
            const auto& parts = kb_.cumulative_parts[w.rule];
            for (std::uint32_t k = 0; k < w.implicated_count; ++k)
                out.push_back(input_step(d_.implicated[w.implicated_begin + k].input));
            for (std::uint32_t k = 0; k < w.implicated_count; ++k) {
                // The longest class path among the requirements it meets, then any path that is not
                // part of it (oxycodone -> opioids -> cns-depressants covers both requirements).
                const std::uint32_t s = d_.implicated[w.implicated_begin + k].substance;
                std::vector<std::vector<std::uint32_t>> paths;
                for (const Part& part : parts)
                    if (part.kind == EntityKind::Class && kb_.matches(s, part)) paths.push_back(kb_.class_path(s, part.index));
                std::stable_sort(paths.begin(), paths.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
                std::vector<const std::vector<std::uint32_t>*> shown;
                for (const auto& path : paths) {
                    bool covered = false;
                    for (const auto* longer : shown)
                        covered = covered || std::equal(path.begin(), path.end(), longer->begin(), longer->begin() + static_cast<std::ptrdiff_t>(std::min(path.size(), longer->size())));
                    if (covered) continue;
                    shown.push_back(&path);
                    std::string step = pack.substances[s].id + " is a member of " + pack.classes[path.front()].id;
                    for (std::size_t c = 1; c < path.size(); ++c) step += ", a subclass of " + pack.classes[path[c]].id;
                    out.push_back(std::move(step));
                }
            }
            if (w.condition_input != kNone) {
                const Condition& typed = pack.conditions[static_cast<std::size_t>(d_.condition_refs[w.condition_input])];
                const std::string_view under = cumulative_condition(w);
                std::string cstep = "patient condition " + in_quotes(d_.condition_inputs[w.condition_input]) +
                                    " resolved to " + typed.id;
                if (typed.id != under) cstep += ", which falls under " + std::string(under);
                out.push_back(std::move(cstep));
            }
            for (auto& line : dose_statements(w)) out.push_back("dose: " + line);
            std::string what;
            for (std::size_t q = 0; q < rule.requirements.size(); ++q) {
                if (q) what += ", ";
                what += "at least " + std::to_string(rule.requirements[q].min) + " of " + part_text(kb_, parts[q]);
            }
            if (!rule.conditions.empty()) what += ", with a patient condition under " + join_names(rule.conditions, " or ");
            out.push_back(rule_step(rule.id, what, rule.severity, rule.evidence));
            return out;
        }
        case WarningKind::DuplicateTherapy: {
            out = {input_step(w.input_a), input_step(w.input_b)};
            if (w.rule == kNone) {
                out.push_back(pack.substances[w.substance_a].id +
                              " is an ingredient of both inputs (duplicate ingredient; derived by rxcaution, not a sourced rule)");
                return out;
            }
            const Part cls{EntityKind::Class, w.rule};
            out.push_back(membership_step(w.substance_a, cls));
            if (w.substance_b != kNone) out.push_back(membership_step(w.substance_b, cls));
            out.push_back("class " + pack.classes[w.rule].id + " is marked for duplicate-therapy checks");
            return out;
        }
    }
    return out;
}

std::string capitalised(Severity s) {
    std::string out(to_string(s));
    if (!out.empty()) out[0] = static_cast<char>(out[0] - 'a' + 'A');
    return out;
}

std::string_view Renderer::pack_of(const Warning& w) const {
    if (!kb_.layered() || w.kind != WarningKind::DrugDrug) return {};
    return kb_.pack.info.layers[kb_.rule_layer[w.rule]].name;
}

std::vector<Annotation> Renderer::annotations(const Warning& w) const {
    std::vector<Annotation> out;
    if (w.kind != WarningKind::DrugDrug) return out;
    const auto* rules = kb_.annotations_for(w.substance_a, w.substance_b);
    if (!rules) return out;
    for (std::uint32_t r : *rules) {
        const InteractionRule& rule = kb_.interaction(r);
        Annotation a;
        a.pack = kb_.pack.info.layers[kb_.rule_layer[r]].name;
        a.rule = rule.id;
        a.severity = rule.severity;
        a.agrees = rule.severity == w.severity;
        a.text = a.pack + " rates this pair " + capitalised(rule.severity) +
                 (a.agrees ? std::string(" (agrees).") : " (this warning: " + std::string(to_string(w.severity)) + ").");
        out.push_back(std::move(a));
    }
    return out;
}

WarningDetails Renderer::details(const Warning& w) const {
    WarningDetails x;
    x.id = id(w);
    x.kind = w.kind;
    x.severity = w.severity;
    x.rule = std::string(rule_id(w));
    x.inputs = inputs(w);
    x.input_indexes = input_indexes(w);
    x.substances = substances(w);
    x.condition = std::string(condition(w));
    x.summary = summary(w);
    x.effect = effect(w);
    x.mechanism = mechanism(w);
    x.management = management(w);
    x.evidence = w.evidence;
    x.seriousness = std::string(seriousness(w));
    x.disagreement = std::string(disagreement(w));
    x.sources = sources(w);
    x.explanation = explanation(w);
    x.pack = std::string(pack_of(w));
    x.annotations = annotations(w);
    // `w` belongs to this report (documented); its position gives its group.
    if (const auto* base = d_.warnings.data(); &w >= base && &w < base + d_.warnings.size()) {
        d_.ensure_groups();
        const auto k = static_cast<std::size_t>(&w - base);
        x.group = d_.group_of[k];
        x.group_lead = d_.groups[x.group].lead == k;
    }
    return x;
}

}  // namespace detail

std::string printable(std::string_view text) { return detail::printable(text); }

std::string_view disclaimer() noexcept { return detail::kDisclaimer; }

std::string to_text(const Resolution& r) {
    if (!r.resolved) {
        if (!r.ambiguous.empty()) {
            std::string line = detail::printable(r.input) + " -> ambiguous: names ";
            for (std::size_t k = 0; k < r.ambiguous.size(); ++k)
                line += (k ? (k + 1 == r.ambiguous.size() ? " and " : ", ") : "") + r.ambiguous[k];
            return line + " (not guessed; give one of them)";
        }
        return detail::printable(r.input) + " -> unknown" + detail::did_you_mean_clause(r.suggestions);
    }
    std::string line = detail::printable(r.input) + " -> " + std::string(to_string(r.kind)) + " " +
                       (r.id.empty() ? std::string("(RxNorm-style name)") : r.id) + " (" + r.name + "; matched by " +
                       r.matched_by + ")";
    if (r.vocabulary_only) line += "; drug vocabulary only (DrugBank " + r.drugbank + ")";
    line += "; ingredients:";
    for (const auto& i : r.ingredients) line += " " + i;
    // A product's inactive ingredients are shown by `show`; an RxNorm-style name's unchecked
    // ingredients are only known here.
    if (r.id.empty())
        for (const auto& nc : r.not_checked) line += "; not checked: " + nc;
    if (r.coverage == Coverage::NoRules) line += "; recognised, but this pack has no interaction rules for " + r.name;
    return line;
}

// --- Report --------------------------------------------------------------------------------------

namespace {
const std::shared_ptr<const Report::Data>& empty_data() {
    static const auto data = std::make_shared<const Report::Data>();
    return data;
}
const std::string& empty_string() {
    static const std::string s;
    return s;
}
}  // namespace

Report::Report() : data_(empty_data()) {}
Report::~Report() = default;
Report::Report(const Report&) = default;
Report::Report(Report&&) noexcept = default;
Report& Report::operator=(const Report&) = default;
Report& Report::operator=(Report&&) noexcept = default;

const std::string& Report::pack_name() const noexcept { return data_->kb ? data_->kb->pack.info.name : empty_string(); }
const std::string& Report::pack_version() const noexcept {
    return data_->kb ? data_->kb->pack.info.version : empty_string();
}
std::size_t Report::input_count() const noexcept { return data_->inputs.size(); }
const std::string& Report::input_text(std::size_t i) const { return data_->inputs.at(i); }
bool Report::input_resolved(std::size_t i) const { return data_->refs.at(i).resolved; }

Resolution Report::input(std::size_t i) const {
    const auto& ref = data_->refs.at(i);
    const std::string& text = data_->inputs[i];
    Resolution r = data_->kb->resolution(
        text, ref, ref.resolved || ref.form == detail::RefForm::Ambiguous ? std::vector<std::string>{} : data_->kb->suggest(text),
        &data_->parts);
    if (data_->duplicate_of[i] != kNone) r.duplicate_of = data_->duplicate_of[i];
    return r;
}

std::vector<Resolution> Report::inputs() const {
    std::vector<Resolution> out;
    out.reserve(data_->inputs.size());
    for (std::size_t i = 0; i < data_->inputs.size(); ++i) out.push_back(input(i));
    return out;
}

std::vector<ConditionResolution> Report::conditions() const {
    std::vector<ConditionResolution> out;
    const auto& d = *data_;
    for (std::size_t c = 0; c < d.condition_inputs.size(); ++c) {
        ConditionResolution r;
        r.input = d.condition_inputs[c];
        if (d.condition_refs[c] >= 0) {
            const Condition& cond = d.kb->pack.conditions[static_cast<std::size_t>(d.condition_refs[c])];
            r.resolved = true;
            r.id = cond.id;
            r.name = cond.name;
            const char* by = "";
            (void)d.kb->resolve_condition_index(d.condition_inputs[c], by);
            r.matched_by = by;
        } else {
            r.suggestions = d.kb->suggest_condition(d.condition_inputs[c]);
        }
        out.push_back(std::move(r));
    }
    return out;
}

const std::vector<Warning>& Report::warnings() const noexcept { return data_->warnings; }
const std::vector<std::uint32_t>& Report::superseded_rules() const noexcept { return data_->superseded; }
namespace {
// One alert per pair of inputs (issue 12): warnings about the same inputs form a group led by the
// first of them in the report's order, which is the most severe. Sorting (key, index) pairs costs
// O(W log W); done on first use, not by the check.
void group_warnings(const Report::Data& d) {
    const auto& ws = d.warnings;
    d.group_of.assign(ws.size(), 0);
    d.groups.clear();
    if (ws.empty()) return;
    struct Keyed {
        std::uint32_t what, a, b, k;
    };
    std::vector<Keyed> keyed;
    keyed.reserve(ws.size());
    for (std::uint32_t k = 0; k < ws.size(); ++k) {
        const Warning& w = ws[k];
        switch (w.kind) {
            case WarningKind::DrugDrug:
            case WarningKind::DuplicateTherapy: keyed.push_back({0, w.input_a, w.input_b, k}); break;
            case WarningKind::DrugCondition: keyed.push_back({1, w.input_a, w.condition_input, k}); break;
            default: keyed.push_back({2, k, 0, k}); break;  // a set of inputs: an alert of its own
        }
    }
    std::sort(keyed.begin(), keyed.end(),
              [](const Keyed& x, const Keyed& y) { return std::tie(x.what, x.a, x.b, x.k) < std::tie(y.what, y.a, y.b, y.k); });
    for (std::size_t g = 0; g < keyed.size();) {
        std::size_t end = g;
        WarningGroup group;
        group.lead = keyed[g].k;
        while (end < keyed.size() && keyed[end].what == keyed[g].what && keyed[end].a == keyed[g].a &&
               keyed[end].b == keyed[g].b)
            group.members.push_back(keyed[end++].k);
        d.groups.push_back(std::move(group));
        g = end;
    }
    std::sort(d.groups.begin(), d.groups.end(), [](const WarningGroup& x, const WarningGroup& y) { return x.lead < y.lead; });
    for (std::uint32_t g = 0; g < d.groups.size(); ++g)
        for (std::uint32_t k : d.groups[g].members) d.group_of[k] = g;
}

}  // namespace

void Report::Data::ensure_groups() const {
    std::call_once(groups_once, [this] { group_warnings(*this); });
}

const std::vector<WarningGroup>& Report::groups() const {
    data_->ensure_groups();
    return data_->groups;
}
const std::vector<Implicated>& Report::implicated() const noexcept { return data_->implicated; }
std::size_t Report::group_of(std::size_t k) const {
    data_->ensure_groups();
    return data_->group_of.at(k);
}

WarningDetails Report::details(const Warning& w) const { return detail::Renderer(*this).details(w); }
std::vector<WarningDetails> Report::details() const {
    const detail::Renderer r(*this);
    std::vector<WarningDetails> out;
    out.reserve(data_->warnings.size());
    for (const auto& w : data_->warnings) out.push_back(r.details(w));
    return out;
}
std::string Report::id(const Warning& w) const { return detail::Renderer(*this).id(w); }
std::string_view Report::rule_id(const Warning& w) const { return detail::Renderer(*this).rule_id(w); }
std::string Report::summary(const Warning& w) const { return detail::Renderer(*this).summary(w); }
std::string Report::effect(const Warning& w) const { return detail::Renderer(*this).effect(w); }
std::string Report::mechanism(const Warning& w) const { return detail::Renderer(*this).mechanism(w); }
std::string Report::management(const Warning& w) const { return detail::Renderer(*this).management(w); }
std::vector<SourceRef> Report::sources(const Warning& w) const { return detail::Renderer(*this).sources(w); }
std::vector<std::string> Report::explanation(const Warning& w) const { return detail::Renderer(*this).explanation(w); }
std::vector<Annotation> Report::annotations(const Warning& w) const { return detail::Renderer(*this).annotations(w); }
const std::vector<PackLayer>& Report::packs() const noexcept {
    static const std::vector<PackLayer> none;
    return data_->kb ? data_->kb->pack.info.layers : none;
}

std::optional<Severity> Report::max_severity() const noexcept { return data_->max_severity; }

bool Report::complete() const noexcept {
    for (const auto& r : data_->refs)
        if (!r.resolved) return false;
    for (auto c : data_->condition_refs)
        if (c < 0) return false;
    return true;
}

std::vector<std::string> Report::unresolved() const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < data_->refs.size(); ++i)
        if (!data_->refs[i].resolved) out.push_back(data_->inputs[i]);
    return out;
}

}  // namespace rxcaution
