#pragma once
/// @file screen.hpp
/// Population screening: many regimens checked in one call (`KnowledgeBase::screen`).
///
/// Input is columnar, the way a table arrives: a dictionary of distinct medication texts, one code
/// per medication entry, and offsets that cut the entries into regimens (compressed sparse rows);
/// the same for patient conditions. Each distinct text is resolved once per call; the regimens are
/// then pure integer work on the compiled knowledge base, spread over a thread pool. Results are
/// compact rows in a deterministic order; `screen_report` / `explain` give the full report of any
/// regimen or row on request.
///
/// Screening runs exactly the check `KnowledgeBase::check` runs: for every regimen, its warning
/// rows are the check's warnings, in the check's order. Inputs that were not checked (unknown
/// text) are rows of their own, never dropped: "no warning row" must never be read as "safe".

#include <rxcaution/export.hpp>
#include <rxcaution/report.hpp>
#include <rxcaution/types.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rxcaution {

class KnowledgeBase;
struct ScreenRow;
struct ScreenSummary;
struct ScreenRuleIds;

/// Most regimens one screen() call accepts (callers stream larger populations in chunks; the
/// command-line `screen` and the Python and Dask front ends do).
inline constexpr std::size_t kMaxScreenRegimens = 50'000'000;
/// Most medication entries (all regimens together) one screen() call accepts.
inline constexpr std::size_t kMaxScreenEntries = 500'000'000;
/// Most distinct texts (medications or conditions) one screen() call accepts; codes are int32.
inline constexpr std::size_t kMaxScreenDistinct = 0x7FFFFFFF;
// Per regimen, the limits of check() apply (kMaxCheckMedications medications and
// kMaxCheckConditions conditions, in knowledge_base.hpp).

/// A batch of regimens in columnar form. Nothing is copied: the spans must stay valid during the
/// call.
///
/// Regimen r has the medication entries `medication_codes[regimen_offsets[r] ..
/// regimen_offsets[r + 1])`, each an index into `medication_texts`; its position inside that range
/// is the entry's input index (as in a check's medication list). Conditions are laid out the same
/// way; leave the three condition spans empty for none.
struct ScreenBatch {
    std::span<const std::string> medication_texts;   ///< distinct medication texts (a dictionary)
    std::span<const std::int64_t> regimen_offsets;   ///< regimens + 1 non-decreasing offsets, first 0
    std::span<const std::int32_t> medication_codes;  ///< one per entry; last offset = its size
    std::span<const std::string> condition_texts;    ///< distinct condition texts
    std::span<const std::int64_t> condition_offsets;  ///< empty, or regimens + 1 offsets
    std::span<const std::int32_t> condition_codes;   ///< one per condition entry
};

/// What to screen for.
struct ScreenOptions {
    /// Warnings below this severity are left out (as CheckContext::min_severity).
    Severity min_severity = Severity::Minor;
    /// Report duplicate-therapy warnings (as CheckContext::duplicate_therapy).
    bool duplicate_therapy = true;
    /// Warning kinds to return; empty means all. Rows for unresolved inputs are always returned.
    std::vector<WarningKind> kinds;
    /// Worker threads; 0 means std::thread::hardware_concurrency(). Results do not depend on it.
    unsigned threads = 0;
    /// When set, the rows are handed to this function instead of being stored in
    /// ScreenResult::rows (which then stays empty): batch by batch, in row order (the order rows
    /// has), each batch once, with the rule ids of the knowledge base (ScreenResult::rule_ids), so
    /// that a front end converts rows while they are still in the processor's cache instead of
    /// reading a table of all rows again afterwards. Called from the worker threads, one call at
    /// a time; the span is valid during the call only. An exception it throws stops the screen
    /// and is rethrown by screen().
    std::function<void(std::span<const ScreenRow> rows, const ScreenRuleIds& ids)> row_sink;
    /// When false, ScreenResult::summaries stays empty: for a caller that needs the rows only (one
    /// partition of a distributed screen, whose unresolved inputs are rows of their own), which
    /// then does not pay for 40 bytes of fresh memory per regimen. The rows do not change.
    bool summaries = true;
    /// When set (and `summaries` is true), the summaries are handed to this function instead of
    /// being stored in ScreenResult::summaries (which then stays empty): chunk by chunk, `first`
    /// being the index of the chunk's first regimen, so that a front end writes them where it
    /// wants them (columns) while they are in the processor's cache. Called from the worker
    /// threads, possibly several at once, each call for its own range of regimens, every regimen
    /// once; the span is valid during the call only. An exception it throws stops the screen and
    /// is rethrown by screen().
    std::function<void(std::size_t first, std::span<const ScreenSummary> summaries)> summary_sink;
};

