// libFuzzer target: the report renderers (to_json, to_text, to_fhir, to_cds_hooks with and without
// options) on the report of a real check of the built-in pack on the fuzzed regimen (as in
// fuzz_check): every caller string a renderer prints (inputs in summaries, explanations, "not
// checked" cards, CDS labels) can be invalid UTF-8, hold NULs, control characters or JSON syntax.
// Reports can only come from check(): warnings are indexes into the knowledge base.
// Oracle: no exception, no sanitizer report, and the JSON renderings parse as JSON at every
// indent (-1 .. 2), with the CDS Hooks rendering an object holding a `cards` array and the FHIR
// one a Bundle.
#include "fuzz_support.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <set>
#include <cstdint>
#include <string>
#include <string_view>

using namespace rxcaution;

namespace {

nlohmann::json parse_rendering(const std::string& text, const char* what) {
    auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
        std::fprintf(stderr, "%s is not valid JSON:\n%.2000s\n", what, text.c_str());
        RXFUZZ_CHECK(false, "a JSON rendering parses as JSON");
    }
    return j;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const KnowledgeBase kb = KnowledgeBase::builtin();
    if (size == 0) return 0;
    const rxcaution_fuzz::Regimen r = rxcaution_fuzz::decode_regimen(data, size);
    const Report report = kb.check(r.medications, r.context);
    const int indent = static_cast<int>((data[0] >> 5) & 3u) - 1;  // -1 (one line) .. 2

    const auto json = parse_rendering(to_json(report, indent), "to_json");
    RXFUZZ_CHECK(json.is_object(), "to_json gives an object");
    const auto fhir = parse_rendering(to_fhir(report, indent), "to_fhir");
    RXFUZZ_CHECK(fhir.is_object() && fhir.value("resourceType", "") == "Bundle", "to_fhir gives a Bundle");
    const auto cds = parse_rendering(to_cds_hooks(report, indent), "to_cds_hooks");
    RXFUZZ_CHECK(cds.is_object() && cds.contains("cards") && cds["cards"].is_array(),
                 "to_cds_hooks gives {\"cards\": [...]}");
    // One card per alert group (issue 12); uuids are unique even when two entries share an
    // ingredient (Catapres and Kapvay), so no group's card is lost to de-duplication.
    RXFUZZ_CHECK(cds["cards"].size() >= report.groups().size(), "one card per alert group at least");
    std::set<std::string> uuids;
    for (const auto& card : cds["cards"]) uuids.insert(card.value("uuid", ""));
    RXFUZZ_CHECK(uuids.size() == cds["cards"].size(), "card uuids are unique");
    // The hook-call rendering: every other input of interest, each labelled with its own text.
    CdsHooksOptions options;
    for (std::size_t i = 0; i < report.input_count(); ++i) {
        options.focus.push_back(i % 2 == 0);
        options.input_labels.push_back(report.input_text(i));
    }
    options.unresolved_condition_card = (data[0] & 16u) != 0;
    options.info_cards.push_back({report.pack_name(), r.medications.empty() ? "" : r.medications[0], "detail"});
    const auto hook = parse_rendering(to_cds_hooks(report, options, indent), "to_cds_hooks(options)");
    RXFUZZ_CHECK(hook.is_object() && hook.contains("cards") && hook["cards"].is_array(),
                 "to_cds_hooks(options) gives {\"cards\": [...]}");
    (void)to_text(report);
    return 0;
}
