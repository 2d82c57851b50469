// Writing the English of a report, on demand, from the check's plain data (see detail/render.hpp).

#include "detail/render.hpp"

#include <algorithm>
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
        case WarningKind::DuplicateTherapy:
            return w.rule == kNone ? std::string_view("duplicate-ingredient") : std::string_view(kb_.pack.classes[w.rule].id);
    }
    return {};
}

std::vector<std::string> Renderer::inputs(const Warning& w) const {
    if (w.input_b == kNone) return {d_.inputs[w.input_a]};
    return {d_.inputs[w.input_a], d_.inputs[w.input_b]};
}

std::vector<std::size_t> Renderer::input_indexes(const Warning& w) const {
    if (w.input_b == kNone) return {w.input_a};
    return {w.input_a, w.input_b};
}

std::vector<std::string> Renderer::substances(const Warning& w) const {
    std::vector<std::string> out;
    for_each_substance(w, [&](std::string_view id) { out.emplace_back(id); });
    return out;
}

std::string_view Renderer::condition(const Warning& w) const {
    return w.kind == WarningKind::DrugCondition ? std::string_view(kb_.pack.contraindications[w.rule].condition)
                                                : std::string_view();
}

std::string Renderer::summary(const Warning& w) const {
    const auto& pack = kb_.pack;
    switch (w.kind) {
        case WarningKind::DrugDrug:
            return d_.inputs[w.input_a] + " + " + d_.inputs[w.input_b] + ": " + kb_.interaction(w.rule).summary;
        case WarningKind::DrugCondition:
            return d_.inputs[w.input_a] + " with " + d_.condition_inputs[w.condition_input] + ": " +
                   pack.contraindications[w.rule].summary;
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
        case WarningKind::DuplicateTherapy: return w.rule == kNone ? "Same active ingredient" : "Same therapeutic class";
    }
    return {};
}

std::string_view Renderer::management_view(const Warning& w, std::string& scratch) const {
    switch (w.kind) {
        case WarningKind::DrugDrug: return kb_.interaction(w.rule).management;
        case WarningKind::DrugCondition: return kb_.pack.contraindications[w.rule].management;
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
    return {};
}

std::string_view Renderer::disagreement(const Warning& w) const {
    if (w.kind == WarningKind::DrugDrug) return kb_.interaction(w.rule).disagreement;
    if (w.kind == WarningKind::DrugCondition) return kb_.pack.contraindications[w.rule].disagreement;
    return {};
}

const std::vector<Citation>* Renderer::citations(const Warning& w) const {
    if (w.kind == WarningKind::DrugDrug) return &kb_.interaction(w.rule).sources;
    if (w.kind == WarningKind::DrugCondition) return &kb_.pack.contraindications[w.rule].sources;
    if (w.rule != kNone) return &kb_.pack.classes[w.rule].duplicate_therapy->sources;
    return nullptr;
}

const Source& Renderer::source_of(const Citation& c) const {
    // A loaded pack's citations always name a source (integrity checks); a snapshot's are
    // trusted as written, so a crafted one naming none renders as a bare id rather than crashing.
    if (auto it = kb_.source_index.find(c.source); it != kb_.source_index.end()) return kb_.pack.sources[it->second];
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
        const InteractionRule& rule = kb_.pack.interactions[r];
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
