// libFuzzer target: KnowledgeBase::from_json on arbitrary bytes (the pack JSON reader).
//
// Oracle: from_json either returns a knowledge base or throws an rxcaution::Error subclass; any
// other exception escapes and terminates (a finding: e.g. nlohmann's out_of_range for 1e999,
// issue 13 item 2). A pack that loads must round-trip: from_json(to_json(kb)) loads and
// serialises to the same text, and a check over its own names completes.
#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace rxcaution;

namespace {

void exercise(const KnowledgeBase& kb) {
    const std::string text = kb.to_json();
    std::string again;
    try {
        again = KnowledgeBase::from_json(text, {}, "<round trip>").to_json();
    } catch (const Error& e) {
        std::fprintf(stderr, "to_json() of a loaded pack does not load again: %s\n", e.what());
        RXFUZZ_CHECK(false, "from_json(to_json(kb)) loads");
    }
    RXFUZZ_CHECK(again == text, "from_json(to_json(kb)).to_json() == to_json(kb)");

    // The engine on a fuzzed (but valid) pack: every substance and product name, checked together.
    std::vector<std::string> meds;
    for (const auto& s : kb.substances()) {
        if (meds.size() >= rxcaution_fuzz::kMaxMedications / 2) break;
        meds.push_back(s.name);
    }
    for (const auto& p : kb.products()) {
        if (meds.size() >= rxcaution_fuzz::kMaxMedications) break;
        meds.push_back(p.name);
    }
    CheckContext context;
    for (const auto& c : kb.conditions()) {
        if (context.conditions.size() >= rxcaution_fuzz::kMaxConditions) break;
        context.conditions.push_back(c.name);
    }
    const Report report = kb.check(meds, context);
    rxcaution_fuzz::check_report_invariants(report, meds, context);
    (void)to_json(report);
    (void)kb.class_hierarchy_dot();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        exercise(KnowledgeBase::from_json(text));
    } catch (const Error&) {
        // Documented rejection (ParseError, SchemaError, IntegrityError, ...): the expected outcome
        // for almost every fuzzed input.
    }
    return 0;
}
