#pragma once
// Shared by the JSON, FHIR and CDS Hooks renderers.

#include <rxcaution/report.hpp>

#include <nlohmann/json.hpp>

namespace rxcaution::detail {

inline constexpr const char* kDisclaimer =
    "rxcaution is reference software, not medical advice. No warning found does not mean a combination is safe.";

// The JSON contract text of a report (indent < 0: one line).
std::string report_json_text(const Report& report, int indent);

std::string dump(const nlohmann::ordered_json& j, int indent);

}  // namespace rxcaution::detail
