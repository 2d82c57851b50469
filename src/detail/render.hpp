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

    // The explanation step for one input ("'Suboxone' resolved to product Suboxone, which ...").
    [[nodiscard]] std::string input_step(std::size_t i) const;
    // "x is a member of a, a subclass of b", or "" when the participant is not a class.
    [[nodiscard]] std::string membership_step(std::uint32_t substance, const Part& p) const;

private:
    const Report::Data& d_;
    const KnowledgeBaseImpl& kb_;
};

}  // namespace rxcaution::detail
