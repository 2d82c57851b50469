// The regimen check, as integer work: inputs are resolved to entity indexes, every input pair costs
// one binary search in the compiled graph's Interacts edges per ingredient pair, and warnings are
// plain data. No English is written here: the rendering module writes it when a caller asks.

#include "detail/regimen_eval.hpp"
#include "detail/report_data.hpp"

#include <rxcaution/errors.hpp>

#include <algorithm>
#include <array>
#include <cstdint>

namespace rxcaution::detail {

namespace {

// Per-thread buffers reused from check to check, so that a check allocates little beyond its
// report; one thread_local object, because each thread_local costs a TLS lookup in a shared library.
struct Scratch {
    std::vector<std::uint32_t> singles;
    std::vector<IngredientSpan> ing;
    std::vector<std::string> keys;
    std::vector<std::uint32_t> by_key;
    std::vector<const NameTarget*> found;
    std::vector<std::uint64_t> hashes;
    EvalScratch eval;
};

// Up to this many inputs, repeats are found by comparing every pair (no sort, and no string
// comparison for names the pack knows); beyond it, by sorting the texts.
constexpr std::size_t kPairwiseDuplicates = 32;

}  // namespace

Report run_check(const std::shared_ptr<const KnowledgeBaseImpl>& kbp, std::vector<std::string> medications_in,
                 const CheckContext& context) {
    const KnowledgeBaseImpl& kb = *kbp;
    const auto& pack = kb.pack;
    auto data = std::make_shared<Report::Data>();
    data->kb = kbp;

    // --- resolve inputs -------------------------------------------------------------------------
    const std::size_t n = medications_in.size();
    if (n > kMaxCheckMedications) throw LimitError("medications", kMaxCheckMedications, n);
    if (context.conditions.size() > kMaxCheckConditions)
        throw LimitError("conditions", kMaxCheckConditions, context.conditions.size());
    data->inputs = std::move(medications_in);
    const std::vector<std::string>& medications = data->inputs;
    data->refs.resize(n);
    data->duplicate_of.assign(n, kNone);
    // Ingredient lists as (pointer, length) views: a substance is a list of one. Scratch buffers
    // are per thread and reused, so a check allocates little beyond its report.
    thread_local Scratch scratch;
    Scratch& sc = scratch;
    auto& singles = sc.singles;
    auto& ing = sc.ing;
    auto& keys = sc.keys;
    auto& by_key = sc.by_key;
    singles.assign(n, 0);
    ing.assign(n, {nullptr, 0});
    if (keys.size() < n) keys.resize(n);
    // Each text's entry in the pack's name table (most inputs are found there), or nullptr. In
    // passes, so that the lookups' cache misses overlap: every name is normalised and hashed and
    // its slot requested, then every slot read and its entry requested, then the entries compared.
    auto& found = sc.found;
    auto& hashes = sc.hashes;
    found.resize(n);
    hashes.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        normalize_name_into(medications[i], keys[i]);
        hashes[i] = NameTable::hash(keys[i]);
        kb.names.prefetch_slot(hashes[i]);
    }
    for (std::size_t i = 0; i < n; ++i) kb.names.prefetch_entry(hashes[i]);
    for (std::size_t i = 0; i < n; ++i) {
        const auto it = keys[i].empty() ? kb.names.end() : kb.names.find(std::string_view(keys[i]), hashes[i]);
        found[i] = it == kb.names.end() ? nullptr : &it->second;
    }
    // A repeated entry (same normalised text) is checked once, through its first occurrence.
    if (n <= kPairwiseDuplicates) {
        // Texts found in the name table are equal exactly when their entries are: their first
        // occurrences are kept in a small table keyed by entry; only the texts the name table
        // does not know are compared, with each other.
        constexpr std::size_t kSlots = 2 * kPairwiseDuplicates;
        static_assert(kSlots == 64, "the slot is the top 6 bits of the hash below");
        std::array<const NameTarget*, kSlots> seen{};
        std::array<std::uint32_t, kSlots> first{};
        for (std::size_t i = 0; i < n; ++i) {
            if (const NameTarget* t = found[i]) {
                std::size_t h = (reinterpret_cast<std::uintptr_t>(t) >> 3) * 0x9E3779B97F4A7C15ull >> 58;  // 6 bits
                while (seen[h] && seen[h] != t) h = (h + 1) % kSlots;
                if (seen[h]) {
                    data->duplicate_of[i] = first[h];
                } else {
                    seen[h] = t;
                    first[h] = static_cast<std::uint32_t>(i);
                }
                continue;
            }
            for (std::size_t j = 0; j < i; ++j)
                if (!found[j] && data->duplicate_of[j] == kNone && keys[j] == keys[i]) {
                    data->duplicate_of[i] = static_cast<std::uint32_t>(j);
                    break;
                }
        }
    } else {
        // Found by sorting, so n entries cost O(n log n) however many repeat.
        by_key.resize(n);
        for (std::uint32_t i = 0; i < n; ++i) by_key[i] = i;
        std::sort(by_key.begin(), by_key.end(), [&keys](std::uint32_t x, std::uint32_t y) {
            const int c = keys[x].compare(keys[y]);
            return c != 0 ? c < 0 : x < y;
        });
        for (std::size_t k = 1; k < n; ++k)
            if (keys[by_key[k]] == keys[by_key[k - 1]])
                data->duplicate_of[by_key[k]] =
                    data->duplicate_of[by_key[k - 1]] == kNone ? by_key[k - 1] : data->duplicate_of[by_key[k - 1]];
    }
    for (std::size_t i = 0; i < n; ++i) {
        InputRef& ref = data->refs[i];
        if (const std::uint32_t first = data->duplicate_of[i]; first != kNone) {
            ref = data->refs[first];
            continue;  // not checked again: its ingredient list stays empty
        }
        // Suggestions for an unresolved entry are searched only when the report is read: the
        // search costs far more than a check, and screening never reads them.
        if (const NameTarget* t = found[i]) ref = InputRef::of(*t);  // resolve_input's first step, already done
        else ref = kb.resolve_input(medications[i], keys[i], data->parts);
        if (!ref.resolved) continue;
        if (ref.form == RefForm::VocabularyOnly) continue;  // recognised, but no substance of the pack: nothing to check
        if (ref.form == RefForm::Composite) continue;       // its ingredient span is taken below, once the pool stops growing
        if (ref.kind == EntityKind::Product) {
            const auto& active = kb.product_active_ingredients[ref.index];
            ing[i] = {active.data(), active.size()};
        } else {
            singles[i] = ref.index;
            ing[i] = {&singles[i], 1};
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        const InputRef& ref = data->refs[i];
        if (ref.resolved && ref.form == RefForm::Composite && data->duplicate_of[i] == kNone)
            ing[i] = {data->parts.substances.data() + ref.subs_begin, ref.subs_count};
    }
    // Patient conditions, expanded to their ancestors; remember which typed condition led where.
    const std::size_t nc = context.conditions.size();
    data->condition_inputs = context.conditions;
    data->condition_refs.assign(nc, -1);
    std::vector<std::int64_t> patient;  // condition ancestor -> typed input
    if (nc) patient.assign(pack.conditions.size(), -1);
    bool any_condition = false;
    for (std::size_t c = 0; c < nc; ++c) {
        const std::int64_t ci = kb.resolve_condition_index(context.conditions[c]);
        data->condition_refs[c] = ci;
        if (ci < 0) continue;
        for (std::uint32_t a : kb.condition_ancestors[static_cast<std::size_t>(ci)])
            if (patient[a] < 0) {
                patient[a] = static_cast<std::int64_t>(c);
                any_condition = true;
            }
    }

    const EvalOptions options{context.min_severity, context.duplicate_therapy};
    RegimenView view;
    view.n = n;
    view.refs = data->refs.data();
    view.duplicate_of = data->duplicate_of.data();
    view.ing = ing.data();
    view.patient = any_condition ? patient.data() : nullptr;
    std::vector<Warning>& warnings = data->warnings;
    warnings.reserve(16);
    evaluate_regimen(kb, view, options, sc.eval, warnings, data->superseded, data->implicated);
    for (const auto& w : warnings)
        if (!data->max_severity || w.severity > *data->max_severity) data->max_severity = w.severity;
    return ReportAccess::make(std::move(data));
}

}  // namespace rxcaution::detail
