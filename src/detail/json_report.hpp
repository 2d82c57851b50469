#pragma once
// The report as nlohmann::json, shared by the JSON, FHIR and CDS Hooks renderers.

#include <rxcaution/report.hpp>

#include <nlohmann/json.hpp>

namespace rxcaution::detail {

inline constexpr const char* kDisclaimer =
    "rxcaution is reference software, not medical advice. No warning found does not mean a combination is safe.";

nlohmann::ordered_json report_to_json(const Report& report);
nlohmann::ordered_json warning_to_json(const Warning& warning);

std::string dump(const nlohmann::ordered_json& j, int indent);

}  // namespace rxcaution::detail
