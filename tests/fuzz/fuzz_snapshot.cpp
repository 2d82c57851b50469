// libFuzzer target: KnowledgeBase::from_snapshot on arbitrary bytes (the .rxpack reader).
//
// The first input byte chooses how the rest is read: even, as it is (the header's signature,
// version, byte-order mark, length and checksum stand in the way, as for a damaged file); odd,
// with the header's length and checksum rewritten to match (as a deliberately crafted file would
// be), so that mutations reach the reader's own checks of every count and index.
//
// Oracle: from_snapshot returns a knowledge base or throws rxcaution::Error (DataError); anything
// else escapes and terminates. A snapshot that loads answers a check over its own names, renders
// the report, and writes a snapshot that loads and writes the same bytes again.
#include "fuzz_support.hpp"

#include "detail/snapshot.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

using namespace rxcaution;

namespace {

void exercise(const KnowledgeBase& kb) {
    // Writing is canonical: what a loaded snapshot writes loads again and writes the same bytes.
    const std::string once = kb.to_snapshot();
    std::string twice;
    try {
        twice = KnowledgeBase::from_snapshot(once, "<again>").to_snapshot();
    } catch (const Error& e) {
        std::fprintf(stderr, "to_snapshot() of a loaded snapshot does not load again: %s\n", e.what());
        RXFUZZ_CHECK(false, "from_snapshot(to_snapshot(kb)) loads");
    }
    RXFUZZ_CHECK(twice == once, "to_snapshot is canonical");
    const auto regimen = rxcaution_fuzz::own_names(kb);
    const auto& meds = regimen.medications;
    const auto& context = regimen.context;
    const Report report = kb.check(meds, context);
    (void)to_json(report);
    (void)to_text(report);
    (void)to_cds_hooks(report);
    for (const auto& s : kb.substances()) {
        (void)kb.rules_for(s.id);
        break;
    }
    (void)kb.regimen_dot(meds, context);
    (void)kb.class_hierarchy_dot();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    if ((data[0] & 1) && bytes.size() >= detail::kSnapshotHeaderBytes) {
        const std::string_view payload = std::string_view(bytes).substr(detail::kSnapshotHeaderBytes);
        const std::uint64_t n = payload.size(), sum = detail::snapshot_checksum(payload);
        std::memcpy(bytes.data() + 16, &n, 8);
        std::memcpy(bytes.data() + 24, &sum, 8);
    }
    try {
        exercise(KnowledgeBase::from_snapshot(bytes, "<fuzz>"));
    } catch (const Error&) {
        // Documented refusal (DataError naming what is wrong): the expected outcome for almost
        // every fuzzed input.
    }
    return 0;
}
