#pragma once
// The part of a regimen check that is pure integer work on the compiled index: given inputs that
// are already resolved (entity, ingredient list, which entry repeats which) and the patient's
// conditions expanded to their ancestors, find every warning and put them in report order.
// Shared by check() (one regimen, resolved from its texts) and screen() (many regimens whose
// distinct texts were resolved once), so the two cannot drift apart.

#include "detail/impl.hpp"

#include <rxcaution/report.hpp>

#include <cstdint>
#include <utility>
#include <vector>

namespace rxcaution::detail {

// The ingredients checked for one input: a substance is a list of one; an input that is unresolved
// or repeats an earlier entry has none.
using IngredientSpan = std::pair<const std::uint32_t*, std::size_t>;

// One regimen, resolved. Every array has n entries except `patient`, which has one per pack
// condition (the typed condition that brought it, or -1) and is nullptr when no condition
// resolved.
// The substance pairs with compiled rules, hashed (open addressing): finding a pair's rule span is
// one memory access, where KnowledgeBaseImpl::rules_for_pair's binary search takes several.
// Screening builds it once per knowledge base (build_pair_table); check() keeps the binary search.
struct PairTable {
    // 32 bytes, so that a slot never straddles a cache line: the pair's first rule is kept in the
    // slot itself, and a pair with one rule (most of them) costs a single memory access.
    struct alignas(32) Slot {
        std::uint64_t key;  // a << 32 | b; kEmpty when free
        std::uint32_t offset, count;
        KnowledgeBaseImpl::PoolRule first;
    };
    static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
    std::vector<Slot> slots;
    std::uint64_t mask = 0;
    const KnowledgeBaseImpl::PoolRule* pool = nullptr;
    static std::uint64_t hash(std::uint64_t key) { return (key * 0x9E3779B97F4A7C15ull) >> 20; }
    void prefetch(std::uint32_t a, std::uint32_t b) const {
        const std::uint64_t key = (static_cast<std::uint64_t>(a) << 32) | b;
        __builtin_prefetch(&slots[hash(key) & mask]);
    }
    const KnowledgeBaseImpl::PoolRule* find(std::uint32_t a, std::uint32_t b, std::size_t& count) const {
        const std::uint64_t key = (static_cast<std::uint64_t>(a) << 32) | b;
        for (std::uint64_t h = hash(key) & mask;; h = (h + 1) & mask) {
            const Slot& s = slots[h];
            if (s.key == key) {
                count = s.count;
                return s.count == 1 ? &s.first : pool + s.offset;
            }
            if (s.key == kEmpty) {
                count = 0;
                return nullptr;
            }
        }
    }
};
PairTable build_pair_table(const KnowledgeBaseImpl& kb);

struct RegimenView {
    const PairTable* pairs = nullptr;  // optional: probe pairs here instead of the graph
    std::size_t n = 0;
    const InputRef* refs = nullptr;
    const std::uint32_t* duplicate_of = nullptr;  // earlier entry with the same normalised text, or kNone
    const IngredientSpan* ing = nullptr;
    const std::int64_t* patient = nullptr;
};

struct EvalOptions {
    Severity min_severity = Severity::Minor;
    bool duplicate_therapy = true;
    bool cumulative = true;  // look for cumulative warnings (screen leaves them out when filtered)
};

// An ingredient pair (inputs i < j, ingredient positions x, y) with compiled rules.
struct PairHit {
    std::uint32_t i, j, x, y;
    const KnowledgeBaseImpl::PoolRule* rules;
    std::uint32_t count;
};

// Buffers reused from regimen to regimen by one thread, so that evaluating a regimen allocates
// nothing once they have grown.
struct EvalScratch {
    struct Occurrence {
        std::uint32_t j, y, next;
    };
    struct ProductHit {
        std::uint32_t rule;
        std::size_t lo, hi;
        bool operator==(const ProductHit&) const = default;
    };
    std::vector<PairHit> hits;
    std::vector<const KnowledgeBaseImpl::PairSpan*> spans;  // per hit, while the rank index is probed
    std::vector<std::uint32_t> stamp, head;
    std::uint32_t epoch = 0;
    std::vector<Occurrence> occ;
    std::vector<std::size_t> later;
    std::vector<std::uint64_t> fired;
    std::vector<ProductHit> product_fired;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> candidates;
    // Cumulative rules (evaluate_cumulative): per rule, the epoch it was last touched and its
    // per-requirement counts; per substance hit, the epoch it was counted in.
    struct CumulativeInput {
        std::uint32_t rule, mask, substance;
    };
    struct CumulativeMatch {
        std::uint32_t rule, input, substance;
    };
    std::vector<std::uint32_t> cum_stamp, cum_slot;
    std::vector<std::uint8_t> cum_counts;
    std::uint32_t cum_epoch = 0;
    std::vector<std::uint32_t> cum_touched;
    std::vector<CumulativeInput> cum_local;
    std::vector<CumulativeMatch> cum_matches;
};

// Appends the regimen's warnings to `warnings` (which must be empty: positions are the regimen's)
// in report order, the rules they superseded to `superseded` (Warning::superseded_begin is an
// offset into it) and the medications of cumulative warnings to `implicated`
// (Warning::implicated_begin is an offset into it).
void evaluate_regimen(const KnowledgeBaseImpl& kb, const RegimenView& regimen, const EvalOptions& options,
                      EvalScratch& scratch, std::vector<Warning>& warnings, std::vector<std::uint32_t>& superseded,
                      std::vector<Implicated>& implicated);

// The cumulative pass of evaluate_regimen (issue 12): appends a warning for every cumulative rule
// the regimen meets, unordered. Costs one range test per ingredient when no ingredient can count
// towards a cumulative rule (KnowledgeBaseImpl::cumulative_contributes).
void evaluate_cumulative(const KnowledgeBaseImpl& kb, const RegimenView& regimen, const EvalOptions& options,
                         EvalScratch& scratch, std::vector<Warning>& warnings, std::vector<Implicated>& implicated);

}  // namespace rxcaution::detail
