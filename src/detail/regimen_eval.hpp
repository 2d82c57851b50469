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
struct RegimenView {
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
    // The pair-index passes: the regimen's ingredients flattened (with their duplicate-therapy
    // masks), the first ingredient of each input, the candidate pairs and their rule records.
    struct Candidate {
        std::uint32_t fa, fb;  // positions in the flattened ingredients, of inputs i < j
    };
    std::vector<std::uint32_t> flat_sub, flat_input, flat_begin;
    std::vector<std::uint64_t> flat_starts, flat_member;
    std::vector<Candidate> candidates_ranked;
    std::vector<const KnowledgeBaseImpl::PairHot*> hot;
    // The graph walk (packs without the pair index).
    std::vector<PairHit> hits;
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
