// Turning what people type into pack entities: exact names first, then a few well-understood
// rewrites (dose and form words, salt words), then ranked suggestions. No fuzzy match is ever
// accepted silently: a misspelling stays unresolved and gets suggestions.

#include "detail/dose.hpp"
#include "detail/impl.hpp"
#include "detail/rxnorm_name.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <unordered_set>

namespace rxcaution::detail {

std::string normalize_name(std::string_view text) {
    std::string out;
    normalize_name_into(text, out);
    return out;
}

namespace {
// Per byte: 0 separates words, 1 is an apostrophe ("St. John's wort" -> "st johns wort": it
// joins, it does not split), anything else is the byte kept (lower-cased).
constexpr auto kNameBytes = [] {
    std::array<unsigned char, 256> t{};
    for (int c = 0; c < 256; ++c) {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) t[c] = static_cast<unsigned char>(c);
        else if (c >= 'A' && c <= 'Z') t[c] = static_cast<unsigned char>(c - 'A' + 'a');
        else if (c == '\'') t[c] = 1;
    }
    return t;
}();
}  // namespace

bool is_normalized_name(std::string_view text) noexcept {
    // normalize_name_into gives back the same bytes exactly when every byte is kept as it is,
    // except single spaces between words.
    if (text.empty() || text.front() == ' ' || text.back() == ' ') return false;
    unsigned char previous = 0;
    for (unsigned char c : text) {
        const unsigned char v = kNameBytes[c];
        if (v != c && !(c == ' ' && previous != ' ')) return false;
        previous = c;
    }
    return true;
}

