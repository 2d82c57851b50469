#pragma once
/// @file knowledge_base.hpp
/// The knowledge base: a validated, immutable knowledge pack compiled for fast regimen checks.

#include <rxcaution/entities.hpp>
#include <rxcaution/export.hpp>
#include <rxcaution/ref_list.hpp>
#include <rxcaution/report.hpp>
#include <rxcaution/screen.hpp>
#include <rxcaution/types.hpp>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rxcaution {

namespace detail {
struct KnowledgeBaseImpl;
}

/// Limits applied while loading a pack.
struct LoadOptions {
    /// Files (and in-memory texts) larger than this are rejected with a DataError before parsing.
    std::size_t max_file_bytes = 64u * 1024u * 1024u;
};

/// Most medications one check accepts (after that, check() throws LimitError). Repeated entries
/// count: a list this long is not a regimen, and the limit bounds the work a caller can ask for.
inline constexpr std::size_t kMaxCheckMedications = 10000;
/// Most patient conditions one check accepts.
inline constexpr std::size_t kMaxCheckConditions = 1000;

/// Patient context for a check.
struct CheckContext {
    /// Patient conditions as typed ("hypertension", "long QT syndrome"); resolved like medications.
    std::vector<std::string> conditions;
    /// Warnings below this severity are left out of the report.
    Severity min_severity = Severity::Minor;
    /// Report duplicate-therapy warnings (same ingredient twice, or two members of a class that
    /// the pack marks for duplication).
    bool duplicate_therapy = true;
};

/// An immutable knowledge base. Copies are cheap (they share one const implementation) and every
/// const member function is safe to call from many threads at once.
class RXCAUTION_EXPORT KnowledgeBase {
public:
    /// The curated pack compiled into the library as a snapshot (validated and compiled when the
    /// library was built); needs no files at run time. The first call reads it; later calls
    /// return the same instance. Sections a check rarely reads are built on first use (see
    /// classes()).
    /// @throws DataError (never expected: the snapshot is written and tested at build time).
    static KnowledgeBase builtin();

    /// Loads a pack directory (containing manifest.json), a manifest file, a bundled pack file,
    /// or a binary snapshot (`.rxpack`, written by save() or `rxcaution compile`; recognised by
    /// its first bytes, whatever the file is called). A snapshot is not validated again: it was
    /// when it was compiled; its bytes are checked (signature, format version, byte order,
    /// length, checksum, every count and index) so that a damaged file is an error, not a crash.
    /// @param path directory or file.
    /// @param options load limits.
    /// Files are streamed (their whole text is never held), each parsed once; the pack is loaded
    /// completely or not at all.
    /// @throws DataError if a file is missing, too large or not a regular file (a directory, a
    ///         FIFO, a device: never waited on); ParseError for text that is not JSON (empty text,
    ///         invalid UTF-8, a NUL byte, a number out of range), with line and column;
    ///         SchemaError for a wrongly shaped value (also a repeated key or a `\u0000` in text);
    ///         IntegrityError listing every inconsistency; UnsupportedFormatVersion for another
    ///         format_version; for a snapshot, DataError naming the file and what is wrong
    ///         (truncated, damaged, another snapshot format version, another byte order).
    static KnowledgeBase load(const std::filesystem::path& path, const LoadOptions& options = {});

    /// Reads a snapshot from memory (the bytes of a `.rxpack` file, or to_snapshot()).
    /// @param bytes the snapshot; @param origin the name used in error messages and info().origin.
    /// @throws DataError when the bytes are not a snapshot this library reads, or are damaged.
    static KnowledgeBase from_snapshot(std::string_view bytes, std::string_view origin = "<memory>");

    /// The compiled knowledge base as a snapshot: entities, graph and indexes, versioned and
    /// checksummed (docs/snapshot-format.md). `from_snapshot(to_snapshot())` answers every query
    /// as this knowledge base does.
    [[nodiscard]] std::string to_snapshot() const;

