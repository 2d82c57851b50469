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
    const auto regimen = rxcaution_fuzz::own_names(kb);
    const auto& meds = regimen.medications;
    const auto& context = regimen.context;
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