void normalize_name_into(std::string_view text, std::string& out) {
    // One table lookup a byte and writes through a pointer: a check normalises every input.
    static constexpr const auto& kTable = kNameBytes;
    // A space is written only in place of at least one separator, so the result is never longer.
    out.resize(text.size());
    char* const begin = out.data();
    char* p = begin;
    bool space = false;
    for (unsigned char c : text) {
        const unsigned char v = kTable[c];
        if (v > 1) {
            if (space && p != begin) *p++ = ' ';
            space = false;
            *p++ = static_cast<char>(v);
        } else if (v == 0) {
            space = true;
        }
    }
    out.resize(static_cast<std::size_t>(p - begin));
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
std::size_t distance(std::string_view a, std::string_view b, std::size_t limit) {
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

// `pool`: (normalised name, target) pairs, the name a std::string or a std::string_view.
template <class Pool, class Display>
std::vector<std::string> rank(const std::string& query, const Pool& pool, Display display) {
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
    // The pool holds positions in the name table (no second copy of every name is kept).
    std::vector<std::pair<std::string_view, NameTarget>> pool;
    pool.reserve(suggestion_pool.size());
    for (const auto& [entry, target] : suggestion_pool) pool.emplace_back(names.entry(entry).first, target);
    return rank(query, pool, [this](const NameTarget& t) {
        return t.kind == EntityKind::Product ? pack.products[t.index].name : pack.substances[t.index].name;
    });
}

std::vector<std::string> suggest_condition_names(const KnowledgeBaseImpl& kb, std::string_view text) {
    return rank(normalize_name(text), kb.condition_pool, [&kb](std::uint32_t c) { return kb.pack.conditions[c].name; });
}

// What comes before a dose the name rewrites do not take apart ("methadone 250mg/day" ->
// "methadone"; dose.cpp), or empty. Tried last, after the vocabulary and RxNorm-style names, which
// read doses of their own.
std::string_view dose_prefix(std::string_view key) {
    const auto dose = parse_dose(key);
    if (!dose || dose->text.data() <= key.data()) return {};
    std::string_view name = key.substr(0, static_cast<std::size_t>(dose->text.data() - key.data()));
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    return name;
}

InputRef KnowledgeBaseImpl::resolve_ref(std::string_view text) const {
    // Most inputs are exact names: normalise into a reused buffer and look up without allocating.
    thread_local std::string buffer;
    normalize_name_into(text, buffer);
    InputRef ref = resolve_normalized(buffer);
    if (ref.resolved) return ref;
    const std::string key = buffer;  // the buffer is reused by the call below
    if (const std::string_view name = dose_prefix(key); !name.empty()) {
        ref = resolve_ref(name);
        if (ref.resolved && ref.matched_by != MatchedBy::Salt) ref.matched_by = MatchedBy::Normalized;
    }
    return ref;
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

const Vocabulary* KnowledgeBaseImpl::vocabulary() const {
    const Vocabulary* v = builtin_vocabulary();
    if (!v) return nullptr;
    std::call_once(vocabulary_once, [&] {
        // Join by the identifiers the pack's substances carry, never by name: a substance without
        // a DrugBank id or UNII stays apart from the vocabulary.
        for (std::uint32_t s = 0; s < pack.substances.size(); ++s) {
            const auto& ids = pack.substances[s].identifiers;
            std::uint32_t d = ids.drugbank.empty() ? kNoIndex : v->by_drugbank(ids.drugbank);
            if (d == kNoIndex && !ids.unii.empty()) d = v->by_unii(ids.unii);
            if (d != kNoIndex) vocabulary_join.emplace_back(d, s);
        }
        std::sort(vocabulary_join.begin(), vocabulary_join.end());
        // Two substances claiming one drug (never seen): the first keeps it.
        vocabulary_join.erase(std::unique(vocabulary_join.begin(), vocabulary_join.end(),
                                          [](const auto& x, const auto& y) { return x.first == y.first; }),
                              vocabulary_join.end());
    });
    return v;
}

std::uint32_t KnowledgeBaseImpl::vocabulary_substance(std::uint32_t drug) const {
    auto it = std::lower_bound(vocabulary_join.begin(), vocabulary_join.end(), std::pair{drug, 0u});
    return it != vocabulary_join.end() && it->first == drug ? it->second : kNoIndex;
}

namespace {

MatchedBy vocabulary_matched_by(Vocabulary::KeyKind k) {
    switch (k) {
        case Vocabulary::KeyKind::Drugbank: return MatchedBy::Drugbank;
        case Vocabulary::KeyKind::Unii: return MatchedBy::Unii;
        case Vocabulary::KeyKind::Cas: return MatchedBy::Cas;
        case Vocabulary::KeyKind::Name: return MatchedBy::VocabularyName;
        case Vocabulary::KeyKind::Synonym: return MatchedBy::VocabularySynonym;
    }
    return MatchedBy::VocabularyName;
}

// A vocabulary lookup as an input reference: the pack's substance when joined, else the
// vocabulary drug alone; ambiguous names stay unresolved.
InputRef vocabulary_ref(const KnowledgeBaseImpl& kb, const Vocabulary& v, std::string_view key, bool& hit) {
    hit = false;
    const Vocabulary::Match m = v.match(key);
    if (m.range.empty()) return {};
    hit = true;
    InputRef r;
    if (m.drug == kNoIndex) {
        r.form = RefForm::Ambiguous;
        return r;
    }
    r.resolved = true;
    r.vocab = m.drug;
    r.matched_by = vocabulary_matched_by(m.kind);
    const std::uint32_t s = kb.vocabulary_substance(m.drug);
    if (s != kNoIndex) {
        r.kind = EntityKind::Substance;
        r.index = s;
    } else {
        r.form = RefForm::VocabularyOnly;
        r.index = kNoIndex;
    }
    return r;
}

}  // namespace

InputRef KnowledgeBaseImpl::resolve_input(std::string_view raw, std::string_view key, ResolvedParts& pool) const {
    if (key.empty()) return {};
    if (auto it = names.find(key); it != names.end()) return InputRef::of(it->second);
    const Vocabulary* v = vocabulary();
    bool hit = false;
    if (v) {
        InputRef r = vocabulary_ref(*this, *v, key, hit);
        if (hit) return r;  // resolved, or ambiguous (reported, not guessed)
    }
    if (InputRef r = resolve_normalized(key); r.resolved) return r;
    // RxNorm-style names before the vocabulary's rewrites: dropping dose words from
    // "acetaminophen 325 MG / oxycodone 5 MG Oral Tablet" would leave a name of neither.
    if (auto parsed = parse_rxnorm_name(raw)) {
        // Each ingredient resolves like a typed name, without the RxNorm step.
        std::string part_key;
        bool part_ambiguous = false;
        auto one = [&](std::string_view text, InputRef& out) {
            part_ambiguous = false;
            normalize_name_into(text, part_key);
            if (part_key.empty()) return false;
            if (auto it = names.find(std::string_view(part_key)); it != names.end()) {
                out = InputRef{true, it->second.kind, it->second.index, MatchedBy::RxnormName};
                return true;
            }
            bool h = false;
            if (v) {
                InputRef r = vocabulary_ref(*this, *v, part_key, h);
                if (h && r.resolved) {
                    out = r;
                    return true;
                }
                if (h) {
                    part_ambiguous = true;  // not guessed
                    return false;
                }
            }
            if (InputRef r = resolve_normalized(part_key); r.resolved) {
                out = r;
                return true;
            }
            if (v) {
                const Rewrites rw = rewrites(part_key);
                for (const std::string* k : {&rw.no_dose, &rw.no_salt}) {
                    if (k->empty() || *k == part_key) continue;
                    InputRef r = vocabulary_ref(*this, *v, *k, h);
                    if (h && r.resolved) {
                        out = r;
                        return true;
                    }
                    if (h) {
                        part_ambiguous = true;
                        return false;
                    }
                }
            }
            return false;
        };
        // A known brand in brackets names the product itself (its inactive ingredients and its
        // own rules come with it) when its ingredients include every ingredient the name lists.
        std::vector<InputRef> refs(parsed->ingredients.size());
        std::vector<char> ok(parsed->ingredients.size(), 0), ambiguous(parsed->ingredients.size(), 0);
        std::size_t resolved = 0;
        for (std::size_t k = 0; k < refs.size(); ++k) {
            resolved += (ok[k] = one(parsed->ingredients[k], refs[k]) ? 1 : 0);
            ambiguous[k] = part_ambiguous ? 1 : 0;
        }
        if (!parsed->brand.empty()) {
            normalize_name_into(parsed->brand, part_key);
            if (auto it = names.find(std::string_view(part_key)); it != names.end() && resolved == refs.size()) {
                const NameTarget t = it->second;
                std::vector<std::uint32_t> have;
                if (t.kind == EntityKind::Product) have = product_ingredients[t.index];
                else have = {t.index};
                bool all = true;
                for (const InputRef& r : refs) {
                    const bool in = r.form == RefForm::Entity && r.kind == EntityKind::Substance &&
                                    std::find(have.begin(), have.end(), r.index) != have.end();
                    const bool same = r.form == RefForm::Entity && r.kind == t.kind && r.index == t.index;
                    all = all && (in || same);
                }
                if (all) return InputRef{true, t.kind, t.index, MatchedBy::RxnormBrand};
            }
        }
        if (resolved == 0) return {};
        if (refs.size() == 1) {
            InputRef r = refs[0];
            r.matched_by = MatchedBy::RxnormName;
            return r;
        }
        InputRef r;
        r.resolved = true;
        r.form = RefForm::Composite;
        r.kind = EntityKind::Substance;  // never read as an entity: form says where its ingredients are
        r.index = kNoIndex;
        r.matched_by = MatchedBy::RxnormName;
        r.parts_begin = static_cast<std::uint32_t>(pool.parts.size());
        r.subs_begin = static_cast<std::uint32_t>(pool.substances.size());
        for (std::size_t k = 0; k < refs.size(); ++k) {
            NamePart part;
            part.text = std::string(parsed->ingredients[k]);
            part.ambiguous = ambiguous[k] != 0;
            if (ok[k]) {
                part.vocab = refs[k].vocab;
                if (refs[k].form == RefForm::Entity) {
                    // A product named inside a multi-ingredient string stands for its active ingredients.
                    if (refs[k].kind == EntityKind::Product) {
                        for (std::uint32_t s : product_active_ingredients[refs[k].index])
                            if (std::find(pool.substances.begin() + r.subs_begin, pool.substances.end(), s) ==
                                pool.substances.end())
                                pool.substances.push_back(s);
                        part.substance = product_active_ingredients[refs[k].index].empty()
                                             ? kNoIndex
                                             : product_active_ingredients[refs[k].index].front();
                    } else {
                        part.substance = refs[k].index;
                        if (std::find(pool.substances.begin() + r.subs_begin, pool.substances.end(), part.substance) ==
                            pool.substances.end())
                            pool.substances.push_back(part.substance);
                    }
                }
            }
            pool.parts.push_back(std::move(part));
        }
        r.parts_count = static_cast<std::uint32_t>(pool.parts.size()) - r.parts_begin;
        r.subs_count = static_cast<std::uint32_t>(pool.substances.size()) - r.subs_begin;
        return r;
    }
    if (v) {
        const Rewrites rw = rewrites(std::string(key));
        for (const std::string* k : {&rw.no_dose, &rw.no_salt}) {
            if (k->empty() || *k == key) continue;
            InputRef r = vocabulary_ref(*this, *v, *k, hit);
            if (hit) {
                if (r.resolved) r.matched_by = r.matched_by == MatchedBy::VocabularySynonym ? r.matched_by
                                                                                             : MatchedBy::VocabularyName;
                return r;
            }
        }
    }
    // A dose the rewrites above do not take apart: the name before it. Shorter, so this ends.
    if (const std::string_view name = dose_prefix(key); !name.empty()) {
        InputRef ref = resolve_input(name, name, pool);
        if (ref.resolved && ref.form == RefForm::Entity && ref.matched_by != MatchedBy::Salt)
            ref.matched_by = MatchedBy::Normalized;
        return ref;
    }
    return {};
}

Coverage KnowledgeBaseImpl::coverage(const InputRef& ref, const ResolvedParts* pool) const {
    if (!ref.resolved) return Coverage::Unresolved;
    switch (ref.form) {
        case RefForm::Entity:
            if (ref.kind == EntityKind::Product) return product_has_rules[ref.index] ? Coverage::Covered : Coverage::NoRules;
            return substance_has_rules[ref.index] ? Coverage::Covered : Coverage::NoRules;
        case RefForm::Composite:
            if (pool)
                for (std::uint32_t k = 0; k < ref.subs_count; ++k)
                    if (substance_has_rules[pool->substances[ref.subs_begin + k]]) return Coverage::Covered;
            return Coverage::NoRules;
        case RefForm::VocabularyOnly: return Coverage::NoRules;
        case RefForm::Ambiguous: return Coverage::Unresolved;
    }
    return Coverage::Unresolved;
}

Resolution KnowledgeBaseImpl::resolution(std::string_view text, const InputRef& ref,
                                         std::vector<std::string> suggestions, const ResolvedParts* pool) const {
    Resolution r;
    r.input = std::string(text);
    r.coverage = coverage(ref, pool);
    const Vocabulary* v = (ref.vocab != kNoIndex || ref.form == RefForm::Ambiguous) ? vocabulary() : nullptr;
    if (!ref.resolved) {
        if (ref.form == RefForm::Ambiguous && v) {
            // The same key that was looked up: the caller's text, normalised.
            std::vector<std::string> names_seen;
            std::string key = normalize_name(text);
            auto cands = v->candidates(key);
            if (cands.empty()) {
                const Rewrites rw = rewrites(key);
                for (const std::string* k : {&rw.no_dose, &rw.no_salt})
                    if (cands.empty() && !k->empty()) cands = v->candidates(*k);
            }
            for (std::uint32_t d : cands) {
                r.ambiguous.push_back(std::string(v->name(d)) + " (" + std::string(v->drugbank(d)) + ")");
                names_seen.emplace_back(v->name(d));
            }
            if (suggestions.empty()) suggestions = names_seen;
        }
        r.suggestions = std::move(suggestions);
        return r;
    }
    r.resolved = true;
    r.kind = ref.kind;
    r.matched_by = to_text(ref.matched_by);
    if (v && ref.vocab != kNoIndex) r.drugbank = std::string(v->drugbank(ref.vocab));
    if (ref.form == RefForm::VocabularyOnly) {
        r.kind = EntityKind::Substance;
        r.id = r.drugbank;
        r.name = std::string(v->name(ref.vocab));
        r.vocabulary_only = true;
        return r;
    }
    if (ref.form == RefForm::Composite) {
        const Vocabulary* voc = vocabulary();
        r.kind = EntityKind::Product;
        if (pool) {
            for (std::uint32_t k = 0; k < ref.parts_count; ++k) {
                const NamePart& part = pool->parts[ref.parts_begin + k];
                std::string shown = part.text;
                if (part.substance != kNoIndex) shown = pack.substances[part.substance].name;
                else if (part.vocab != kNoIndex && voc) shown = std::string(voc->name(part.vocab));
                r.name += (k ? " / " : "") + shown;
                if (part.substance != kNoIndex) continue;
                std::string reason;
                if (part.vocab != kNoIndex && voc)
                    reason = "recognised as " + std::string(voc->name(part.vocab)) + " (DrugBank " +
                             std::string(voc->drugbank(part.vocab)) + "), but this pack has no rules for it";
                else if (part.ambiguous)
                    reason = "names several drugs of the vocabulary, so it was not guessed and not checked";
                else
                    reason = "not recognised by the pack or its vocabulary, so not checked";
                r.not_checked.push_back(part.text + ": " + reason);
                r.not_checked_ingredients.push_back({part.text, reason});
            }
            for (std::uint32_t k = 0; k < ref.subs_count; ++k)
                r.ingredients.push_back(pack.substances[pool->substances[ref.subs_begin + k]].id);
        }
        return r;
    }
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
    ResolvedParts pool;
    const InputRef ref = resolve_input(text, normalize_name(text), pool);
    return resolution(text, ref, ref.resolved || ref.form == RefForm::Ambiguous ? std::vector<std::string>{} : suggest(text),
                      &pool);
}

}  // namespace rxcaution::detail
