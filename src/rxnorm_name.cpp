// RxNorm-style names, as NLM builds them: ingredients with strengths joined by " / ", then the
// dose form, optionally a leading quantity or duration ("12 HR", "1 ML", "200 ACTUAT") and a
// trailing "[Brand]"; packs wrap components as "{n (component) / n (component) } Pack [Brand]".
// Ingredient names may hold commas and parentheses ("estrogens, conjugated (USP) 0.625 MG"), so
// separators count only outside parentheses.

#include "detail/rxnorm_name.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace rxcaution::detail {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "5", "0.025", ".5", "2.5%": a strength or quantity value.
bool is_number(std::string_view t) {
    if (t.empty()) return false;
    if (t.back() == '%') t.remove_suffix(1);
    bool digit = false, dot = false;
    for (char c : t) {
        if (is_digit(c)) digit = true;
        else if (c == '.' && !dot) dot = true;
        else return false;
    }
    return digit;
}

// RxNorm strength units ("MG", "MG/ML", "MCG/HR", "MG/ACTUAT", "UNT/ML", "%", "MEQ", "MG/MG"...),
// and the quantity units of a leading quantity ("12 HR", "7 DAY", "1 ML", "200 ACTUAT").
bool is_unit(std::string_view t) {
    static constexpr std::array<std::string_view, 16> units = {"mg", "mcg", "g", "ml", "unt", "meq", "%", "actuat",
                                                               "hr", "day", "l", "mmol", "cell", "bau", "au", "pfu"};
    const std::size_t slash = t.find('/');
    std::string_view head = slash == std::string_view::npos ? t : t.substr(0, slash);
    for (auto u : units)
        if (iequals(head, u)) return true;
    return false;
}

bool is_quantity_unit(std::string_view t) {
    static constexpr std::array<std::string_view, 6> units = {"hr", "day", "ml", "actuat", "mg", "g"};
    for (auto u : units)
        if (iequals(t, u)) return true;
    return false;
}

// Dose-form words (RxNorm's DF names are made of these), for names given without a strength
// ("acetaminophen / oxycodone Oral Tablet").
bool is_form_word(std::string_view t) {
    static constexpr std::array<std::string_view, 44> words = {
        "oral", "tablet", "capsule", "solution", "suspension", "injection", "injectable", "sublingual", "buccal",
        "film", "transdermal", "system", "patch", "extended", "release", "delayed", "disintegrating", "chewable",
        "topical", "nasal", "spray", "inhaler", "inhalation", "metered", "dose", "powder", "cream", "ointment", "gel",
        "lotion", "prefilled", "syringe", "cartridge", "auto-injector", "pen", "implant", "rectal", "suppository",
        "ophthalmic", "otic", "vaginal", "product", "pack", "kit"};
    for (auto w : words)
        if (iequals(t, w)) return true;
    return false;
}

struct Token {
    std::string_view text;
    int depth;  // parentheses open before it
};

// Splits on spaces; parentheses depth is tracked so that "(USP)" inside a name is not structure.
std::vector<Token> tokens(std::string_view s) {
    std::vector<Token> out;
    int depth = 0;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') ++i;
        const std::size_t start = i;
        const int at = depth;
        while (i < s.size() && s[i] != ' ') {
            if (s[i] == '(') ++depth;
            else if (s[i] == ')' && depth > 0) --depth;
            ++i;
        }
        if (i > start) out.push_back({s.substr(start, i - start), at});
    }
    return out;
}

// Splits at " / " outside parentheses and brackets.
std::vector<std::string_view> split_slash(std::string_view s) {
    std::vector<std::string_view> out;
    int depth = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '(' || c == '[' || c == '{') ++depth;
        else if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
        else if (c == '/' && depth == 0 && i > 0 && s[i - 1] == ' ' && i + 1 < s.size() && s[i + 1] == ' ') {
            out.push_back(trim(s.substr(start, i - start)));
            start = i + 1;
        }
    }
    out.push_back(trim(s.substr(start)));
    return out;
}

// A trailing "[Brand]" (brackets balanced from the end), removed from `s`.
std::string_view take_brand(std::string_view& s) {
    s = trim(s);
    if (s.empty() || s.back() != ']') return {};
    int depth = 0;
    for (std::size_t i = s.size(); i-- > 0;) {
        if (s[i] == ']') ++depth;
        else if (s[i] == '[' && --depth == 0) {
            const std::string_view brand = trim(s.substr(i + 1, s.size() - i - 2));
            s = trim(s.substr(0, i));
            return brand;
        }
    }
    return {};
}

