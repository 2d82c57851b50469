// libFuzzer target: resolve, resolve_condition, check and interactions_between of the built-in
// pack on arbitrary text (invalid UTF-8, NULs, control characters, very long lines...).
//
// Input: byte 0 = option bits (min_severity, duplicate_therapy, regimen_dot, interactions_between),
// then lines; a line
// starting with '!' is a condition (see fuzz_support.hpp). Oracle: nothing but rxcaution::Error
// leaves the library, resolution is deterministic and keeps the caller's text, and every report
// holds the invariants of check_report_invariants().
#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using namespace rxcaution;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const KnowledgeBase kb = KnowledgeBase::builtin();
    const rxcaution_fuzz::Regimen r = rxcaution_fuzz::decode_regimen(data, size);

    // Suggestions for unknown text (edit distance to every name) dominate the cost of an
    // execution, so each text is resolved once here and once by check(), which must agree.
    std::vector<Resolution> resolved;
    for (const auto& m : r.medications) {
        Resolution a = kb.resolve(m);
        RXFUZZ_CHECK(a.input == m, "Resolution::input is the caller's text, unchanged");
        RXFUZZ_CHECK(a.suggestions.size() <= 3, "at most 3 suggestions");
        RXFUZZ_CHECK(a.resolved == !a.id.empty(), "an id exactly when resolved");
        resolved.push_back(std::move(a));
    }
    for (const auto& c : r.context.conditions) {
        const ConditionResolution a = kb.resolve_condition(c);
        RXFUZZ_CHECK(a.input == c, "ConditionResolution::input is the caller's text, unchanged");
        RXFUZZ_CHECK(a.suggestions.size() <= 3, "at most 3 suggestions");
        RXFUZZ_CHECK(a.resolved == !a.id.empty(), "an id exactly when resolved");
    }

    const Report report = kb.check(r.medications, r.context);
    rxcaution_fuzz::check_report_invariants(report, r.medications, r.context);
    const auto inputs = report.inputs();
    if (inputs.size() == resolved.size()) {
        for (std::size_t i = 0; i < resolved.size(); ++i)
            RXFUZZ_CHECK(inputs[i].resolved == resolved[i].resolved && inputs[i].id == resolved[i].id &&
                             inputs[i].suggestions == resolved[i].suggestions,
                         "check() resolves each input as resolve() does");
    }

    if ((r.flags & 16u) != 0 && r.medications.size() >= 2) {
        try {
            (void)kb.interactions_between(r.medications[0], r.medications[1]);
        } catch (const NotFoundError&) {
            // documented: one of the two texts does not resolve
        }
    }
    if ((r.flags & 8u) != 0) (void)kb.regimen_dot(r.medications, r.context);
    return 0;
}