    /// Writes to_snapshot() to a file (through a temporary file renamed over it, so a concurrent
    /// reader never sees half a snapshot).
    /// @throws DataError when the file cannot be written.
    void save(const std::filesystem::path& path) const;

    /// The name that stands for the built-in pack in a list of packs (`--pack builtin`). A file
    /// of that name in the working directory is given as `./builtin`.
    static constexpr const char* kBuiltinName = "builtin";

    /// Loads several packs as one layered knowledge base, the first with the highest priority.
    /// Each entry is loaded as load(path) does, or is the built-in pack when it is exactly
    /// kBuiltinName. Substances unify by id, then by identifier (DrugBank id, UNII, RxCUI), then by
    /// normalised name or synonym; `info().layers` names every pack (name, version, licence) and
    /// counts how its substances unified. Where a higher-priority pack has a rule for a substance
    /// pair, a later pack's rules for that pair do not warn again: they annotate the leading
    /// warning (Report::annotations). A list of one path is the same as load(path).
    /// @param paths the packs, highest priority first (at least one).
    /// @param options load limits, for every file.
    /// @throws the errors of load() for each pack; DataError for an empty list; IntegrityError
    ///         naming both packs when an id means different things in two of them (a substance
    ///         whose identifiers, kind or names disagree; a rule, class, product or treatment id
    ///         used twice).
    static KnowledgeBase load(const std::vector<std::filesystem::path>& paths, const LoadOptions& options = {});

    /// Loads a bundled pack (one JSON object with a `manifest` and the sections) from text.
    /// @param text the JSON text; @param options load limits;
    /// @param origin the name used in error messages.
    /// @throws the same errors as load().
    static KnowledgeBase from_json(std::string_view text, const LoadOptions& options = {},
                                   std::string_view origin = "<memory>");

    /// Name, version, licence and counts of the loaded pack.
    [[nodiscard]] const PackInfo& info() const noexcept;

    /// Resolves what a person typed: id, name, synonym, salt form ("methadone hydrochloride"),
    /// brand ("Suboxone"), RxCUI ("6813" or "rxcui:6813"); case, space and punctuation insensitive.
    /// Never throws for unknown text: the result is unresolved and carries up to 3 suggestions.
    [[nodiscard]] Resolution resolve(std::string_view text) const;

    /// Resolves a patient condition (id, name or synonym), with suggestions when unknown.
    [[nodiscard]] ConditionResolution resolve_condition(std::string_view text) const;

    /// Checks a medication list for drug-drug, drug-condition and duplicate-therapy warnings.
    /// Unresolved inputs are reported in `Report::inputs` and are not checked. An entry that repeats
    /// an earlier one (the same text, ignoring case, spacing and punctuation) is reported as a
    /// repeat of it (`Resolution::duplicate_of`) and checked once, so repeats add no warning.
    /// @param medications what the patient takes, as typed.
    /// @param context patient conditions and filters.
    /// @return the report (warnings as data; it renders text on demand and keeps this knowledge
    ///         base alive); cost is O(n log n + d^2 + W log W) for n entries, d distinct entries and
    ///         W warnings; no text is written.
    /// @throws LimitError for more than kMaxCheckMedications medications or kMaxCheckConditions
    ///         conditions.
    [[nodiscard]] Report check(const std::vector<std::string>& medications,
                               const CheckContext& context = {}) const;
    /// The same, taking ownership of the list (the report keeps the texts; no copy is made).
    /// @throws LimitError as above.
    [[nodiscard]] Report check(std::vector<std::string>&& medications, const CheckContext& context = {}) const;

