#pragma once
// A dose written in a medication's text ("methadone 120 mg daily", "methadone 250mg/day",
// "citalopram 20 mg bid"), for cumulative rules that carry a dose threshold. Kept apart from name
// resolution (which already ignores dose words): only a rule with a threshold asks for it, when
// its warning is written.

#include <optional>
#include <string_view>

namespace rxcaution::detail {

struct ParsedDose {
    double amount_mg = 0;    // one dose, in mg
    int per_day = 0;         // doses a day as written (daily = 1, bid = 2 ...); 0 when not written
    std::string_view text;   // the part of the input that gave the dose ("250mg/day")
    [[nodiscard]] bool daily_known() const { return per_day > 0; }
    [[nodiscard]] double mg_per_day() const { return amount_mg * per_day; }
};

// The first "<number> <unit>" in the text (unit mg, mcg, ug, µg or g, or their long forms),
// with the frequency that follows it, if any. Linear in the text's length; no allocation.
std::optional<ParsedDose> parse_dose(std::string_view text);

}  // namespace rxcaution::detail
