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
    normalize_name_into(text, out);
    return out;
}

void normalize_name_into(std::string_view text, std::string& out) {
    out.clear();
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

namespace {

// The rewrites tried after an exact match fails: the key without dose and form words, and then
// also without salt words.
struct Rewrites {
    std::vector<std::string> tokens;
    std::string no_dose, no_salt;
};

Rewrites rewrites(const std::string& key) {
    Rewrites r;
    r.tokens = split(key);
    std::vector<std::string> no_dose;
    for (const auto& t : r.tokens)
        if (!is_dose_or_form_word(t)) no_dose.push_back(t);
    r.no_dose = join(no_dose);
    std::vector<std::string> no_salt;
    for (const auto& t : no_dose)
        if (!is_salt_word(t)) no_salt.push_back(t);
    r.no_salt = join(no_salt);
    return r;
}

}  // namespace

std::vector<std::string> KnowledgeBaseImpl::suggest(std::string_view text) const {
    const std::string key = normalize_name(text);
    const Rewrites rw = rewrites(key);
    const std::string& query = rw.no_salt.empty() ? key : rw.no_salt;
    return rank(query, suggestion_pool, [this](const NameTarget& t) {
        return t.kind == EntityKind::Product ? pack.products[t.index].name : pack.substances[t.index].name;
    });
}

std::vector<std::string> KnowledgeBaseImpl::suggest_condition(std::string_view text) const {
    return rank(normalize_name(text), condition_pool, [this](std::uint32_t c) { return pack.conditions[c].name; });
}

InputRef KnowledgeBaseImpl::resolve_ref(std::string_view text) const {
    // Most inputs are exact names: normalise into a reused buffer and look up without allocating.
    thread_local std::string buffer;
    normalize_name_into(text, buffer);
    return resolve_normalized(buffer);
}

InputRef KnowledgeBaseImpl::resolve_normalized(std::string_view key) const {
    auto found = [](const NameTarget& t, MatchedBy by) { return InputRef{true, t.kind, t.index, by}; };
    auto lookup = [&](std::string_view k) -> const NameTarget* {
        if (k.empty()) return nullptr;
        auto it = names.find(k);
        return it == names.end() ? nullptr : &it->second;
    };
    if (const NameTarget* t = lookup(key)) return found(*t, t->matched_by);
    const Rewrites rw = rewrites(std::string(key));
    if (rw.tokens.size() >= 2 && rw.tokens[0] == "rxcui") {
        if (const NameTarget* t = lookup(join({rw.tokens.begin() + 1, rw.tokens.end()}))) return found(*t, MatchedBy::Rxcui);
    }
    if (rw.no_dose != key)
        if (const NameTarget* t = lookup(rw.no_dose)) return found(*t, MatchedBy::Normalized);
    if (rw.no_salt != rw.no_dose)
        if (const NameTarget* t = lookup(rw.no_salt)) return found(*t, MatchedBy::Salt);
    return {};
}

Resolution KnowledgeBaseImpl::resolution(std::string_view text, const InputRef& ref,
                                         std::vector<std::string> suggestions) const {
    Resolution r;
    r.input = std::string(text);
    if (!ref.resolved) {
        r.suggestions = std::move(suggestions);
        return r;
    }
    r.resolved = true;
    r.kind = ref.kind;
    r.matched_by = to_text(ref.matched_by);
    if (ref.kind == EntityKind::Product) {
        const auto& p = pack.products[ref.index];
        r.id = p.id;
        r.name = p.name;
        r.ingredients = p.ingredients;
        for (const auto& ii : p.inactive_ingredients) {
            r.not_checked.push_back(ii.substance + ": " + ii.note);
            r.not_checked_ingredients.push_back({ii.substance, ii.note});
        }
    } else {
        const auto& s = pack.substances[ref.index];
        r.id = s.id;
        r.name = s.name;
        r.ingredients = {s.id};
    }
    return r;
}

Resolution KnowledgeBaseImpl::resolve(std::string_view text) const {
    const InputRef ref = resolve_ref(text);
    return resolution(text, ref, ref.resolved ? std::vector<std::string>{} : suggest(text));
}

std::int64_t KnowledgeBaseImpl::resolve_condition_index(std::string_view text) const {
    thread_local std::string key;
    normalize_name_into(text, key);
    if (key.empty()) return -1;
    auto it = condition_names.find(std::string_view(key));
    return it == condition_names.end() ? -1 : static_cast<std::int64_t>(it->second);
}

ConditionResolution KnowledgeBaseImpl::resolve_condition(std::string_view text) const {
    ConditionResolution r;
    r.input = std::string(text);
    const std::int64_t c = resolve_condition_index(text);
    if (c >= 0) {
        r.resolved = true;
        r.id = pack.conditions[static_cast<std::size_t>(c)].id;
        r.name = pack.conditions[static_cast<std::size_t>(c)].name;
        return r;
    }
    r.suggestions = suggest_condition(text);
    return r;
}

}  // namespace rxcaution::detail
