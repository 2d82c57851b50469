#pragma once
// Shared helpers of the libFuzzer targets. Only the public API (include/rxcaution/*.hpp) is used:
// the targets must survive rewrites of the internals.
#include <rxcaution/rxcaution.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rxcaution_fuzz {

// A broken invariant is a finding like a crash: print what broke and abort so that libFuzzer
// saves the input. (assert() would vanish under NDEBUG in a Release build.)
#define RXFUZZ_CHECK(cond, what)                                                                   \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "rxcaution fuzz invariant broken at %s:%d: %s\n  (%s)\n", __FILE__, \
                         __LINE__, what, #cond);                                                   \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)

// Bounds the regimen size. Issue 13 item 1 (repeated inputs cost ~n^4) is a known defect with its
// own regression test; without a bound the fuzzer would spend its time rediscovering it as
// timeouts instead of exploring. Raise these once the check is O(n^2 + W log W).
inline constexpr std::size_t kMaxMedications = 24;
inline constexpr std::size_t kMaxConditions = 8;

/// A regimen decoded from fuzz bytes: byte 0 holds option bits, the rest is split on '\n';
/// a line starting with '!' is a condition (without the '!'), any other line a medication.
struct Regimen {
    std::uint8_t flags = 0;
    std::vector<std::string> medications;
    rxcaution::CheckContext context;
};

inline Regimen decode_regimen(const std::uint8_t* data, std::size_t size) {
    Regimen r;
    if (size == 0) return r;
    r.flags = data[0];
    r.context.min_severity = static_cast<rxcaution::Severity>(r.flags & 3u);  // the 4 valid values
    r.context.duplicate_therapy = (r.flags & 4u) == 0;
    const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    std::size_t start = 0;
    while (start <= rest.size()) {
        std::size_t end = rest.find('\n', start);
        if (end == std::string_view::npos) end = rest.size();
        const std::string_view line = rest.substr(start, end - start);
        if (!line.empty() && line.front() == '!') {
            if (r.context.conditions.size() < kMaxConditions) r.context.conditions.emplace_back(line.substr(1));
        } else if (r.medications.size() < kMaxMedications) {
            r.medications.emplace_back(line);
        }
        start = end + 1;
    }
    return r;
}

/// Invariants every report must hold, whatever the inputs.
inline void check_report_invariants(const rxcaution::Report& report, const std::vector<std::string>& medications,
                                    const rxcaution::CheckContext& context) {
    const auto inputs = report.inputs();
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        const auto& in = inputs[k];
        RXFUZZ_CHECK(in.suggestions.size() <= 3, "at most 3 suggestions per unresolved input");
        RXFUZZ_CHECK(!in.resolved || !in.id.empty(), "a resolved input has an entity id");
        RXFUZZ_CHECK(!in.duplicate_of || *in.duplicate_of < k, "a repeat points at an earlier entry");
    }
    const auto conditions = report.conditions();
    for (const auto& c : conditions)
        RXFUZZ_CHECK(c.suggestions.size() <= 3, "at most 3 suggestions per unresolved condition");
    std::optional<rxcaution::Severity> max;
    const auto warnings = report.details();
    for (std::size_t k = 0; k < warnings.size(); ++k) {
        const auto& w = warnings[k];
        RXFUZZ_CHECK(!w.id.empty() && !w.rule.empty(), "a warning names its id and rule");
        RXFUZZ_CHECK(w.severity >= context.min_severity, "no warning below min_severity");
        RXFUZZ_CHECK(w.inputs.size() == w.input_indexes.size(), "warning inputs and input_indexes align");
        for (std::size_t i = 0; i < w.input_indexes.size(); ++i) {
            RXFUZZ_CHECK(w.input_indexes[i] < medications.size(), "warning input index within the medication list");
            RXFUZZ_CHECK(w.inputs[i] == medications[w.input_indexes[i]], "warning input is the caller's text at its index");
        }
        RXFUZZ_CHECK(k == 0 || warnings[k - 1].severity >= w.severity, "warnings sorted most severe first");
        if (!max || w.severity > *max) max = w.severity;
    }
    RXFUZZ_CHECK(report.max_severity() == max, "max_severity is the highest warning severity (empty without warnings)");
    RXFUZZ_CHECK(report.complete() == (report.unresolved().empty() &&
                                       [&] {
                                           for (const auto& c : conditions)
                                               if (!c.resolved) return false;
                                           return true;
                                       }()),
                 "complete() means nothing was left unresolved");
}

// A regimen of a (fuzzed) knowledge base's own names: its substances, then its products, with its
// conditions, within the limits above; so that a pack or snapshot that loads also gets checked.
inline Regimen own_names(const rxcaution::KnowledgeBase& kb) {
    Regimen r;
    for (const auto& s : kb.substances()) {
        if (r.medications.size() >= kMaxMedications / 2) break;
        r.medications.push_back(s.name);
    }
    for (const auto& p : kb.products()) {
        if (r.medications.size() >= kMaxMedications) break;
        r.medications.push_back(p.name);
    }
    for (const auto& c : kb.conditions()) {
        if (r.context.conditions.size() >= kMaxConditions) break;
        r.context.conditions.push_back(c.name);
    }
    return r;
}

}  // namespace rxcaution_fuzz
