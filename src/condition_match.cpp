// Patient conditions as records and people write them: by code first (ICD-10-CM, SNOMED CT, as
// the pack's conditions carry them, each from a cited source), then by name or synonym, then by
// the same words in another order or with qualifiers around a pack name ("asthma, severe",
// "severe bronchial asthma"). A qualifier alone ("severe") never resolves, and a qualifier the
// caller did not write is never added, except where the pack's name offers it as an alternative
// ("acute or severe bronchial asthma").

#include "detail/impl.hpp"

#include <algorithm>
#include <array>

namespace rxcaution::detail {

std::vector<std::string> suggest_condition_names(const KnowledgeBaseImpl& kb, std::string_view text);  // resolve.cpp

namespace {

bool is_stop_word(std::string_view w) {
    static constexpr std::array<std::string_view, 10> words = {"of", "the", "a", "an", "with", "in", "and", "or", "to", "for"};
    return std::find(words.begin(), words.end(), w) != words.end();
}

// Words that grade or date a condition without naming it: a typed one may be dropped to reach a
// pack name (that name is then the more general condition, whose rules hold for the graded one).
bool is_qualifier(std::string_view w) {
    static constexpr std::array<std::string_view, 14> words = {"acute", "chronic", "severe", "mild", "moderate",
                                                               "significant", "marked", "recent", "current",
                                                               "active", "known", "history", "uncontrolled", "unspecified"};
    return std::find(words.begin(), words.end(), w) != words.end();
}

std::vector<std::string> words_of(std::string_view normalized) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < normalized.size()) {
        std::size_t end = normalized.find(' ', start);
        if (end == std::string_view::npos) end = normalized.size();
        out.emplace_back(normalized.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

std::vector<std::string> word_set(const std::vector<std::string>& tokens) {
    std::vector<std::string> out;
    for (const auto& t : tokens)
        if (!is_stop_word(t)) out.push_back(t);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::string code_key(std::string_view system, std::string_view code) {
    std::string out(system);
    out += ' ';
    for (char c : code) {
        if (c == '.' || c == ' ') continue;
        out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    }
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i]) return false;
    }
    return true;
}

// "F11.20", "I10", "J45.909": a letter, two characters, optionally a dot and up to four more.
bool looks_like_icd10cm(std::string_view c) {
    std::string s;
    for (char ch : c)
        if (ch != '.') s += ch;
    if (s.size() < 3 || s.size() > 7) return false;
    const auto alpha = [](char ch) { return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'); };
    const auto digit = [](char ch) { return ch >= '0' && ch <= '9'; };
    if (!alpha(s[0]) || !digit(s[1])) return false;
    for (char ch : s.substr(2))
        if (!alpha(ch) && !digit(ch)) return false;
    const std::size_t dot = c.find('.');
    return dot == std::string_view::npos || dot == 3;
}

}  // namespace

void KnowledgeBaseImpl::index_conditions_once() const {
    std::call_once(condition_index_once, [this] { index_conditions(); });
}

void KnowledgeBaseImpl::index_conditions() const {
    const KnowledgeBaseImpl& kb = *this;
    const auto& conditions = kb.pack.conditions;
    std::string key;
    for (std::uint32_t c = 0; c < conditions.size(); ++c) {
        const auto& cond = conditions[c];
        auto add_condition = [&](const std::string& text) {
            normalize_name_into(text, key);
            if (key.empty()) return;
            if (kb.condition_names.emplace(key, c).second) kb.condition_pool.emplace_back(key, c);
        };
        for (const auto& n : cond.synonyms) add_condition(n);
        add_condition(cond.id);
        add_condition(cond.name);
    }
    for (std::uint32_t c = 0; c < conditions.size(); ++c) {
        for (const auto& code : conditions[c].codes) kb.condition_codes.emplace(code_key(code.system, code.code), c);
        std::vector<std::string> texts = conditions[c].synonyms;
        texts.push_back(conditions[c].name);
        for (const auto& text : texts) {
            const auto tokens = words_of(normalize_name(text));
            kb.condition_words.push_back({word_set(tokens), c});
            // "X or Y rest": also "X rest" and "Y rest".
            for (std::size_t k = 1; k + 1 < tokens.size(); ++k) {
                if (tokens[k] != "or") continue;
                for (std::size_t drop : {k - 1, k + 1}) {
                    std::vector<std::string> variant;
                    for (std::size_t t = 0; t < tokens.size(); ++t)
                        if (t != drop && t != k) variant.push_back(tokens[t]);
                    kb.condition_words.push_back({word_set(variant), c});
                }
            }
        }
    }
}

std::int64_t KnowledgeBaseImpl::resolve_condition_index(std::string_view text) const {
    const char* ignored = nullptr;
    return resolve_condition_index(text, ignored);
}

std::int64_t KnowledgeBaseImpl::resolve_condition_index(std::string_view text, const char*& matched_by) const {
    index_conditions_once();
    matched_by = "";
    const std::string_view raw = trim(text);
    // --- by code: "icd10:F11.20", "snomed:…", FHIR system URI "system|code", or a bare ICD-10-CM code.
    {
        std::string_view system, code;
        static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> prefixes = {{
            {"http://hl7.org/fhir/sid/icd-10-cm|", "icd-10-cm"},
            {"http://snomed.info/sct|", "snomed-ct"},
            {"icd-10-cm:", "icd-10-cm"},
            {"icd10cm:", "icd-10-cm"},
            {"icd-10:", "icd-10-cm"},
            {"icd10:", "icd-10-cm"},
            {"snomed-ct:", "snomed-ct"},
            {"snomedct:", "snomed-ct"},
            {"snomed:", "snomed-ct"},
            {"sct:", "snomed-ct"},
        }};
        for (const auto& [prefix, sys] : prefixes)
            if (starts_with_nocase(raw, prefix)) {
                system = sys;
                code = trim(raw.substr(prefix.size()));
                break;
            }
        if (system.empty() && looks_like_icd10cm(raw)) {
            system = "icd-10-cm";
            code = raw;
        }
        if (!system.empty()) {
            if (code.empty() || code.size() > 32) return -1;
            std::string key = code_key(system, code);
            // A more specific ICD-10-CM code falls under the pack's category code (F11.23 under
            // F11.2, itself under F11): ICD-10-CM codes nest by prefix.
            const std::size_t floor = system == "icd-10-cm" ? std::string("icd-10-cm ").size() + 3 : key.size();
            while (true) {
                if (auto it = condition_codes.find(std::string_view(key)); it != condition_codes.end()) {
                    matched_by = "code";
                    return it->second;
                }
                if (key.size() <= floor) break;
                key.pop_back();
            }
            return -1;  // a code the pack does not carry is never matched by its text
        }
    }
    // --- by name, synonym or id.
    thread_local std::string key;
    normalize_name_into(text, key);
    if (key.empty()) return -1;
    if (auto it = condition_names.find(std::string_view(key)); it != condition_names.end()) {
        const Condition& c = pack.conditions[it->second];
        matched_by = normalize_name(c.name) == key ? "name" : normalize_name(c.id) == key ? "id" : "synonym";
        return it->second;
    }
    // --- by words. Bounded: a condition text of more than 16 words is not matched by words.
    const auto tokens = words_of(key);
    if (tokens.size() > 16) return -1;
    const auto typed = word_set(tokens);
    if (typed.empty()) return -1;
    // Same words, any order (including the "X or Y" variants of pack names).
    std::int64_t found = -1;
    bool ambiguous = false;
    for (const auto& cw : condition_words) {
        if (cw.words != typed) continue;
        if (found >= 0 && found != cw.condition) ambiguous = true;
        found = cw.condition;
    }
    if (found >= 0 && !ambiguous) {
        matched_by = "words";
        return found;
    }
    if (ambiguous) return -1;
    // A pack name plus qualifiers the caller added ("mild asthma" -> asthma): the largest such
    // name wins; two different conditions at the same size are not guessed between.
    std::size_t best = 0;
    found = -1;
    ambiguous = false;
    for (const auto& cw : condition_words) {
        if (cw.words.empty() || cw.words.size() > typed.size() || cw.words.size() < best) continue;
        if (!std::includes(typed.begin(), typed.end(), cw.words.begin(), cw.words.end())) continue;
        bool only_qualifiers = true;
        for (const auto& w : typed)
            if (!std::binary_search(cw.words.begin(), cw.words.end(), w) && !is_qualifier(w)) only_qualifiers = false;
        if (!only_qualifiers) continue;
        if (cw.words.size() > best) {
            best = cw.words.size();
            found = cw.condition;
            ambiguous = false;
        } else if (found != cw.condition) {
            ambiguous = true;
        }
    }
    if (found >= 0 && !ambiguous) {
        matched_by = "words";
        return found;
    }
    return -1;
}

ConditionResolution KnowledgeBaseImpl::resolve_condition(std::string_view text) const {
    ConditionResolution r;
    r.input = std::string(text);
    const char* by = "";
    const std::int64_t c = resolve_condition_index(text, by);
    if (c >= 0) {
        r.resolved = true;
        r.id = pack.conditions[static_cast<std::size_t>(c)].id;
        r.name = pack.conditions[static_cast<std::size_t>(c)].name;
        r.matched_by = by;
        return r;
    }
    r.suggestions = suggest_condition(text);
    return r;
}

std::vector<std::string> KnowledgeBaseImpl::suggest_condition(std::string_view text) const {
    index_conditions_once();
    // Close spellings first, then conditions sharing a word that is not a qualifier
    // ("asthma exacerbation" -> Asthma, Acute or severe bronchial asthma).
    std::vector<std::string> out = suggest_condition_names(*this, text);
    const std::string key = normalize_name(text);
    const auto tokens = words_of(key);
    if (out.size() < 3 && tokens.size() <= 16) {
        const auto typed = word_set(tokens);
        std::vector<std::pair<std::size_t, std::uint32_t>> scored;  // (shared words, condition)
        for (const auto& cw : condition_words) {
            std::size_t shared = 0;
            for (const auto& w : typed)
                if (!is_qualifier(w) && std::binary_search(cw.words.begin(), cw.words.end(), w)) ++shared;
            if (shared) scored.emplace_back(shared, cw.condition);
        }
        std::stable_sort(scored.begin(), scored.end(), [this](const auto& a, const auto& b) {
            return a.first != b.first ? a.first > b.first : pack.conditions[a.second].name < pack.conditions[b.second].name;
        });
        for (const auto& [shared, c] : scored) {
            const std::string& name = pack.conditions[c].name;
            if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
            if (out.size() == 3) break;
        }
    }
    return out;
}

}  // namespace rxcaution::detail