/// What a row says.
enum class ScreenRowKind : std::uint8_t {
    DrugDrug = 0,            ///< a drug-drug warning
    DrugCondition = 1,       ///< a drug-condition warning
    DuplicateTherapy = 2,    ///< a duplicate-therapy warning
    UnresolvedMedication = 3,  ///< a medication entry that did not resolve: it was NOT checked
    UnresolvedCondition = 4,   ///< a condition entry that did not resolve: it was NOT checked
    Cumulative = 5,            ///< a cumulative warning (a risk across a set of medications)
};

/// `drug-drug`, `drug-condition`, `duplicate-therapy`, `unresolved-medication`, `unresolved-condition`,
/// `cumulative`.
RXCAUTION_EXPORT std::string_view to_string(ScreenRowKind kind) noexcept;

/// The row kind of a warning of kind `kind` (the values differ from cumulative on).
[[nodiscard]] constexpr ScreenRowKind screen_row_kind(WarningKind kind) noexcept {
    return kind == WarningKind::Cumulative ? ScreenRowKind::Cumulative : static_cast<ScreenRowKind>(kind);
}

/// One result row. Warning rows carry the fields of the check's `Warning`; absent indexes are kNone.
/// A cumulative row's input_a/input_b and substance_a/substance_b are the first two of the
/// medications that met the rule (as in the check's Warning); `implicated_count` says how many there
/// are, and explain() lists them all.
struct ScreenRow {
    std::uint64_t regimen = 0;  ///< index of the regimen in the batch
    ScreenRowKind kind = ScreenRowKind::DrugDrug;
    Severity severity = Severity::Minor;  ///< meaningless for unresolved rows
    EvidenceGrade evidence = EvidenceGrade::Secondary;
    /// Input indexes inside the regimen (Warning::input_a/b). Unresolved medication: input_a is the
    /// entry. Unresolved condition: condition_input is the condition entry.
    std::uint32_t input_a = kNone, input_b = kNone;
    std::uint32_t substance_a = kNone, substance_b = kNone;  ///< as Warning::substance_a/b
    /// As Warning::rule: index into interactions(), contraindications(), classes() or
    /// cumulative_rules() by kind; kNone for a duplicate ingredient and for unresolved rows.
    std::uint32_t rule = kNone;
    /// Condition entry inside the regimen (drug-condition; cumulative when the rule needs a condition).
    std::uint32_t condition_input = kNone;
    /// Number of rules this warning superseded (Warning::superseded_count); details via explain().
    std::uint32_t superseded_count = 0;
    /// Cumulative rows: how many medications met the rule (Warning::implicated_count); else 0.
    std::uint32_t implicated_count = 0;
};

/// Per regimen totals.
struct ScreenSummary {
    std::uint32_t medications = 0;       ///< entries
    std::uint32_t conditions = 0;        ///< condition entries
    std::uint32_t warnings = 0;          ///< warning rows (after the kinds filter)
    std::uint32_t by_severity[4] = {};   ///< warning rows per Severity value
    std::uint32_t unresolved_medications = 0;
    std::uint32_t unresolved_conditions = 0;
    std::int8_t max_severity = -1;       ///< highest Severity value among its warnings, -1 for none
};

/// Every rule id a screen row can name, each once, with the code of each rule: built once per
/// knowledge base (by its first screen) and shared by every later screen of it, so that a front
/// end can name the rule of millions of rows with one integer lookup each and one list of ids.
/// The ids are views into the knowledge base: use them while it lives.
struct ScreenRuleIds {
    /// Unique for the life of the process: two knowledge bases never share one, so a front end
    /// can key a cache of converted ids on it.
    std::uint64_t serial = 0;
    /// Distinct rule ids: interaction rules, then contraindications, classes, the
    /// `duplicate-ingredient` pseudo rule and cumulative rules, in that order; an id two tables
    /// share appears once, at its first place.
    std::vector<std::string_view> ids;
    /// Per rule, its index in `ids`: the interaction rules first (by rule index), then
    /// contraindications, classes, the duplicate-ingredient pseudo rule, cumulative rules.
    std::vector<std::uint32_t> codes;
    std::size_t contraindications_at = 0;  ///< where the contraindications start in `codes`
    std::size_t classes_at = 0;            ///< where the classes start
    std::size_t duplicate_at = 0;          ///< the duplicate-ingredient pseudo rule
    std::size_t cumulative_at = 0;         ///< where the cumulative rules start

