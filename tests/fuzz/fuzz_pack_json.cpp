// libFuzzer target: KnowledgeBase::from_json on arbitrary bytes (the pack JSON reader).
//
// Differential oracle first: the fast JSON tokenizer of the reader (src/detail/json_tokenizer.hpp)
// must give nlohmann's verdict and, when both accept, nlohmann's SAX events, exactly; read in
// chunks (a small buffer refilled as from a file), too.
//
// Oracle: from_json either returns a knowledge base or throws an rxcaution::Error subclass; any
// other exception escapes and terminates (a finding: e.g. nlohmann's out_of_range for 1e999,
// issue 13 item 2). A pack that loads must round-trip: from_json(to_json(kb)) loads and
// serialises to the same text, and a check over its own names completes.
#include "fuzz_support.hpp"

#include "detail/json_tokenizer.hpp"
#include "json_event_recorder.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

using namespace rxcaution;

namespace {

using Recorder = rxcaution_fuzz::JsonEventRecorder;

void differential(std::string_view text) {
    Recorder reference;
    const bool accepted = rxcaution_fuzz::record_with_nlohmann(text, reference);
    Recorder fast;
    rxcaution::detail::JsonTokenizer whole(text);
    const bool fast_accepted = whole.parse(fast);
    RXFUZZ_CHECK(fast_accepted == accepted, "the fast tokenizer accepts exactly what nlohmann accepts");
    if (accepted) RXFUZZ_CHECK(fast.events == reference.events, "the fast tokenizer gives nlohmann's events");

    std::size_t at = 0;
    const std::size_t step = text.empty() ? 1 : 1 + static_cast<unsigned char>(text[0]) % 7;
    const rxcaution::detail::JsonTokenizer::Read read = [&](char* out, std::size_t capacity) {
        const std::size_t n = std::min({capacity, step, text.size() - at});
        std::memcpy(out, text.data() + at, n);
        at += n;
        return n;
    };
    Recorder pieces;
    rxcaution::detail::JsonTokenizer chunked(read, 8);
    const bool chunked_accepted = chunked.parse(pieces);
    RXFUZZ_CHECK(chunked_accepted == accepted, "the fast tokenizer in chunks accepts exactly what nlohmann accepts");
    if (accepted) RXFUZZ_CHECK(pieces.events == reference.events, "the fast tokenizer in chunks gives nlohmann's events");
}

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
    differential(text);
    try {
        exercise(KnowledgeBase::from_json(text));
    } catch (const Error&) {
        // Documented rejection (ParseError, SchemaError, IntegrityError, ...): the expected outcome
        // for almost every fuzzed input.
    }
    return 0;
}
