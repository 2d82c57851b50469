// Turning what people type into pack entities: exact names first, then a few well-understood
// rewrites (dose and form words, salt words), then ranked suggestions. No fuzzy match is ever
// accepted silently: a misspelling stays unresolved and gets suggestions.

#include "detail/impl.hpp"

#include <algorithm>
#include <set>
#include <unordered_set>

namespace rxcaution::detail {

std::string normalize_name(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    bool space = false;
    for (unsigned char c : text) {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) {
            if (space && !out.empty()) out += ' ';
            space = false;
            out += static_cast<char>(c);
        } else if (c >= 'A' && c <= 'Z') {
            if (space && !out.empty()) out += ' ';
            space = false;
            out += static_cast<char>(c - 'A' + 'a');
        } else if (c == '\'') {
            // "St. John's wort" -> "st johns wort": an apostrophe joins, it does not split.
        } else {
            space = true;
        }
    }
    return out;
}

namespace {

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < s.size()) {
        std::size_t end = s.find(' ', start);
        if (end == std::string::npos) end = s.size();
        out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

std::string join(const std::vector<std::string>& tokens) {
    std::string out;
    for (const auto& t : tokens) {
        if (t.empty()) continue;
        if (!out.empty()) out += ' ';
        out += t;
    }
    return out;
}

// Words that describe strength, form or route rather than the medicine ("suboxone 8 2 mg film").
bool is_dose_or_form_word(const std::string& t) {
    static const std::unordered_set<std::string> words = {
        "mg", "mcg", "ug", "g", "ml", "l", "units", "unit", "iu", "meq", "tablet", "tablets", "tab", "tabs",
        "capsule", "capsules", "cap", "caps", "film", "films", "solution", "oral", "sublingual", "sl", "injection",
        "injectable", "inj", "iv", "im", "sc", "subq", "subcutaneous", "nasal", "spray", "patch", "transdermal",
        "er", "xr", "sr", "ir", "cr", "dr", "extended", "release", "odt", "liquid", "concentrate", "suspension",
        "syrup", "elixir", "buccal", "depot", "po", "daily", "bid", "tid", "qid", "prn", "qhs", "dispersible",
        "disintegrating", "per", "dose", "doses", "x"};
    if (words.count(t)) return true;
    // Numbers and number+unit tokens: "8", "10mg", "2mg", "0", "5ml".
    return !t.empty() && t[0] >= '0' && t[0] <= '9';
}

bool is_salt_word(const std::string& t) {
    static const std::unordered_set<std::string> words = {
        "hydrochloride", "hcl", "hydrobromide", "hbr", "sulfate", "sulphate", "bitartrate", "tartrate", "phosphate",
        "citrate", "maleate", "mesylate", "fumarate", "succinate", "acetate", "sodium", "potassium", "besylate",
        "tosylate", "oxalate", "pamoate", "napsylate", "polistirex", "bromide", "dihydrate", "monohydrate",
        "anhydrous", "base", "salt"};
    return words.count(t) > 0;
}

// Optimal string alignment distance, bounded: returns limit + 1 once it is exceeded.
std::size_t distance(const std::string& a, const std::string& b, std::size_t limit) {
    const std::size_t n = a.size(), m = b.size();
    if ((n > m ? n - m : m - n) > limit) return limit + 1;
    std::vector<std::size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
    for (std::size_t j = 0; j <= m; ++j) prev[j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
        cur[0] = i;
        std::size_t row_min = cur[0];
        for (std::size_t j = 1; j <= m; ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], prev2[j - 2] + 1);
            row_min = std::min(row_min, cur[j]);
        }
        if (row_min > limit) return limit + 1;
        std::swap(prev2, prev);
        std::swap(prev, cur);
    }
    return prev[m];
}

