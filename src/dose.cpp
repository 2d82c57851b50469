// Reading a dose out of a medication's text (see detail/dose.hpp). One left-to-right pass: find a
// number, read the unit right after it, then compare the words that follow with a short list of
// frequencies. Nothing here backtracks, so the cost is linear in the text.

#include "detail/dose.hpp"

#include <array>
#include <cstddef>
#include <string>

namespace rxcaution::detail {

namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }
bool alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// The text from `i` with case folded and every run of other characters read as one space, up to
// `limit` characters: enough to compare with the frequency phrases.
std::string words_after(std::string_view text, std::size_t i, std::size_t limit) {
    std::string out;
    bool space = false;
    for (; i < text.size() && out.size() < limit; ++i) {
        const char c = text[i];
        if (alpha(c) || digit(c)) {
            if (space && !out.empty()) out += ' ';
            space = false;
            out += lower(c);
        } else if (c == '/') {
            if (!out.empty()) out += ' ';
            out += '/';
            space = false;
        } else {
            space = true;
        }
    }
    return out;
}

struct Frequency {
    std::string_view words;
    int per_day;
};
// Longest phrases first where one is the start of another ("once a day" before "once").
constexpr std::array<Frequency, 24> kFrequencies{{
    {"/ day", 1},           {"/ d", 1},          {"/day", 1},           {"/d", 1},
    {"a day", 1},           {"per day", 1},      {"daily", 1},          {"every day", 1},
    {"each day", 1},        {"qd", 1},           {"once daily", 1},     {"once a day", 1},
    {"bid", 2},             {"twice daily", 2},  {"twice a day", 2},    {"b i d", 2},
    {"tid", 3},             {"three times daily", 3}, {"three times a day", 3}, {"t i d", 3},
    {"qid", 4},             {"four times daily", 4},  {"four times a day", 4},  {"q i d", 4},
}};

// Unit at text[i..]: its factor to mg and its length, or 0 when there is none.
double unit_at(std::string_view text, std::size_t i, std::size_t& length) {
    std::size_t end = i;
    std::string unit;
    // "µg" is two bytes in UTF-8 (C2 B5) followed by g.
    if (text.substr(i, 3) == "\xC2\xB5g") {
        length = 3;
        return 0.001;
    }
    while (end < text.size() && alpha(text[end]) && unit.size() < 16) unit += lower(text[end++]);
    if (end < text.size() && alpha(text[end])) return 0;  // a longer word: not a unit
    length = end - i;
    if (unit == "mg" || unit == "milligram" || unit == "milligrams") return 1;
    if (unit == "mcg" || unit == "ug" || unit == "microgram" || unit == "micrograms") return 0.001;
    if (unit == "g" || unit == "gram" || unit == "grams") return 1000;
    return 0;
}

}  // namespace

std::optional<ParsedDose> parse_dose(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (!digit(text[i]) || (i > 0 && (alpha(text[i - 1]) || digit(text[i - 1]) || text[i - 1] == '.'))) continue;
        // A number: digits, optionally a decimal part; at most 9 digits before the point.
        std::size_t j = i;
        double value = 0;
        int whole = 0;
        while (j < text.size() && digit(text[j])) {
            if (++whole > 9) break;
            value = value * 10 + (text[j++] - '0');
        }
        if (whole > 9) {
            while (j < text.size() && digit(text[j])) ++j;
            i = j;
            continue;
        }
        if (j + 1 < text.size() && text[j] == '.' && digit(text[j + 1])) {
            double scale = 0.1;
            for (++j; j < text.size() && digit(text[j]); ++j, scale /= 10) value += (text[j] - '0') * scale;
        }
        std::size_t k = j;
        while (k < text.size() && text[k] == ' ') ++k;
        std::size_t unit_length = 0;
        const double factor = unit_at(text, k, unit_length);
        if (factor == 0 || unit_length == 0) {
            i = j;  // the digits are consumed; the loop's ++i moves past them
            continue;
        }
        ParsedDose dose;
        dose.amount_mg = value * factor;
        std::size_t end = k + unit_length;
        const std::string rest = words_after(text, end, 24);
        for (const Frequency& f : kFrequencies) {
            if (rest.compare(0, f.words.size(), f.words) != 0) continue;
            if (rest.size() > f.words.size() && rest[f.words.size()] != ' ') continue;  // a whole phrase only
            dose.per_day = f.per_day;
            // Extend the matched text over the phrase, reading the original characters it came from.
            auto separator = [&](std::size_t q) { return !alpha(text[q]) && !digit(text[q]) && text[q] != '/'; };
            std::size_t p = end;
            for (const char w : f.words) {
                while (p < text.size() && separator(p)) ++p;
                if (w != ' ' && p < text.size()) ++p;
            }
            end = p;
            break;
        }
        while (end > i && text[end - 1] == ' ') --end;
        dose.text = text.substr(i, end - i);
        return dose;
    }
    return std::nullopt;
}

}  // namespace rxcaution::detail
