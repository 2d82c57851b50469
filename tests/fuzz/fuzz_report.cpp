// libFuzzer target: the report renderers (to_json, to_text, to_fhir, to_cds_hooks).
//
// Two kinds of report are rendered, chosen by bit 4 of byte 0:
//  * the report of a real check of the built-in pack on the fuzzed regimen (as in fuzz_check);
//  * a report assembled field by field from the fuzz bytes, so that every string a renderer
//    prints (names, summaries, sources, explanations) can be invalid UTF-8, hold NULs, control
//    characters or JSON syntax. The structure stays consistent (indexes point into `inputs`),
//    as any report of check() is.
// Oracle: no exception, no sanitizer report, and the JSON renderings parse as JSON at every
// indent (-1 .. 3), with the CDS Hooks rendering an object holding a `cards` array and the FHIR
// one a Bundle.
#include "fuzz_support.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace rxcaution;

namespace {

/// Reads the fuzz bytes as a stream of length-prefixed strings and small numbers.
class Reader {
public:
    Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
    std::string str() {
        const std::size_t n = std::min<std::size_t>(byte(), size_ - pos_);
        std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
        pos_ += n;
        return s;
    }
    bool done() const { return pos_ >= size_; }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

Report synthetic_report(Reader& in) {
    Report r;
    r.pack_name = in.str();
    r.pack_version = in.str();
    const std::size_t n_inputs = 1 + in.byte() % 6;
    for (std::size_t i = 0; i < n_inputs; ++i) {
        Resolution res;
        res.input = in.str();
        res.resolved = (in.byte() & 1u) != 0;
        res.kind = (in.byte() & 1u) ? EntityKind::Product : EntityKind::Substance;
        if (res.resolved) {
            res.id = "x" + in.str();
            res.name = in.str();
            res.matched_by = in.str();
            res.ingredients = {in.str(), in.str()};
            if (in.byte() & 1u) res.not_checked = {in.str()};
        } else {
            for (std::size_t k = in.byte() % 4; k > 0; --k) res.suggestions.push_back(in.str());
        }
        r.inputs.push_back(std::move(res));
    }
    for (std::size_t i = in.byte() % 3; i > 0; --i) {
        ConditionResolution c;
        c.input = in.str();
        c.resolved = (in.byte() & 1u) != 0;
        if (c.resolved) {
            c.id = "c" + in.str();
            c.name = in.str();
        } else {
            c.suggestions = {in.str()};
        }
        r.conditions.push_back(std::move(c));
    }
    while (!in.done() && r.warnings.size() < 8) {
        Warning w;
        w.kind = static_cast<WarningKind>(in.byte() % 3);
        w.severity = static_cast<Severity>(in.byte() % 4);
        w.id = "w" + in.str();
        w.rule = "r" + in.str();
        const std::size_t a = in.byte() % n_inputs, b = in.byte() % n_inputs;
        w.input_indexes = {a};
        w.inputs = {r.inputs[a].input};
        if (w.kind != WarningKind::DrugCondition) {
            w.input_indexes.push_back(b);
            w.inputs.push_back(r.inputs[b].input);
        } else {
            w.condition = in.str();
        }
        w.substances = {in.str()};
        w.summary = in.str();
        w.effect = in.str();
        w.mechanism = in.str();
        w.management = in.str();
        w.evidence = static_cast<EvidenceGrade>(in.byte() % 5);
        w.seriousness = in.str();
        w.disagreement = in.str();
        SourceRef s;
        s.id = in.str();
        s.title = in.str();
        s.section = in.str();
        s.url = in.str();
        s.grade = static_cast<EvidenceGrade>(in.byte() % 5);
        w.sources.push_back(std::move(s));
        w.explanation = {in.str(), in.str()};
        r.warnings.push_back(std::move(w));
    }
    // check() sorts most severe first and sets max_severity; a renderer may rely on both.
    std::stable_sort(r.warnings.begin(), r.warnings.end(),
                     [](const Warning& x, const Warning& y) { return x.severity > y.severity; });
    if (!r.warnings.empty()) r.max_severity = r.warnings.front().severity;
    return r;
}

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
    Report report;
    if ((data[0] & 16u) != 0) {
        Reader in(data + 1, size - 1);
        report = synthetic_report(in);
    } else {
        const rxcaution_fuzz::Regimen r = rxcaution_fuzz::decode_regimen(data, size);
        report = kb.check(r.medications, r.context);
    }
    const int indent = static_cast<int>((data[0] >> 5) & 3u) - 1;  // -1 (one line) .. 2

    const auto json = parse_rendering(to_json(report, indent), "to_json");
    RXFUZZ_CHECK(json.is_object(), "to_json gives an object");
    const auto fhir = parse_rendering(to_fhir(report, indent), "to_fhir");
    RXFUZZ_CHECK(fhir.is_object() && fhir.value("resourceType", "") == "Bundle", "to_fhir gives a Bundle");
    const auto cds = parse_rendering(to_cds_hooks(report, indent), "to_cds_hooks");
    RXFUZZ_CHECK(cds.is_object() && cds.contains("cards") && cds["cards"].is_array(),
                 "to_cds_hooks gives {\"cards\": [...]}");
    RXFUZZ_CHECK(cds["cards"].size() >= report.warnings.size(), "one card per warning at least");
    (void)to_text(report);
    return 0;
}