template <class Target, class Display>
std::vector<std::string> rank(const std::string& query, const std::vector<std::pair<std::string, Target>>& pool,
                              Display display) {
    if (query.empty()) return {};
    // Allow roughly one edit per three characters, at least one and at most three.
    const std::size_t limit = std::clamp<std::size_t>(query.size() / 3, 1, 3);
    struct Hit {
        std::size_t score;
        std::string name;
    };
    std::vector<Hit> hits;
    for (const auto& [name, target] : pool) {
        std::size_t d = distance(query, name, limit);
        // A typed prefix of a longer name ("bupren") is a good hint too.
        if (d > limit && query.size() >= 4 && name.compare(0, query.size(), query) == 0) d = limit;
        if (d <= limit) hits.push_back({d, display(target)});
    }
    std::stable_sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
        return a.score != b.score ? a.score < b.score : a.name < b.name;
    });
    std::vector<std::string> out;
    for (const auto& h : hits) {
        if (std::find(out.begin(), out.end(), h.name) == out.end()) out.push_back(h.name);
        if (out.size() == 3) break;
    }
    return out;
}

}  // namespace

std::vector<std::string> KnowledgeBaseImpl::suggest(const std::string& normalized) const {
    return rank(normalized, suggestion_pool, [this](const NameTarget& t) {
        return t.kind == EntityKind::Product ? pack.products[t.index].name : pack.substances[t.index].name;
    });
}

std::vector<std::string> KnowledgeBaseImpl::suggest_condition(const std::string& normalized) const {
    return rank(normalized, condition_pool, [this](std::uint32_t c) { return pack.conditions[c].name; });
}

Resolution KnowledgeBaseImpl::resolve(std::string_view text) const {
    Resolution r;
    r.input = std::string(text);
    const std::string key = normalize_name(text);

    auto accept = [&](const NameTarget& t, const char* by) {
        r.resolved = true;
        r.kind = t.kind;
        r.matched_by = by;
        if (t.kind == EntityKind::Product) {
            const auto& p = pack.products[t.index];
            r.id = p.id;
            r.name = p.name;
            r.ingredients = p.ingredients;
            for (const auto& ii : p.inactive_ingredients) r.not_checked.push_back(ii.substance + ": " + ii.note);
        } else {
            const auto& s = pack.substances[t.index];
            r.id = s.id;
            r.name = s.name;
            r.ingredients = {s.id};
        }
    };
    auto lookup = [&](const std::string& k) -> const NameTarget* {
        if (k.empty()) return nullptr;
        auto it = names.find(k);
        return it == names.end() ? nullptr : &it->second;
    };

    if (const NameTarget* t = lookup(key)) {
        accept(*t, t->matched_by);
        return r;
    }
    std::vector<std::string> tokens = split(key);
    if (tokens.size() >= 2 && tokens[0] == "rxcui") {
        if (const NameTarget* t = lookup(join({tokens.begin() + 1, tokens.end()}))) {
            accept(*t, "rxcui");
            return r;
        }
    }
    std::vector<std::string> no_dose;
    for (const auto& t : tokens)
        if (!is_dose_or_form_word(t)) no_dose.push_back(t);
    const std::string k1 = join(no_dose);
    if (k1 != key) {
        if (const NameTarget* t = lookup(k1)) {
            accept(*t, "normalized");
            return r;
        }
    }
    std::vector<std::string> no_salt;
    for (const auto& t : no_dose)
        if (!is_salt_word(t)) no_salt.push_back(t);
    const std::string k2 = join(no_salt);
    if (k2 != k1) {
        if (const NameTarget* t = lookup(k2)) {
            accept(*t, "salt");
            return r;
        }
    }
    r.suggestions = suggest(k2.empty() ? key : k2);
    return r;
}

ConditionResolution KnowledgeBaseImpl::resolve_condition(std::string_view text) const {
    ConditionResolution r;
    r.input = std::string(text);
    const std::string key = normalize_name(text);
    if (auto it = condition_names.find(key); !key.empty() && it != condition_names.end()) {
        r.resolved = true;
        r.id = pack.conditions[it->second].id;
        r.name = pack.conditions[it->second].name;
        return r;
    }
    r.suggestions = suggest_condition(key);
    return r;
}

}  // namespace rxcaution::detail