    /// The index in `ids` of a row's rule; kNone for an unresolved-input row.
    [[nodiscard]] std::uint32_t code(const ScreenRow& row) const noexcept {
        switch (row.kind) {
            case ScreenRowKind::DrugDrug: return codes[row.rule];
            case ScreenRowKind::DrugCondition: return codes[contraindications_at + row.rule];
            case ScreenRowKind::DuplicateTherapy:
                return codes[row.rule == kNone ? duplicate_at : classes_at + row.rule];
            case ScreenRowKind::Cumulative: return codes[cumulative_at + row.rule];
            default: return kNone;
        }
    }
};

/// The answer to `KnowledgeBase::screen`.
struct ScreenResult {
    /// By regimen, then warnings in the order check() gives them, then unresolved medications (by
    /// entry), then unresolved conditions (by entry).
    std::vector<ScreenRow> rows;
    /// One per regimen of the batch (none when ScreenOptions::summaries is false or a
    /// ScreenOptions::summary_sink took them).
    std::vector<ScreenSummary> summaries;
    /// Medication input pairs the batch holds (sum of n(n-1)/2 over regimens).
    std::uint64_t pairs_evaluated = 0;
    /// Per distinct medication text: whether it resolved (same order as ScreenBatch::medication_texts).
    std::vector<bool> medication_resolved;
    /// Per distinct condition text: whether it resolved.
    std::vector<bool> condition_resolved;
    /// Distinct medication texts this call resolved itself; the others were found in the
    /// knowledge base's record of how the texts of its earlier screens resolved (two generations
    /// of at most 131,072 texts each, about 150 bytes a text; texts no longer met age out). A diagnostic: the rows are the
    /// same either way.
    std::size_t texts_resolved = 0;
    /// The rule ids of the knowledge base screened, for naming the rows' rules (never null after
    /// screen()).
    std::shared_ptr<const ScreenRuleIds> rule_ids;
};

/// The full report of regimen `regimen` of a batch: the check screen() ran for it, with its
/// options (min_severity, duplicate_therapy; the kinds filter does not apply to a report).
/// @throws std::out_of_range for a regimen outside the batch; std::invalid_argument for a
///         malformed batch; LimitError as KnowledgeBase::check.
RXCAUTION_EXPORT Report screen_report(const KnowledgeBase& kb, const ScreenBatch& batch, std::size_t regimen,
                                      const ScreenOptions& options = {});

/// A warning row written out in full (summary, explanation, sources...), from the regimen's report.
/// @throws std::invalid_argument for an unresolved-input row (it has no warning: see
///         screen_report(...).input(i) for its suggestions) or a row this batch did not produce;
///         the errors of screen_report().
RXCAUTION_EXPORT WarningDetails explain(const KnowledgeBase& kb, const ScreenBatch& batch, const ScreenRow& row,
                                        const ScreenOptions& options = {});

/// Bytes of freed screening buffers this process keeps mapped for the screens that follow: blocks
/// of 256 KiB and more (a screen's per-call tables of distinct texts; the Python front end's
/// output and encoder columns), kept because fresh memory is a page fault per page. At most 64 MiB
/// and 64 blocks, unless the environment variable RXCAUTION_BLOCK_CACHE_MB (read once, at the first
/// freed block) sets another limit in whole MiB; 0 keeps none. Always 0 where such blocks come from
/// the heap (off Linux, and under AddressSanitizer or MemorySanitizer).
[[nodiscard]] RXCAUTION_EXPORT std::size_t screen_memory_kept() noexcept;

/// Gives every buffer screen_memory_kept() counts back to the operating system now, for a
/// long-running process that is done screening; later screens map fresh memory (and keep buffers
/// again). Safe from any thread, also while other screens run: buffers in use are not touched.
RXCAUTION_EXPORT void release_screen_memory() noexcept;

/// Convenience: a batch built from lists of texts (dictionary-encoded here). The returned object
/// owns its storage; `batch()` views it.
class RXCAUTION_EXPORT OwnedScreenBatch {
public:
    /// @param regimens medications per regimen, as typed.
    /// @param conditions conditions per regimen (empty, or one list per regimen).
    /// @throws std::invalid_argument when `conditions` is neither empty nor as long as `regimens`;
    ///         LimitError for more than kMaxScreenRegimens regimens or kMaxScreenEntries entries.
    explicit OwnedScreenBatch(const std::vector<std::vector<std::string>>& regimens,
                              const std::vector<std::vector<std::string>>& conditions = {});
    /// A view for screen(); valid while this object lives and is not moved.
    [[nodiscard]] ScreenBatch batch() const noexcept;

private:
    std::vector<std::string> medication_texts_, condition_texts_;
    std::vector<std::int64_t> regimen_offsets_, condition_offsets_;
    std::vector<std::int32_t> medication_codes_, condition_codes_;
};

}  // namespace rxcaution
