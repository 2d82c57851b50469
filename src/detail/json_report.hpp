#pragma once
// Shared by the JSON, FHIR and CDS Hooks renderers.

#include "detail/render.hpp"

#include <rxcaution/report.hpp>

#include <nlohmann/json.hpp>

namespace rxcaution::detail {

// The JSON contract text of a report (indent < 0: one line).
std::string report_json_text(const Report& report, int indent);

std::string dump(const nlohmann::ordered_json& j, int indent);

}  // namespace rxcaution::detail
