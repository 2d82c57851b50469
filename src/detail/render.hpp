#pragma once
// The one place where English is written about a check: warning ids, summaries, explanation
// steps, "did you mean", the disclaimer, the headings shared by outputs. The text, JSON, FHIR,
// CDS Hooks and DOT outputs all take their words from here, so they cannot drift apart.

#include "detail/report_data.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace rxcaution::detail {

inline constexpr const char* kDisclaimer =
    "rxcaution is reference software, not medical advice. No warning found does not mean a combination is safe.";

// "a, b, c" (the separator between suggestions in every output).
std::string join_names(const std::vector<std::string>& names, std::string_view separator = ", ");
// "; did you mean a, b?" inside a line of the text report, or "" without suggestions.
std::string did_you_mean_clause(const std::vector<std::string>& suggestions);
// "Did you mean: a, b?" as a sentence (FHIR, CDS Hooks), or "" without suggestions.
std::string did_you_mean_sentence(const std::vector<std::string>& suggestions);
// "Not checked: 'x' is not a medication rxcaution knows" and its variants.
std::string not_known_sentence(std::string_view what, std::string_view input);

// "Major" for Severity::Major: how sources such as DDInter write their levels.
std::string capitalised(Severity s);

// Replaces terminal control characters (ESC, other C0 and C1 codes, DEL) with U+FFFD so that text
// from callers cannot drive a terminal; tab and newline are kept.
std::string printable(std::string_view text);

class Renderer {
public:
    explicit Renderer(const Report& report) : d_(ReportAccess::data(report)), kb_(*d_.kb) {}

    [[nodiscard]] std::string id(const Warning& w) const;
    [[nodiscard]] std::string_view rule_id(const Warning& w) const;
    [[nodiscard]] std::vector<std::string> inputs(const Warning& w) const;
    [[nodiscard]] std::vector<std::size_t> input_indexes(const Warning& w) const;
    [[nodiscard]] std::vector<std::string> substances(const Warning& w) const;
    [[nodiscard]] std::string_view condition(const Warning& w) const;
    [[nodiscard]] std::string summary(const Warning& w) const;
    [[nodiscard]] std::string effect(const Warning& w) const;
    [[nodiscard]] std::string mechanism(const Warning& w) const;
    [[nodiscard]] std::string management(const Warning& w) const;
    [[nodiscard]] std::string_view seriousness(const Warning& w) const;
    [[nodiscard]] std::string_view disagreement(const Warning& w) const;
    [[nodiscard]] std::vector<SourceRef> sources(const Warning& w) const;
    [[nodiscard]] std::vector<std::string> explanation(const Warning& w) const;
    [[nodiscard]] WarningDetails details(const Warning& w) const;
    // Layered knowledge bases: the pack of a drug-drug warning's rule ("" otherwise, and always
    // for a single pack), and the lower layers' ratings of its pair.
    [[nodiscard]] std::string_view pack_of(const Warning& w) const;
    [[nodiscard]] std::vector<Annotation> annotations(const Warning& w) const;
    [[nodiscard]] bool layered() const { return kb_.layered(); }

    // The same fields without copies, for writers that stream (JSON): a view into the pack, or
    // into `scratch` when the text has to be composed.
    [[nodiscard]] std::string_view effect_view(const Warning& w, std::string& scratch) const;
    [[nodiscard]] std::string_view management_view(const Warning& w, std::string& scratch) const;
    // The citations behind a warning (nullptr for a duplicate ingredient, which has none).
    [[nodiscard]] const std::vector<Citation>* citations(const Warning& w) const;
    // The cited source (for a citation naming no loaded source, a bare one with that id, valid
    // until the next call on this thread).
    [[nodiscard]] const Source& source_of(const Citation& c) const;
    // Calls f(id) for each substance of the warning, in the order substances() gives.
    template <class F>
    void for_each_substance(const Warning& w, F&& f) const {
        if (w.kind == WarningKind::Cumulative) {
            for (std::uint32_t k = 0; k < w.implicated_count; ++k)
                f(std::string_view(kb_.pack.substances[d_.implicated[w.implicated_begin + k].substance].id));
            return;
        }
        if (w.kind == WarningKind::DrugCondition && w.substance_a == kNone) {
            for (const auto& id : kb_.pack.products[d_.refs[w.input_a].index].ingredients) f(std::string_view(id));
            return;
        }
        f(std::string_view(kb_.pack.substances[w.substance_a].id));
        if (w.substance_b != kNone) f(std::string_view(kb_.pack.substances[w.substance_b].id));
    }
    [[nodiscard]] const std::string& input_text(std::uint32_t i) const { return d_.inputs[i]; }

    // The explanation step for one input ("'Suboxone' resolved to product Suboxone, which ...").
    [[nodiscard]] std::string input_step(std::size_t i) const;
    // Cumulative warnings: one sentence per dose threshold of the rule and implicated medication
    // with that substance, comparing the dose written in its text (or saying none was given).
    [[nodiscard]] std::vector<std::string> dose_statements(const Warning& w) const;
    // The rule condition a cumulative warning's patient condition falls under ("" when none).
    [[nodiscard]] std::string_view cumulative_condition(const Warning& w) const;
    // "x is a member of a, a subclass of b", or "" when the participant is not a class.
    [[nodiscard]] std::string membership_step(std::uint32_t substance, const Part& p) const;

private:
    const Report::Data& d_;
    const KnowledgeBaseImpl& kb_;
};

}  // namespace rxcaution::detail
