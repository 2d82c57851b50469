// libFuzzer target: resolve, resolve_condition, check and interactions_between of the built-in
// pack on arbitrary text (invalid UTF-8, NULs, control characters, very long lines...).
//
// Input: byte 0 = option bits (min_severity, duplicate_therapy, regimen_dot), then lines; a line
// starting with '!' is a condition (see fuzz_support.hpp). Oracle: nothing but rxcaution::Error
// leaves the library, resolution is deterministic and keeps the caller's text, and every report
// holds the invariants of check_report_invariants().
#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace rxcaution;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const KnowledgeBase kb = KnowledgeBase::builtin();
    const rxcaution_fuzz::Regimen r = rxcaution_fuzz::decode_regimen(data, size);

    for (const auto& m : r.medications) {
        const Resolution a = kb.resolve(m);
        RXFUZZ_CHECK(a.input == m, "Resolution::input is the caller's text, unchanged");
        RXFUZZ_CHECK(a.suggestions.size() <= 3, "at most 3 suggestions");
        RXFUZZ_CHECK(a.resolved == !a.id.empty(), "an id exactly when resolved");
        const Resolution b = kb.resolve(m);
        RXFUZZ_CHECK(a.resolved == b.resolved && a.id == b.id && a.suggestions == b.suggestions,
                     "resolve is deterministic");
    }
    for (const auto& c : r.context.conditions) {
        const ConditionResolution a = kb.resolve_condition(c);
        RXFUZZ_CHECK(a.input == c, "ConditionResolution::input is the caller's text, unchanged");
        RXFUZZ_CHECK(a.suggestions.size() <= 3, "at most 3 suggestions");
        RXFUZZ_CHECK(a.resolved == !a.id.empty(), "an id exactly when resolved");
    }

    const Report report = kb.check(r.medications, r.context);
    rxcaution_fuzz::check_report_invariants(report, r.medications, r.context);

    if (r.medications.size() >= 2) {
        try {
            (void)kb.interactions_between(r.medications[0], r.medications[1]);
        } catch (const NotFoundError&) {
            // documented: one of the two texts does not resolve
        }
    }
    if ((r.flags & 8u) != 0) (void)kb.regimen_dot(r.medications, r.context);
    return 0;
}
