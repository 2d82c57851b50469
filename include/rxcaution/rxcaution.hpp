#pragma once
/// @file rxcaution.hpp
/// Umbrella header: everything a caller of rxcaution needs.
/// rxcaution is reference software, not medical advice.

#include <rxcaution/errors.hpp>
#include <rxcaution/entities.hpp>
#include <rxcaution/knowledge_base.hpp>
#include <rxcaution/report.hpp>
#include <rxcaution/ref_list.hpp>
#include <rxcaution/types.hpp>