    /// Screens many regimens in one call (population screening; see screen.hpp). Each distinct text
    /// is resolved once; regimens are checked on `options.threads` threads. Every regimen gets
    /// exactly the warnings check() gives it (same order), as rows, followed by a row for each
    /// input that did not resolve. The result does not depend on the number of threads.
    /// @param batch the regimens, columnar (dictionary-encoded texts, CSR offsets).
    /// @param options filters and threads.
    /// @throws std::invalid_argument for a malformed batch (offsets not starting at 0, decreasing or
    ///         not ending at the number of codes; a code outside its dictionary; condition offsets
    ///         for another number of regimens); LimitError for more than kMaxScreenRegimens regimens,
    ///         kMaxScreenEntries entries or kMaxScreenDistinct distinct texts, or a regimen over the
    ///         limits of check() (kMaxCheckMedications, kMaxCheckConditions).
    [[nodiscard]] ScreenResult screen(const ScreenBatch& batch, const ScreenOptions& options = {}) const;
    /// The same, from lists of texts (one list per regimen; `conditions` empty or one per regimen).
    /// @throws the errors of OwnedScreenBatch and of screen(batch).
    [[nodiscard]] ScreenResult screen(const std::vector<std::vector<std::string>>& regimens,
                                      const std::vector<std::vector<std::string>>& conditions = {},
                                      const ScreenOptions& options = {}) const;

    /// All drug-drug rules between two medications (direct and class-derived), most severe first;
    /// the same rules a check of the two would report.
    /// @return references into this knowledge base.
    /// @throws NotFoundError if either text does not resolve (with suggestions).
    [[nodiscard]] RefList<InteractionRule> interactions_between(std::string_view a, std::string_view b) const;

    /// Looks up a substance by id. @return nullptr when absent.
    [[nodiscard]] const Substance* find_substance(std::string_view id) const noexcept;
    /// Looks up a substance by id. @throws NotFoundError when absent.
    [[nodiscard]] const Substance& substance(std::string_view id) const;
    /// Looks up a product by id. @return nullptr when absent.
    [[nodiscard]] const Product* find_product(std::string_view id) const noexcept;
    /// Looks up a product by id. @throws NotFoundError when absent.
    [[nodiscard]] const Product& product(std::string_view id) const;
    /// Looks up a class by id. @return nullptr when absent.
    [[nodiscard]] const DrugClass* find_class(std::string_view id) const noexcept;
    /// Looks up a class by id. @throws NotFoundError when absent.
    [[nodiscard]] const DrugClass& drug_class(std::string_view id) const;
    /// Looks up a condition by id. @return nullptr when absent.
    [[nodiscard]] const Condition* find_condition(std::string_view id) const noexcept;
    /// Looks up a condition by id. @throws NotFoundError when absent.
    [[nodiscard]] const Condition& condition(std::string_view id) const;
    /// Looks up a source by id. @return nullptr when absent.
    [[nodiscard]] const Source* find_source(std::string_view id) const noexcept;
    /// Looks up a source by id. @throws NotFoundError when absent.
    [[nodiscard]] const Source& source(std::string_view id) const;
    /// Looks up an interaction rule by id. @return nullptr when absent.
    [[nodiscard]] const InteractionRule* find_interaction(std::string_view id) const noexcept;
    /// Looks up an interaction rule by id. @throws NotFoundError when absent.
    [[nodiscard]] const InteractionRule& interaction(std::string_view id) const;
    /// Looks up a contraindication rule by id. @return nullptr when absent.
    [[nodiscard]] const ContraindicationRule* find_contraindication(std::string_view id) const noexcept;
    /// Looks up a contraindication rule by id. @throws NotFoundError when absent.
    [[nodiscard]] const ContraindicationRule& contraindication(std::string_view id) const;
    /// Looks up a treatment by id. @return nullptr when absent.
    [[nodiscard]] const Treatment* find_treatment(std::string_view id) const noexcept;
    /// Looks up a treatment by id. @throws NotFoundError when absent.
    [[nodiscard]] const Treatment& treatment(std::string_view id) const;
    /// The profile of a substance. @return nullptr when the pack has none.
    [[nodiscard]] const Profile* find_profile(std::string_view substance_id) const noexcept;

