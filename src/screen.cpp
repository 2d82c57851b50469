// Population screening: the distinct texts of a batch are resolved once, then every regimen is the
// integer core check() runs (detail/regimen_eval.hpp), on a few threads, each working through
// chunks of regimens with its own buffers. Rows of a chunk are kept apart and joined in chunk order,
// so the result is the same on any number of threads.

#include "detail/regimen_eval.hpp"

#include <rxcaution/errors.hpp>
#include <rxcaution/knowledge_base.hpp>
#include <rxcaution/screen.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>

namespace rxcaution {

std::string_view to_string(ScreenRowKind kind) noexcept {
    switch (kind) {
        case ScreenRowKind::DrugDrug: return "drug-drug";
        case ScreenRowKind::DrugCondition: return "drug-condition";
        case ScreenRowKind::DuplicateTherapy: return "duplicate-therapy";
        case ScreenRowKind::UnresolvedMedication: return "unresolved-medication";
        case ScreenRowKind::UnresolvedCondition: return "unresolved-condition";
        case ScreenRowKind::Cumulative: return "cumulative";
    }
    return "unknown";
}

namespace {

using detail::EvalOptions;
using detail::EvalScratch;
using detail::IngredientSpan;
using detail::InputRef;
using detail::KnowledgeBaseImpl;
using detail::RefForm;
using detail::RegimenView;

void check_codes(std::span<const std::int32_t> codes, std::size_t dictionary, const char* what) {
    for (std::size_t k = 0; k < codes.size(); ++k)
        if (codes[k] < 0 || static_cast<std::size_t>(codes[k]) >= dictionary)
            throw std::invalid_argument(std::string("screen: ") + what + " code " + std::to_string(codes[k]) +
                                        " at entry " + std::to_string(k) + " is outside its dictionary of " +
                                        std::to_string(dictionary) + " texts");
}

void check_offsets(std::span<const std::int64_t> offsets, std::size_t entries, std::size_t per_regimen_limit,
                   const char* what) {
    if (offsets.empty() || offsets.front() != 0)
        throw std::invalid_argument(std::string("screen: ") + what + " offsets must start at 0");
    for (std::size_t r = 0; r + 1 < offsets.size(); ++r) {
        if (offsets[r + 1] < offsets[r])
            throw std::invalid_argument(std::string("screen: ") + what + " offsets decrease at regimen " +
                                        std::to_string(r));
        const auto n = static_cast<std::size_t>(offsets[r + 1] - offsets[r]);
        if (n > per_regimen_limit) throw LimitError(what, per_regimen_limit, n);
    }
    if (static_cast<std::uint64_t>(offsets.back()) != entries)
        throw std::invalid_argument(std::string("screen: the last ") + what + " offset (" +
                                    std::to_string(offsets.back()) + ") is not the number of codes (" +
                                    std::to_string(entries) + ")");
}

// Throws for anything the workers would otherwise read out of bounds, before any work starts.
void validate(const ScreenBatch& b) {
    if (b.regimen_offsets.empty()) throw std::invalid_argument("screen: regimen offsets must hold regimens + 1 values");
    const std::size_t regimens = b.regimen_offsets.size() - 1;
    if (regimens > kMaxScreenRegimens) throw LimitError("regimens per screen", kMaxScreenRegimens, regimens);
    if (b.medication_codes.size() > kMaxScreenEntries)
        throw LimitError("medication entries per screen", kMaxScreenEntries, b.medication_codes.size());
    if (b.condition_codes.size() > kMaxScreenEntries)
        throw LimitError("condition entries per screen", kMaxScreenEntries, b.condition_codes.size());
    if (b.medication_texts.size() > kMaxScreenDistinct)
        throw LimitError("distinct medication texts", kMaxScreenDistinct, b.medication_texts.size());
    if (b.condition_texts.size() > kMaxScreenDistinct)
        throw LimitError("distinct condition texts", kMaxScreenDistinct, b.condition_texts.size());
    check_offsets(b.regimen_offsets, b.medication_codes.size(), kMaxCheckMedications, "medications");
    check_codes(b.medication_codes, b.medication_texts.size(), "medication");
    if (b.condition_offsets.empty()) {
        if (!b.condition_codes.empty())
            throw std::invalid_argument("screen: condition codes given without condition offsets");
        return;
    }
    if (b.condition_offsets.size() != b.regimen_offsets.size())
        throw std::invalid_argument("screen: condition offsets are for " + std::to_string(b.condition_offsets.size() - 1) +
                                    " regimens, medication offsets for " + std::to_string(regimens));
    check_offsets(b.condition_offsets, b.condition_codes.size(), kMaxCheckConditions, "conditions");
    check_codes(b.condition_codes, b.condition_texts.size(), "condition");
}

// How a distinct medication text resolved, shared by every text of the batch that resolved the
// same way (the population's 77,455 texts come to about 2,000 of these: its variants of a name
// -- case, salt, brand -- are one substance). One cache line: a regimen's entries copy it
// (screen_chunk), and a single substance's ingredient list points into it (`single`).
struct alignas(64) TextResolution {
    InputRef ref;
    std::uint32_t single = 0;  // the substance, when it is the only ingredient (ing points here)
    IngredientSpan ing{nullptr, 0};
};
static_assert(sizeof(TextResolution) == 64, "a resolution stays one cache line");

// A distinct medication text as a regimen's entries read it: its normalised text, interned (equal
// keys are repeats of each other), and its resolution. Eight bytes rather than the 64-byte record
// each text had: a regimen's entries are read from places all over this array, and 77,455 texts
// of 64 bytes (5 MB) did not stay in the core's cache, where 620 KB of these mostly do; the
// resolutions they lead to are few and stay there too (perf put half of screen_chunk's time on
// the loads of those 64-byte records).
struct Distinct {
    std::uint32_t key = 0;
    std::uint32_t resolution = 0;
};

// A hash of everything an InputRef holds (resolutions are interned by equal refs).
std::uint64_t ref_hash(const InputRef& r) noexcept {
    std::uint64_t h = (static_cast<std::uint64_t>(r.index) << 32) ^ r.vocab;
    h ^= (static_cast<std::uint64_t>(r.resolved) | static_cast<std::uint64_t>(r.kind) << 1 |
          static_cast<std::uint64_t>(r.matched_by) << 8 | static_cast<std::uint64_t>(r.form) << 16) * 0x9E3779B97F4A7C15ull;
    h ^= (static_cast<std::uint64_t>(r.parts_begin) << 32 | r.parts_count) * 0xC2B2AE3D27D4EB4Full;
    h ^= (static_cast<std::uint64_t>(r.subs_begin) << 32 | r.subs_count) * 0x165667B19E3779F9ull;
    h *= 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

// A pack substance on its own (its ingredient list is itself); not a product, composite or a
// vocabulary drug the pack has no substance for.
bool single_substance(const InputRef& r) noexcept {
    return r.resolved && r.form == RefForm::Entity && r.kind != EntityKind::Product;
}

// The resolutions' table at twice its size, every interned resolution placed again (a composite's
// is its own, never looked up).
void grow_slots(std::vector<std::uint32_t>& slots, const detail::CallVector<TextResolution>& resolutions) {
    std::vector<std::uint32_t> bigger(2 * slots.size(), 0);
    const std::size_t mask = bigger.size() - 1;
    for (std::size_t k = 0; k < resolutions.size(); ++k) {
        if (resolutions[k].ref.form == RefForm::Composite) continue;
        std::size_t at = ref_hash(resolutions[k].ref) & mask;
        while (bigger[at] != 0) at = (at + 1) & mask;
        bigger[at] = static_cast<std::uint32_t>(k + 1);
    }
    slots = std::move(bigger);
}

struct Worker {
    EvalScratch eval;
    std::vector<InputRef> refs;
    std::vector<std::uint32_t> duplicate_of;
    std::vector<IngredientSpan> ing;
    std::vector<std::uint32_t> key_stamp, key_first;  // per key: regimen stamp, first entry
    std::uint32_t stamp = 0;
    std::vector<std::int64_t> patient;  // per pack condition, -1 when absent
    std::vector<std::uint32_t> touched;
    std::vector<Warning> warnings;
    std::vector<std::uint32_t> superseded;
    std::vector<Implicated> implicated;
};

// Every rule id once, a code per rule (see ScreenRuleIds); `serial` tells knowledge bases apart
// for the whole process (called under kept_beside's lock).
std::shared_ptr<ScreenRuleIds> build_rule_ids(const std::shared_ptr<const KnowledgeBaseImpl>& kb) {
    static std::uint64_t serial = 0;
    auto t = std::make_shared<ScreenRuleIds>();
    t->serial = ++serial;
    const auto& pack = kb->pack;
    const std::size_t interactions = kb->interaction_count();
    t->contraindications_at = interactions;
    t->classes_at = t->contraindications_at + pack.contraindications.size();
    t->duplicate_at = t->classes_at + pack.classes.size();
    t->cumulative_at = t->duplicate_at + 1;
    t->codes.reserve(t->cumulative_at + pack.cumulative_rules.size());
    t->ids.reserve(t->codes.capacity());
    // Interaction ids are unique in a valid pack (a snapshot is not validated again, so a repeat
    // still gets the code of its first rule: front ends rely on `ids` holding each id once).
    for (std::size_t r = 0; r < interactions; ++r) {
        const std::string_view id = kb->interaction_id(static_cast<std::uint32_t>(r));
        const std::int64_t first = kb->interaction_index_of(id);
        if (first >= 0 && static_cast<std::size_t>(first) < r) {
            t->codes.push_back(t->codes[static_cast<std::size_t>(first)]);
            continue;
        }
        t->codes.push_back(static_cast<std::uint32_t>(t->ids.size()));
        t->ids.push_back(id);
    }
    std::unordered_map<std::string_view, std::uint32_t> others;
    auto add = [&](std::string_view id) {
        if (const std::int64_t r = kb->interaction_index_of(id); r >= 0) {
            t->codes.push_back(t->codes[static_cast<std::size_t>(r)]);
            return;
        }
        const auto [it, fresh] = others.try_emplace(id, static_cast<std::uint32_t>(t->ids.size()));
        if (fresh) t->ids.push_back(id);
        t->codes.push_back(it->second);
    };
    for (const auto& c : pack.contraindications) add(c.id);
    for (const auto& c : pack.classes) add(c.id);
    add("duplicate-ingredient");
    for (const auto& c : pack.cumulative_rules) add(c.id);
    return t;
}

// A T kept beside a knowledge base while it lives (the compiled knowledge base is immutable and
// shared; what screen learns about it is kept here): made by make() on the first call for that
// knowledge base, under the lock, then shared by every later call. One registry per T.
template <class T, class Make>
std::shared_ptr<T> kept_beside(const std::shared_ptr<const KnowledgeBaseImpl>& kb, Make make) {
    static std::mutex mutex;
    static std::vector<std::pair<std::weak_ptr<const KnowledgeBaseImpl>, std::shared_ptr<T>>> kept;
    const std::lock_guard<std::mutex> lock(mutex);
    std::erase_if(kept, [](const auto& entry) { return entry.first.expired(); });
    for (const auto& [owner, value] : kept)
        if (!owner.owner_before(kb) && !kb.owner_before(owner)) return value;
    std::shared_ptr<T> value = make();
    kept.emplace_back(kb, value);
    return value;
}

// The rule ids of a knowledge base for naming rows (ScreenRuleIds), built by the first screen and
// kept while the knowledge base lives.
std::shared_ptr<const ScreenRuleIds> rule_ids_for(const std::shared_ptr<const KnowledgeBaseImpl>& kb) {
    return kept_beside<const ScreenRuleIds>(kb, [&kb] { return build_rule_ids(kb); });
}

// Per knowledge base, how the texts of earlier screens resolved: a population is screened in
// chunks (the command line, Dask partitions, a caller's batches) that meet mostly the same
// texts, and a text that does not resolve (a typing slip) is the dearest to resolve, as every
// way of reading it is tried. A knowledge base never changes, so neither does a text's answer.
// Bounded, in two generations of at most kTextCacheLimit texts: texts are added to `recent`; a
// full `recent` becomes `older` (the previous `older` is dropped) and a new `recent` starts; a
// text found only in `older` is put back into `recent` by the call that met it. So the texts of
// a population's chunks stay however many there are up to twice the limit (a single table
// emptied when full kept none of them once a population had more distinct texts than the limit:
// every call resolved them all again), and texts no longer met age out. Entries are immutable
// and shared: a call holds those it uses while another drops them.
struct CachedText {
    InputRef ref;
    std::string key;                       // the normalised text (repeats inside a regimen)
    std::vector<std::uint32_t> composite;  // a composite (RxNorm-style) name's pack substances
};

struct TextCache {
    std::shared_mutex mutex;
    detail::TextMap<std::shared_ptr<const CachedText>> recent, older;

    // With the lock held exclusively.
    void add(std::string_view text, const std::shared_ptr<const CachedText>& entry, std::size_t limit) {
        make_room(limit);
        recent.try_emplace(std::string(text), entry);
    }
    // A text found in `older` back into `recent`: its node moves (no copy); a text no longer there
    // (its generation was dropped meanwhile) is added again.
    void renew(std::string_view text, const std::shared_ptr<const CachedText>& entry, std::size_t limit) {
        make_room(limit);
        if (const auto it = older.find(text); it != older.end()) {
            recent.insert(older.extract(it));
            return;
        }
        add(text, entry, limit);
    }

private:
    void make_room(std::size_t limit) {
        if (recent.size() < limit) return;
        older = std::move(recent);
        recent = {};
    }
};

std::shared_ptr<TextCache> text_cache_for(const std::shared_ptr<const KnowledgeBaseImpl>& kb) {
    return kept_beside<TextCache>(kb, [] { return std::make_shared<TextCache>(); });
}

// Most texts a knowledge base's cache of resolved texts holds (each some hundreds of bytes).
constexpr std::size_t kTextCacheLimit = 131072;

// Below this many distinct texts per thread, starting a thread costs more than it saves (a
// thread costs some tens of microseconds; a thousand pack names take about 150 us to resolve).
constexpr std::size_t kTextsPerResolver = 1024;

// fn(t) for t in [0, count), on count - 1 new threads and this one; the first exception is
// rethrown once all have finished.
template <class Fn>
void parallel_for(unsigned count, Fn&& fn) {
    if (count <= 1) {
        fn(0u);
        return;
    }
    std::vector<std::exception_ptr> errors(count);
    std::vector<std::thread> pool;
    pool.reserve(count - 1);
    auto guarded = [&](unsigned t) {
        try {
            fn(t);
        } catch (...) {
            errors[t] = std::current_exception();
        }
    };
    for (unsigned t = 1; t < count; ++t) pool.emplace_back(guarded, t);
    guarded(0);
    for (auto& th : pool) th.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
}

struct Shared {
    const KnowledgeBaseImpl& kb;
    const ScreenBatch& batch;
    const ScreenOptions& options;
    EvalOptions eval_options;
    std::uint32_t kind_mask;  // bit per WarningKind
    const detail::CallVector<Distinct>& meds;
    const detail::CallVector<TextResolution>& resolutions;
    std::size_t key_count;
    const std::vector<std::int64_t>& condition_index;
};

// `summaries` holds the chunk's regimens from `first` on; null when the caller wants none
// (ScreenOptions::summaries).
void screen_chunk(const Shared& s, Worker& w, std::size_t first, std::size_t last, std::vector<ScreenRow>& rows,
                  ScreenSummary* summaries) {
    const KnowledgeBaseImpl& kb = s.kb;
    const ScreenBatch& b = s.batch;
    const bool with_conditions = !b.condition_offsets.empty();
    if (w.key_stamp.size() < s.key_count) {
        w.key_stamp.assign(s.key_count, 0);
        w.key_first.assign(s.key_count, 0);
        w.stamp = 0;
    }
    if (with_conditions && w.patient.size() != kb.pack.conditions.size()) w.patient.assign(kb.pack.conditions.size(), -1);
    for (std::size_t r = first; r < last; ++r) {
        const auto begin = static_cast<std::size_t>(b.regimen_offsets[r]);
        const std::size_t n = static_cast<std::size_t>(b.regimen_offsets[r + 1]) - begin;
        const std::int32_t* codes = b.medication_codes.data() + begin;
        if (w.refs.size() < n) {  // grown, never shrunk: only the first n entries are read
            w.refs.resize(n);
            w.duplicate_of.resize(n);
            w.ing.resize(n);
        }
        // Repeats (same normalised text) are found through a per-key stamp: O(n) per regimen.
        if (++w.stamp == 0) {
            std::fill(w.key_stamp.begin(), w.key_stamp.end(), 0);
            w.stamp = 1;
        }
        for (std::size_t i = 0; i < n; ++i) {
            const Distinct d = s.meds[static_cast<std::size_t>(codes[i])];
            if (w.key_stamp[d.key] == w.stamp) {
                const std::uint32_t f = w.key_first[d.key];
                w.duplicate_of[i] = f;
                w.refs[i] = w.refs[f];
                w.ing[i] = {nullptr, 0};
                continue;
            }
            w.key_stamp[d.key] = w.stamp;
            w.key_first[d.key] = static_cast<std::uint32_t>(i);
            w.duplicate_of[i] = kNone;
            const TextResolution& res = s.resolutions[d.resolution];
            w.refs[i] = res.ref;
            w.ing[i] = res.ing;
        }
        // Conditions, expanded to their ancestors, as check() does.
        std::size_t nc = 0;
        const std::int32_t* ccodes = nullptr;
        bool any_condition = false;
        if (with_conditions) {
            const auto cbegin = static_cast<std::size_t>(b.condition_offsets[r]);
            nc = static_cast<std::size_t>(b.condition_offsets[r + 1]) - cbegin;
            ccodes = b.condition_codes.data() + cbegin;
            for (std::size_t c = 0; c < nc; ++c) {
                const std::int64_t ci = s.condition_index[static_cast<std::size_t>(ccodes[c])];
                if (ci < 0) continue;
                for (std::uint32_t a : kb.condition_ancestors[static_cast<std::size_t>(ci)])
                    if (w.patient[a] < 0) {
                        w.patient[a] = static_cast<std::int64_t>(c);
                        w.touched.push_back(a);
                        any_condition = true;
                    }
            }
        }
        RegimenView view;
        view.n = n;
        view.refs = w.refs.data();
        view.duplicate_of = w.duplicate_of.data();
        view.ing = w.ing.data();
        view.patient = any_condition ? w.patient.data() : nullptr;
        w.warnings.clear();
        w.superseded.clear();
        w.implicated.clear();
        detail::evaluate_regimen(kb, view, s.eval_options, w.eval, w.warnings, w.superseded, w.implicated);
        for (std::uint32_t a : w.touched) w.patient[a] = -1;
        w.touched.clear();

        ScreenSummary sum;
        sum.medications = static_cast<std::uint32_t>(n);
        sum.conditions = static_cast<std::uint32_t>(nc);
        for (const Warning& x : w.warnings) {
            if (!((s.kind_mask >> static_cast<unsigned>(x.kind)) & 1u)) continue;
            ScreenRow row;
            row.regimen = r;
            row.kind = screen_row_kind(x.kind);
            row.severity = x.severity;
            row.evidence = x.evidence;
            row.input_a = x.input_a;
            row.input_b = x.input_b;
            row.substance_a = x.substance_a;
            row.substance_b = x.substance_b;
            row.rule = x.rule;
            row.condition_input = x.condition_input;
            row.superseded_count = x.superseded_count;
            row.implicated_count = x.implicated_count;
            rows.push_back(row);
            ++sum.warnings;
            ++sum.by_severity[static_cast<int>(x.severity)];
            sum.max_severity = std::max(sum.max_severity, static_cast<std::int8_t>(x.severity));
        }
        for (std::size_t i = 0; i < n; ++i) {
            if (w.refs[i].resolved) continue;
            ScreenRow row;
            row.regimen = r;
            row.kind = ScreenRowKind::UnresolvedMedication;
            row.input_a = static_cast<std::uint32_t>(i);
            rows.push_back(row);
            ++sum.unresolved_medications;
        }
        for (std::size_t c = 0; c < nc; ++c) {
            if (s.condition_index[static_cast<std::size_t>(ccodes[c])] >= 0) continue;
            ScreenRow row;
            row.regimen = r;
            row.kind = ScreenRowKind::UnresolvedCondition;
            row.condition_input = static_cast<std::uint32_t>(c);
            rows.push_back(row);
            ++sum.unresolved_conditions;
        }
        if (summaries) summaries[r - first] = sum;
    }
}

}  // namespace

ScreenResult KnowledgeBase::screen(const ScreenBatch& batch, const ScreenOptions& options) const {
    validate(batch);
    const KnowledgeBaseImpl& kb = *impl_;
    const std::size_t regimens = batch.regimen_offsets.size() - 1;
    ScreenResult result;
    // Written in full by the screen: a million regimens' summaries are 40 MB of fresh pages.
    const auto& summary_sink = options.summary_sink;
    const bool sunk_summaries = options.summaries && static_cast<bool>(summary_sink);
    const bool stored_summaries = options.summaries && !summary_sink;
    if (stored_summaries) {
        result.summaries.reserve(regimens);
        detail::advise_huge_pages(result.summaries.data(), regimens * sizeof(ScreenSummary));
        result.summaries.resize(regimens);
    }
    // Where chunk [lo, hi)'s summaries go: the stored ones, a worker's buffer for the sink, or nowhere.
    auto summaries_of = [&](std::vector<ScreenSummary>& buffer, std::size_t lo, std::size_t hi) -> ScreenSummary* {
        if (stored_summaries) return result.summaries.data() + lo;
        if (!sunk_summaries) return nullptr;
        if (buffer.size() < hi - lo) buffer.resize(hi - lo);
        return buffer.data();
    };
    auto hand_summaries = [&](const std::vector<ScreenSummary>& buffer, std::size_t lo, std::size_t hi) {
        if (sunk_summaries) summary_sink(lo, std::span<const ScreenSummary>(buffer.data(), hi - lo));
    };
    result.rule_ids = rule_ids_for(impl_);

    unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    // Each distinct text once: taken from the knowledge base's cache of texts, or normalised and
    // resolved on the worker threads (a population with typing slips has tens of thousands of
    // distinct texts, each a few lookups) and added to the cache; then interned by normalised text.
    detail::CallVector<Distinct> meds(batch.medication_texts.size());
    detail::CallVector<TextResolution> resolutions;
    detail::CallVector<std::shared_ptr<const CachedText>> known(meds.size());
    const std::shared_ptr<TextCache> cache = text_cache_for(impl_);
    const unsigned resolvers = static_cast<unsigned>(
        std::clamp<std::size_t>(meds.size() / kTextsPerResolver, 1, threads));
    // Per resolver, the texts it resolved, and those it found only in the cache's older generation.
    std::vector<std::vector<std::size_t>> fresh(resolvers), aged(resolvers);
    result.medication_resolved.assign(meds.size(), false);
    {
        auto resolve_range = [&](unsigned t) {
            const std::size_t lo = meds.size() * t / resolvers, hi = meds.size() * (t + 1) / resolvers;
            {
                const std::shared_lock<std::shared_mutex> lock(cache->mutex);
                for (std::size_t d = lo; d < hi; ++d) {
                    const std::string_view text = batch.medication_texts[d];
                    if (const auto it = cache->recent.find(text); it != cache->recent.end()) {
                        known[d] = it->second;
                    } else if (const auto old = cache->older.find(text); old != cache->older.end()) {
                        known[d] = old->second;
                        aged[t].push_back(d);
                    }
                }
            }
            detail::ResolvedParts pool;  // ingredients of a multi-ingredient (RxNorm-style) name
            for (std::size_t d = lo; d < hi; ++d) {
                if (known[d]) continue;
                auto text = std::make_shared<CachedText>();
                detail::normalize_name_into(batch.medication_texts[d], text->key);
                // Resolved as check() resolves: pack names, the drug vocabulary, RxNorm-style names.
                pool.parts.clear();
                pool.substances.clear();
                text->ref = kb.resolve_input(batch.medication_texts[d], text->key, pool);
                if (text->ref.form == RefForm::Composite) {
                    const auto first = pool.substances.begin() + text->ref.subs_begin;
                    text->composite.assign(first, first + text->ref.subs_count);
                    text->ref.subs_begin = 0;  // now into `composite`
                }
                known[d] = std::move(text);
                fresh[t].push_back(d);
            }
        };
        parallel_for(resolvers, resolve_range);
        std::size_t added = 0;
        for (unsigned t = 0; t < resolvers; ++t) {
            result.texts_resolved += fresh[t].size();
            added += fresh[t].size() + aged[t].size();
        }
        if (added) {
            const std::unique_lock<std::shared_mutex> lock(cache->mutex);
            for (unsigned t = 0; t < resolvers; ++t) {
                for (std::size_t d : aged[t]) cache->renew(batch.medication_texts[d], known[d], kTextCacheLimit);
                for (std::size_t d : fresh[t]) cache->add(batch.medication_texts[d], known[d], kTextCacheLimit);
            }
        }
        // Keys are views of the texts' normalised forms, which `known` holds for the whole call,
        // interned in an open-addressing table at most half full (a slot holds key + 1; 0 is
        // empty): a hash map with a node per key cost 0.13-0.16 ms per 2,000 texts, every call.
        detail::CallVector<std::string_view> keys;
        detail::CallVector<std::uint64_t> key_hashes;
        keys.reserve(meds.size());
        key_hashes.reserve(meds.size());
        std::size_t key_slots = 16;
        while (key_slots < 2 * meds.size()) key_slots *= 2;
        detail::CallVector<std::uint32_t> key_slot(key_slots, 0);
        // Resolutions, interned the same way (a slot holds resolution + 1); they are few, so
        // their table starts small and doubles.
        std::vector<std::uint32_t> res_slots(64, 0);
        for (std::size_t d = 0; d < meds.size(); ++d) {
            const CachedText& text = *known[d];
            const std::uint64_t h = detail::NameTable::hash(text.key);
            std::size_t at = h & (key_slots - 1);
            for (; key_slot[at] != 0; at = (at + 1) & (key_slots - 1)) {
                const std::uint32_t k = key_slot[at] - 1;
                if (key_hashes[k] == h && keys[k] == text.key) break;
            }
            if (key_slot[at] == 0) {
                keys.push_back(text.key);
                key_hashes.push_back(h);
                key_slot[at] = static_cast<std::uint32_t>(keys.size());
            }
            meds[d].key = key_slot[at] - 1;
            const InputRef& ref = text.ref;
            result.medication_resolved[d] = ref.resolved;
            // A composite's ingredients are its own (text.composite): a resolution of its own.
            if (ref.form == RefForm::Composite) {
                meds[d].resolution = static_cast<std::uint32_t>(resolutions.size());
                resolutions.push_back(TextResolution{ref, 0, {text.composite.data(), text.composite.size()}});
                continue;
            }
            const std::uint64_t rh = ref_hash(ref);
            std::size_t at_r = rh & (res_slots.size() - 1);
            for (; res_slots[at_r] != 0; at_r = (at_r + 1) & (res_slots.size() - 1))
                if (resolutions[res_slots[at_r] - 1].ref == ref) break;
            if (res_slots[at_r] != 0) {
                meds[d].resolution = res_slots[at_r] - 1;
            } else {
                TextResolution r{ref, 0, {nullptr, 0}};  // unresolved, or recognised with no pack substance
                if (single_substance(ref)) {
                    r.single = ref.index;  // ing points at it once the array is complete
                } else if (ref.resolved && ref.form != RefForm::VocabularyOnly) {
                    const auto& active = kb.product_active_ingredients[ref.index];
                    r.ing = {active.data(), active.size()};
                }
                meds[d].resolution = static_cast<std::uint32_t>(resolutions.size());
                resolutions.push_back(r);
                res_slots[at_r] = static_cast<std::uint32_t>(resolutions.size());
                if (2 * resolutions.size() > res_slots.size()) grow_slots(res_slots, resolutions);
            }
        }
        for (TextResolution& r : resolutions)
            if (single_substance(r.ref)) r.ing = {&r.single, 1};
        const std::size_t key_count = keys.size();
        keys = {};
        key_hashes = {};
        key_slot = {};
        std::vector<std::int64_t> condition_index(batch.condition_texts.size());
        result.condition_resolved.assign(condition_index.size(), false);
        for (std::size_t c = 0; c < condition_index.size(); ++c) {
            condition_index[c] = kb.resolve_condition_index(batch.condition_texts[c]);
            result.condition_resolved[c] = condition_index[c] >= 0;
        }
        for (std::size_t r = 0; r < regimens; ++r) {
            const auto n = static_cast<std::uint64_t>(batch.regimen_offsets[r + 1] - batch.regimen_offsets[r]);
            result.pairs_evaluated += n * (n ? n - 1 : 0) / 2;
        }

        std::uint32_t mask = 0;
        if (options.kinds.empty()) mask = 0xF;
        for (WarningKind k : options.kinds) mask |= 1u << static_cast<unsigned>(k);
        // Leaving out duplicate therapy also spares looking for it.
        const bool duplicates = options.duplicate_therapy && ((mask >> static_cast<unsigned>(WarningKind::DuplicateTherapy)) & 1u);
        const bool cumulative = (mask >> static_cast<unsigned>(WarningKind::Cumulative)) & 1u;
        const Shared shared{kb, batch, options, EvalOptions{options.min_severity, duplicates, cumulative}, mask, meds, resolutions, key_count,
                            condition_index};

        // Chunks small enough to balance the threads, large enough that taking one costs nothing.
        const std::size_t chunk = std::clamp<std::size_t>(regimens / (std::size_t{threads} * 16 + 1), 64, 16384);
        const std::size_t chunks = (regimens + chunk - 1) / chunk;
        threads = static_cast<unsigned>(std::min<std::size_t>(threads, std::max<std::size_t>(chunks, 1)));
        const auto& sink = options.row_sink;
        // On one thread chunks are taken in order, so rows go straight into the result (or the
        // sink); on several, each chunk's rows are kept apart and joined (or handed to the sink)
        // in chunk order.
        std::vector<std::vector<ScreenRow>> chunk_rows(threads <= 1 ? 0 : chunks);
        std::atomic<std::size_t> next{0};
        // Several threads with a sink: the sink sees rows in chunk order, one call at a time, while
        // the other threads go on screening. Whoever holds deliver_mutex hands over every finished
        // chunk in order; a thread that finishes a chunk while another holds it does not wait (it
        // would idle for the whole of the other's sink calls): it marks the chunk finished and goes
        // back to screening, and the holder checks again after letting go. Chunks that slip
        // between (try_lock may also fail for no reason) are handed over once the threads are done.
        std::mutex deliver_mutex;
        std::unique_ptr<std::atomic<bool>[]> finished;
        if (sink && threads > 1) finished = std::make_unique<std::atomic<bool>[]>(chunks);  // all false
        std::size_t delivered = 0;            // with deliver_mutex
        std::atomic<bool> sink_failed{false};  // then nothing more is handed over
        // Row buffers of delivered chunks, kept for the next chunks: a chunk's rows then go into
        // memory that has room and is already mapped, instead of a new vector doubling its way up
        // (and faulting in fresh pages) for every chunk.
        std::mutex spare_mutex;
        std::vector<std::vector<ScreenRow>> spare;
        auto hand_over = [&]() {  // with deliver_mutex
            for (; !sink_failed.load() && delivered < chunks && finished[delivered].load(); ++delivered) {
                try {
                    sink(chunk_rows[delivered], *result.rule_ids);
                } catch (...) {
                    sink_failed.store(true);
                    throw;
                }
                std::vector<ScreenRow> done = std::move(chunk_rows[delivered]);  // leaves it empty
                done.clear();
                const std::lock_guard<std::mutex> lock(spare_mutex);
                if (spare.size() < 2 * std::size_t{threads}) spare.push_back(std::move(done));
            }
            return delivered;
        };
        auto deliver_in_order = [&](std::size_t c) {
            finished[c].store(true);
            for (;;) {
                std::unique_lock<std::mutex> lock(deliver_mutex, std::try_to_lock);
                if (!lock.owns_lock()) return;
                const std::size_t wanted = hand_over();
                lock.unlock();
                if (wanted >= chunks || sink_failed.load() || !finished[wanted].load()) return;
            }
        };
        auto spare_buffer = [&]() -> std::vector<ScreenRow> {
            const std::lock_guard<std::mutex> lock(spare_mutex);
            if (spare.empty()) return {};
            std::vector<ScreenRow> v = std::move(spare.back());
            spare.pop_back();
            return v;
        };
        auto run = [&](Worker& w) {
            std::vector<ScreenRow> own;  // one thread with a sink: a chunk's rows, while in the cache
            std::vector<ScreenSummary> sums;  // a chunk's summaries, for the summary sink
            for (std::size_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < chunks;) {
                const std::size_t lo = c * chunk, hi = std::min(regimens, (c + 1) * chunk);
                ScreenSummary* const summaries = summaries_of(sums, lo, hi);
                if (threads > 1) {
                    // Filled here and moved in after: the vectors of chunk_rows sit next to each
                    // other, and the threads' neighbouring chunks growing them in place wrote to
                    // the same cache lines at every row (screen_chunk took 1.7x its one-thread
                    // share of the profile on two threads).
                    std::vector<ScreenRow> rows = sink ? spare_buffer() : std::vector<ScreenRow>{};
                    screen_chunk(shared, w, lo, hi, rows, summaries);
                    hand_summaries(sums, lo, hi);
                    chunk_rows[c] = std::move(rows);
                    if (sink) deliver_in_order(c);
                } else if (sink) {
                    own.clear();
                    screen_chunk(shared, w, lo, hi, own, summaries);
                    hand_summaries(sums, lo, hi);
                    sink(own, *result.rule_ids);
                } else {
                    screen_chunk(shared, w, lo, hi, result.rows, summaries);
                    hand_summaries(sums, lo, hi);
                    // Room for the rows the first chunk suggests (an eighth more), so that the
                    // rows are not copied again and again as the vector doubles; at most 16.8 M
                    // rows (0.9 GB), since a first chunk of unusually large regimens (a table
                    // sorted by regimen size) would suggest far more rows than come.
                    if (c == 0 && chunks > 1) {
                        const std::size_t expected = result.rows.size() * chunks;
                        result.rows.reserve(std::min(expected + expected / 8, std::size_t{1} << 24));
                    }
                }
            }
        };
        parallel_for(threads, [&](unsigned) {
            try {
                Worker w;
                run(w);
            } catch (...) {
                next.store(chunks);  // the others stop at their next chunk
                throw;
            }
        });
        if (finished) {
            const std::lock_guard<std::mutex> lock(deliver_mutex);
            hand_over();
        }
        std::size_t total = result.rows.size();
        for (const auto& v : chunk_rows) total += v.size();
        result.rows.reserve(total);
        for (auto& v : chunk_rows) {
            result.rows.insert(result.rows.end(), v.begin(), v.end());
            v = {};
        }
    }
    return result;
}

std::size_t screen_memory_kept() noexcept { return detail::cached_block_bytes(); }

void release_screen_memory() noexcept { detail::release_cached_blocks(); }

ScreenResult KnowledgeBase::screen(const std::vector<std::vector<std::string>>& regimens,
                                   const std::vector<std::vector<std::string>>& conditions,
                                   const ScreenOptions& options) const {
    const OwnedScreenBatch owned(regimens, conditions);
    return screen(owned.batch(), options);
}

OwnedScreenBatch::OwnedScreenBatch(const std::vector<std::vector<std::string>>& regimens,
                                   const std::vector<std::vector<std::string>>& conditions) {
    if (!conditions.empty() && conditions.size() != regimens.size())
        throw std::invalid_argument("screen: " + std::to_string(conditions.size()) + " condition lists for " +
                                    std::to_string(regimens.size()) + " regimens");
    if (regimens.size() > kMaxScreenRegimens) throw LimitError("regimens per screen", kMaxScreenRegimens, regimens.size());
    auto encode = [](const std::vector<std::vector<std::string>>& lists, std::vector<std::string>& texts,
                     std::vector<std::int64_t>& offsets, std::vector<std::int32_t>& codes, const char* what) {
        std::unordered_map<std::string_view, std::int32_t> seen;
        offsets.reserve(lists.size() + 1);
        offsets.push_back(0);
        for (const auto& list : lists) {
            if (codes.size() + list.size() > kMaxScreenEntries)
                throw LimitError(what, kMaxScreenEntries, codes.size() + list.size());
            for (const auto& text : list) {
                const auto [it, fresh] = seen.try_emplace(text, static_cast<std::int32_t>(seen.size()));
                codes.push_back(it->second);
            }
            offsets.push_back(static_cast<std::int64_t>(codes.size()));
        }
        texts.resize(seen.size());
        for (const auto& [text, code] : seen) texts[static_cast<std::size_t>(code)] = std::string(text);
    };
    encode(regimens, medication_texts_, regimen_offsets_, medication_codes_, "medication entries per screen");
    if (!conditions.empty())
        encode(conditions, condition_texts_, condition_offsets_, condition_codes_, "condition entries per screen");
}

ScreenBatch OwnedScreenBatch::batch() const noexcept {
    ScreenBatch b;
    b.medication_texts = medication_texts_;
    b.regimen_offsets = regimen_offsets_;
    b.medication_codes = medication_codes_;
    b.condition_texts = condition_texts_;
    b.condition_offsets = condition_offsets_;
    b.condition_codes = condition_codes_;
    return b;
}

Report screen_report(const KnowledgeBase& kb, const ScreenBatch& batch, std::size_t regimen, const ScreenOptions& options) {
    validate(batch);
    const std::size_t regimens = batch.regimen_offsets.size() - 1;
    if (regimen >= regimens)
        throw std::out_of_range("screen: regimen " + std::to_string(regimen) + " is outside a batch of " +
                                std::to_string(regimens));
    std::vector<std::string> meds;
    for (auto k = batch.regimen_offsets[regimen]; k < batch.regimen_offsets[regimen + 1]; ++k)
        meds.push_back(batch.medication_texts[static_cast<std::size_t>(batch.medication_codes[static_cast<std::size_t>(k)])]);
    CheckContext context;
    context.min_severity = options.min_severity;
    context.duplicate_therapy = options.duplicate_therapy;
    if (!batch.condition_offsets.empty())
        for (auto k = batch.condition_offsets[regimen]; k < batch.condition_offsets[regimen + 1]; ++k)
            context.conditions.push_back(
                batch.condition_texts[static_cast<std::size_t>(batch.condition_codes[static_cast<std::size_t>(k)])]);
    return kb.check(std::move(meds), context);
}

WarningDetails explain(const KnowledgeBase& kb, const ScreenBatch& batch, const ScreenRow& row, const ScreenOptions& options) {
    if (row.kind == ScreenRowKind::UnresolvedMedication || row.kind == ScreenRowKind::UnresolvedCondition)
        throw std::invalid_argument("screen: an " + std::string(to_string(row.kind)) +
                                    " row has no warning to explain (the input was not checked)");
    const Report report = screen_report(kb, batch, static_cast<std::size_t>(row.regimen), options);
    for (const Warning& w : report.warnings())
        if (screen_row_kind(w.kind) == row.kind && w.input_a == row.input_a &&
            w.input_b == row.input_b && w.rule == row.rule && w.substance_a == row.substance_a &&
            w.substance_b == row.substance_b && w.condition_input == row.condition_input)
            return report.details(w);
    throw std::invalid_argument("screen: regimen " + std::to_string(row.regimen) +
                                " has no such warning (a row of another batch or other options?)");
}

}  // namespace rxcaution