struct Parser {
    RxnormName out;
    bool form = false;
    bool quantity = false;
    bool overflow = false;

    void add(std::string_view name) {
        name = trim(name);
        if (name.empty()) return;
        // Placebo tablets of contraceptive packs.
        if (iequals(name, "inert ingredients") || iequals(name, "inert")) return;
        for (auto n : out.ingredients)
            if (iequals(n, name)) return;
        if (out.ingredients.size() == kMaxRxnormIngredients) {
            overflow = true;
            return;
        }
        out.ingredients.push_back(name);
    }

    // One clinical or branded drug (or component, or form): "12 HR a 1 MG / b 2 MG Form [Brand]".
    void drug(std::string_view s) {
        const std::string_view brand = take_brand(s);
        if (!brand.empty()) out.brand = brand;
        const auto segments = split_slash(s);
        for (std::size_t k = 0; k < segments.size() && !overflow; ++k) {
            const auto toks = tokens(segments[k]);
            std::size_t begin = 0;
            // A leading quantity or duration: "12 HR", "72 HR", "7 DAY", "1 ML", "200 ACTUAT".
            if (k == 0 && toks.size() > 2 && is_number(toks[0].text) && is_quantity_unit(toks[1].text)) {
                begin = 2;
                quantity = true;
            }
            std::size_t end = begin;
            while (end < toks.size() && !(toks[end].depth == 0 && is_number(toks[end].text))) ++end;
            if (end < toks.size()) {
                out.strength = out.strength || (end + 1 < toks.size() && is_unit(toks[end + 1].text)) ||
                               toks[end].text.back() == '%';
                for (std::size_t t = end + 1; t < toks.size(); ++t) form = form || is_form_word(toks[t].text);
            } else if (k + 1 == segments.size()) {
                // No strength: a form name ("acetaminophen / oxycodone Oral Tablet"); the dose form
                // is the run of form words at the end.
                std::size_t f = end;
                while (f > begin && toks[f - 1].depth == 0 && is_form_word(toks[f - 1].text)) --f;
                if (f < end) form = true;
                end = f;
            }
            if (end > begin) {
                const char* first = toks[begin].text.data();
                const char* last = toks[end - 1].text.data() + toks[end - 1].text.size();
                add(std::string_view(first, static_cast<std::size_t>(last - first)));
            }
        }
    }

    // "{n (component) / n (component) } Pack [Brand]".
    bool pack(std::string_view s) {
        const std::string_view brand = take_brand(s);
        if (s.empty() || s.front() != '{') return false;
        const std::size_t close = s.rfind('}');
        if (close == std::string_view::npos) return false;
        if (!iequals(trim(s.substr(close + 1)), "pack")) return false;
        out.pack = true;
        if (!brand.empty()) out.brand = brand;
        for (std::string_view part : split_slash(s.substr(1, close - 1))) {
            if (overflow) break;
            // "30 (buprenorphine 8 MG / naloxone 2 MG Sublingual Tablet)"; a part may also come
            // without its count or parentheses.
            const std::size_t open = part.find('(');
            if (open != std::string_view::npos && part.back() == ')' && is_number(trim(part.substr(0, open))))
                part = part.substr(open + 1, part.size() - open - 2);
            const std::string_view saved = out.brand;
            drug(part);
            out.brand = saved;  // a component's own brand is not the pack's
        }
        return true;
    }
};

}  // namespace

std::optional<RxnormName> parse_rxnorm_name(std::string_view text) {
    text = trim(text);
    if (text.empty()) return std::nullopt;
    Parser p;
    if (text.front() == '{') {
        if (!p.pack(text)) return std::nullopt;
    } else {
        p.drug(text);
    }
    if (p.overflow || p.out.ingredients.empty()) return std::nullopt;
    const bool shaped = p.out.pack || p.out.strength || !p.out.brand.empty() || p.out.ingredients.size() >= 2 ||
                        (p.form && p.quantity);
    // A name with only a dose form ("naltrexone oral tablet") is left to the ordinary rewrites,
    // which already drop form words; so is anything without RxNorm's structure.
    if (!shaped) return std::nullopt;
    return std::move(p.out);
}

}  // namespace rxcaution::detail