    /// The id of the interaction rule at `index` (pack order, as in Warning::rule), without building
    /// the rule (a snapshot keeps its rules encoded until one is read).
    /// @throws NotFoundError when index >= info().interactions.
    [[nodiscard]] std::string_view interaction_id(std::size_t index) const;

    /// Every entity of a kind, in pack order. For a knowledge base read from a snapshot,
    /// interactions() builds every rule on its first call (once); the lookups above build one.
    /// The built-in pack builds its sources, classes, conditions, contraindications and
    /// treatments together on the first call that reads any of them (these accessors, the
    /// lookups above, an explanation or a warning that names one), once, from any thread.
    [[nodiscard]] const std::vector<Substance>& substances() const noexcept;
    [[nodiscard]] const std::vector<Product>& products() const noexcept;
    [[nodiscard]] const std::vector<DrugClass>& classes() const noexcept;
    [[nodiscard]] const std::vector<Condition>& conditions() const noexcept;
    [[nodiscard]] const std::vector<InteractionRule>& interactions() const noexcept;
    [[nodiscard]] const std::vector<ContraindicationRule>& contraindications() const noexcept;
    /// Every cumulative rule (issue 12: a risk across a set of medications), in pack order.
    [[nodiscard]] const std::vector<CumulativeRule>& cumulative_rules() const noexcept;
    /// Looks up a cumulative rule by id. @return nullptr when absent.
    [[nodiscard]] const CumulativeRule* find_cumulative_rule(std::string_view id) const noexcept;
    [[nodiscard]] const std::vector<Treatment>& treatments() const noexcept;
    [[nodiscard]] const std::vector<Profile>& profiles() const noexcept;
    [[nodiscard]] const std::vector<Source>& sources() const noexcept;

    /// Classes a substance belongs to, directly or through parent classes (sorted ids).
    /// @throws NotFoundError for an unknown substance id.
    [[nodiscard]] std::vector<std::string> classes_of(std::string_view substance_id) const;
    /// Substances in a class, directly or through subclasses (sorted ids).
    /// @throws NotFoundError for an unknown class id.
    [[nodiscard]] std::vector<std::string> members_of(std::string_view class_id) const;
    /// Interaction rules naming an entity (substance, product or class) as a participant, or — for
    /// a substance — reaching it through its classes; most severe first, then pack order. Walks the
    /// entity's edges in the compiled graph: cost grows with its rules, not with the pack.
    /// @return references into this knowledge base.
    /// @throws NotFoundError for an unknown id.
    [[nodiscard]] RefList<InteractionRule> rules_for(std::string_view id) const;
    /// Contraindication rules that apply to a substance, product or class (directly or via
    /// classes); most severe first.
    /// @return references into this knowledge base.
    /// @throws NotFoundError for an unknown id.
    [[nodiscard]] RefList<ContraindicationRule> contraindications_for(std::string_view id) const;

    /// The pack as one bundled JSON document, written from the loaded entities (every citation
    /// with its grade spelled out); `from_json(to_json())` gives an identical knowledge base and
    /// writes the same text again (used for pickling). A layered knowledge base is written as one
    /// merged pack: the layers (and so the annotations) are not kept.
    [[nodiscard]] std::string to_json() const;

    /// Graphviz DOT of the subgraph a check used: inputs -> ingredients -> classes -> fired rules,
    /// edges coloured by severity.
    [[nodiscard]] std::string regimen_dot(const std::vector<std::string>& medications,
                                          const CheckContext& context = {}) const;
    /// Graphviz DOT of the pack's class hierarchy (classes and their parents).
    [[nodiscard]] std::string class_hierarchy_dot() const;

private:
    explicit KnowledgeBase(std::shared_ptr<const detail::KnowledgeBaseImpl> impl);
    std::shared_ptr<const detail::KnowledgeBaseImpl> impl_;
};

}  // namespace rxcaution
