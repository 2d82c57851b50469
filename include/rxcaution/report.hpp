#pragma once
/// @file report.hpp
/// The result of a regimen check: what every input resolved to, and the warnings that apply.
///
/// A check produces warnings as plain data (`Warning`: kind, severity, rule, input and substance
/// indexes). Every English sentence — summary, explanation, "did you mean", disclaimer — is written
/// only when asked for, by one rendering module shared by the text, JSON, FHIR, CDS Hooks and DOT
/// outputs. A `Report` keeps its knowledge base alive, so rendering is always possible.

#include <rxcaution/entities.hpp>
#include <rxcaution/export.hpp>
#include <rxcaution/types.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rxcaution {

namespace detail {
struct KnowledgeBaseImpl;
struct ReportAccess;
}  // namespace detail

/// An ingredient of a resolved product that is not checked for interactions, with the pack's reason.
struct NotChecked {
    std::string substance;  ///< substance id
    std::string reason;     ///< why (e.g. sublingual naloxone is poorly absorbed)
};

/// What a medication text resolved to.
struct Resolution {
    std::string input;              ///< the caller's text, unchanged
    bool resolved = false;
    EntityKind kind = EntityKind::Substance;  ///< substance or product (meaningful when resolved)
    std::string id;                 ///< entity id (empty when unresolved)
    std::string name;               ///< display name (empty when unresolved)
    /// id, name, synonym, salt, brand, rxcui, drugbank, unii, normalized; through the vocabulary:
    /// vocabulary-name, vocabulary-synonym, cas; rxnorm-name (an RxNorm-style name parsed into its
    /// ingredients), rxnorm-brand (its bracketed brand). Empty when unresolved.
    std::string matched_by;
    std::vector<std::string> ingredients;  ///< substance ids (the substance itself for a substance)
    /// Ingredients of the product that are not checked for interactions (see InactiveIngredient),
    /// with the pack's reason, as "id: reason".
    std::vector<std::string> not_checked;
    std::vector<std::string> suggestions;  ///< up to 3 close names when unresolved, best first
    /// The same ingredients as `not_checked`, as data.
    std::vector<NotChecked> not_checked_ingredients;
    /// In a check: the position of an earlier entry with the same text (ignoring case, spacing and
    /// punctuation). A repeat is checked once, through that entry, and adds no warning.
    std::optional<std::size_t> duplicate_of;
    /// Whether the pack's rules can say anything about this input: `Covered`, `NoRules`
    /// (recognised, but no rule involves it: no warning about it means nothing) or `Unresolved`.
    Coverage coverage = Coverage::Unresolved;
    /// The DrugBank id of the vocabulary drug the input matched (empty when it matched the pack's
    /// own names, or nothing).
    std::string drugbank;
    /// True when the input is a drug of the vocabulary that the pack has no substance for: then
    /// `id` is its DrugBank id, `name` its vocabulary name and `ingredients` is empty.
    bool vocabulary_only = false;
    /// When unresolved because the name belongs to several vocabulary drugs: those drugs, as
    /// "Name (DrugBank id)". Nothing is guessed.
    std::vector<std::string> ambiguous;
};

/// What a condition text resolved to.
struct ConditionResolution {
    std::string input;
    bool resolved = false;
    std::string id;
    std::string name;
    std::vector<std::string> suggestions;
    /// How it matched: `code` (an ICD-10-CM or SNOMED CT code of the condition), `name`,
    /// `synonym`, `id`, `words` (the same words in another order, or with qualifiers such as
    /// "severe" around a pack name); empty when unresolved.
    std::string matched_by;
};

/// A source as cited by a warning.
struct SourceRef {
    std::string id;
    std::string title;
    std::string section;
    std::string url;
    EvidenceGrade grade = EvidenceGrade::Secondary;
};

/// Marks an absent index in `Warning`.
inline constexpr std::uint32_t kNone = 0xFFFFFFFFu;

/// One warning as plain data: which rule applied to which inputs, through which substances.
/// Indexes refer to the knowledge base that produced the report (`KnowledgeBase::interactions()`,
/// `contraindications()`, `classes()`, `substances()`, `conditions()`) and to the report's inputs.
/// `Report::details()` turns it into text.
struct Warning {
    WarningKind kind = WarningKind::DrugDrug;
    Severity severity = Severity::Moderate;
    EvidenceGrade evidence = EvidenceGrade::Secondary;
    /// The rule: an index into interactions() (drug-drug), contraindications() (drug-condition) or
    /// classes() (duplicate therapy within a class); kNone for a duplicate ingredient.
    std::uint32_t rule = kNone;
    /// Positions in the medication list: two for drug-drug and duplicate therapy, one (second is
    /// kNone) for drug-condition.
    std::uint32_t input_a = kNone, input_b = kNone;
    /// Substances that met the rule (indexes into substances()). Drug-drug: one per input, in input
    /// order. Drug-condition: the ingredient that met the rule, or kNone when the rule names the
    /// product itself. Duplicates: the shared ingredient, or the two class members.
    std::uint32_t substance_a = kNone, substance_b = kNone;
    /// Drug-condition: which of the check's conditions (position in CheckContext::conditions)
    /// brought the rule's condition.
    std::uint32_t condition_input = kNone;
    /// Rules this warning superseded for the same inputs: a range of Report::superseded_rules().
    std::uint32_t superseded_begin = 0, superseded_count = 0;
    /// Cumulative warnings: every medication that met the rule, a range of Report::implicated() in
    /// input order (input_a/input_b and substance_a/substance_b repeat the first two). The rule is
    /// an index into KnowledgeBase::cumulative_rules(); condition_input is set when the rule needs
    /// a patient condition.
    std::uint32_t implicated_begin = 0, implicated_count = 0;
};

/// One medication implicated in a cumulative warning, and the ingredient that met the rule.
struct Implicated {
    std::uint32_t input = kNone;      ///< position in the medication list
    std::uint32_t substance = kNone;  ///< index into KnowledgeBase::substances()
};

/// Warnings about the same inputs, shown as one alert (issue 12): the same two medications (drug-drug
/// and duplicate-therapy warnings), or the same medication with the same patient condition
/// (drug-condition). The most severe warning leads; the others are further reasons under it. A
/// cumulative warning is a group of its own.
struct WarningGroup {
    /// Index into Report::warnings() of the leading (most severe, then first listed) warning.
    std::uint32_t lead = 0;
    /// Every warning of the group as indexes into Report::warnings(), lead first, then in the
    /// report's order.
    std::vector<std::uint32_t> members;
};

/// In a layered knowledge base, another pack's rating of a warning's substance pair: a rule of a
/// lower-priority pack on a pair that the warning's pack already covers, shown on the leading
/// warning instead of as a second warning.
struct Annotation {
    std::string pack;  ///< name of the pack whose rule this is
    std::string rule;  ///< that rule's id
    Severity severity = Severity::Moderate;  ///< that rule's severity
    bool agrees = false;  ///< the same severity as the warning
    /// One sentence: "DDInter rates this pair Major (agrees)." or "DDInter rates this pair
    /// Moderate (this warning: major)."
    std::string text;
};

/// A warning written out in full: every field as text, as the JSON contract gives it.
struct WarningDetails {
    std::string id;       ///< deterministic: same regimen and pack -> same id
    WarningKind kind = WarningKind::DrugDrug;
    Severity severity = Severity::Moderate;
    std::string rule;     ///< id of the interaction / contraindication rule (or class for duplicates)
    std::vector<std::string> inputs;      ///< the caller's original strings involved
    std::vector<std::size_t> input_indexes;  ///< their positions in the medication list (all of them for a cumulative warning)
    std::vector<std::string> substances;  ///< substance ids involved
    std::string condition;                ///< condition id (drug-condition warnings)
    std::string summary;
    std::string effect;
    std::string mechanism;
    std::string management;
    EvidenceGrade evidence = EvidenceGrade::Secondary;
    std::string seriousness;
    std::string disagreement;
    std::vector<SourceRef> sources;
    std::vector<std::string> explanation;  ///< input -> ingredient -> class -> rule, one step per line
    /// Layered knowledge bases only (else empty): the name of the pack whose rule this is
    /// (drug-drug warnings), and the other packs' ratings of the same pair.
    std::string pack;
    std::vector<Annotation> annotations;
    std::size_t group = 0;    ///< the alert group (index into Report::groups()) of the warning
    bool group_lead = false;  ///< true for the leading (most severe) warning of its group
};

/// The answer to `KnowledgeBase::check`. Immutable; safe to read from many threads. It shares
/// ownership of the knowledge base that produced it, so it stays valid on its own.
class RXCAUTION_EXPORT Report {
public:
    /// An empty report (no pack, no inputs).
    Report();
    ~Report();
    Report(const Report&);
    Report(Report&&) noexcept;
    Report& operator=(const Report&);
    Report& operator=(Report&&) noexcept;

    /// Name and version of the pack that answered.
    [[nodiscard]] const std::string& pack_name() const noexcept;
    [[nodiscard]] const std::string& pack_version() const noexcept;

    /// Number of medications given to the check.
    [[nodiscard]] std::size_t input_count() const noexcept;
    /// The caller's text of medication `i`. @throws std::out_of_range for a bad index.
    [[nodiscard]] const std::string& input_text(std::size_t i) const;
    /// Whether medication `i` resolved. @throws std::out_of_range for a bad index.
    [[nodiscard]] bool input_resolved(std::size_t i) const;
    /// What medication `i` resolved to, written out (suggestions for an unresolved entry are
    /// searched now: about 0.1-0.2 ms each at 2,000 substances). @throws std::out_of_range for a bad index.
    [[nodiscard]] Resolution input(std::size_t i) const;
    /// What every medication resolved to, in input order.
    [[nodiscard]] std::vector<Resolution> inputs() const;
    /// What every condition resolved to, in input order.
    [[nodiscard]] std::vector<ConditionResolution> conditions() const;

    /// The warnings as data, sorted by severity (highest first), then input order.
    [[nodiscard]] const std::vector<Warning>& warnings() const noexcept;
    /// The warnings grouped by the inputs they are about, one group per alert, in the order of their
    /// leads (so most severe first). Every warning is in exactly one group. Computed on first use
    /// (by any thread; the check itself does not pay for it). @throws std::bad_alloc
    [[nodiscard]] const std::vector<WarningGroup>& groups() const;
    /// The group (index into groups()) of warning `k` (index into warnings()).
    /// @throws std::out_of_range for a bad index.
    [[nodiscard]] std::size_t group_of(std::size_t k) const;
    /// The medications of cumulative warnings, referred to by Warning::implicated_begin/count.
    [[nodiscard]] const std::vector<Implicated>& implicated() const noexcept;
    /// Rule indexes (into interactions()) referred to by Warning::superseded_begin/count.
    [[nodiscard]] const std::vector<std::uint32_t>& superseded_rules() const noexcept;
    /// One warning written out in full. `w` must belong to this report.
    [[nodiscard]] WarningDetails details(const Warning& w) const;
    /// Every warning written out in full, in order.
    [[nodiscard]] std::vector<WarningDetails> details() const;

    /// Each text field of a warning on its own, for callers that need only one (same text as
    /// details(w)). `w` must belong to this report.
    [[nodiscard]] std::string id(const Warning& w) const;
    [[nodiscard]] std::string_view rule_id(const Warning& w) const;
    [[nodiscard]] std::string summary(const Warning& w) const;
    [[nodiscard]] std::string effect(const Warning& w) const;
    [[nodiscard]] std::string mechanism(const Warning& w) const;
    [[nodiscard]] std::string management(const Warning& w) const;
    [[nodiscard]] std::vector<SourceRef> sources(const Warning& w) const;
    [[nodiscard]] std::vector<std::string> explanation(const Warning& w) const;
    /// Layered knowledge bases: the other packs' ratings of a drug-drug warning's pair (empty
    /// otherwise). Looked up when asked for; check() never reads them.
    [[nodiscard]] std::vector<Annotation> annotations(const Warning& w) const;

    /// The packs that answered, highest priority first (one for a single pack).
    [[nodiscard]] const std::vector<PackLayer>& packs() const noexcept;

    /// Highest severity among the warnings; empty when there is none.
    [[nodiscard]] std::optional<Severity> max_severity() const noexcept;
    /// True when every medication and condition resolved, i.e. nothing was skipped.
    [[nodiscard]] bool complete() const noexcept;
    /// The medication texts that could not be resolved (and were therefore NOT checked).
    [[nodiscard]] std::vector<std::string> unresolved() const;

    /// The report's contents (opaque: defined inside the library).
    struct Data;

private:
    friend struct detail::ReportAccess;
    std::shared_ptr<const Data> data_;
};

/// The not-medical-advice line every output carries ("rxcaution is reference software, not
/// medical advice. No warning found does not mean a combination is safe.").
RXCAUTION_EXPORT std::string_view disclaimer() noexcept;

/// One line for a resolution: "Subutex -> product subutex (Subutex; matched by brand); ingredients:
/// buprenorphine", or "ketamin -> unknown; did you mean ketamine?". Control characters in the
/// caller's text are replaced (see printable()).
/// @param resolution the resolution; @return the line, without a line break.
RXCAUTION_EXPORT std::string to_text(const Resolution& resolution);

/// The text with terminal control characters (C0 other than tab and newline, DEL, C1) replaced by
/// U+FFFD, so that text from callers cannot drive a terminal when printed.
/// @param text any bytes; @return the text, safe to print.
RXCAUTION_EXPORT std::string printable(std::string_view text);

/// Serialises a report to the documented JSON contract (docs/json-output.md).
/// @param report the report; @param indent spaces per level, or -1 for one line.
/// @return UTF-8 JSON text.
RXCAUTION_EXPORT std::string to_json(const Report& report, int indent = 2);

/// Renders a report as plain text for a clinician-developer: severity first, what to do, why.
/// @param report the report; @return multi-line text.
RXCAUTION_EXPORT std::string to_text(const Report& report);

/// Renders a report as an HL7 FHIR R4 Bundle (type `collection`) of DetectedIssue resources.
/// @param report the report; @param indent spaces per level, or -1 for one line.
/// @return UTF-8 JSON text.
RXCAUTION_EXPORT std::string to_fhir(const Report& report, int indent = 2);

/// An extra information card for a CDS Hooks response (e.g. "some patient data was not sent").
struct CdsInfoCard {
    std::string key;      ///< identity of the card: its uuid is derived from it
    std::string summary;  ///< one line; cut to 139 characters with "..." if longer
    std::string detail;   ///< markdown
};

/// How a CDS Hooks response is put together for a hook call.
struct CdsHooksOptions {
    /// Per medication input: true when it is of interest (a draft order being written or
    /// selected). Empty: every input is of interest. Otherwise a warning is returned only if one
    /// of its medications is of interest, unless `include_active_interactions` is set.
    std::vector<bool> focus;
    /// Return warnings between medications that are not of interest too.
    bool include_active_interactions = false;
    /// Per medication input, a line (e.g. "clarithromycin 500 mg (draft order `MedicationRequest/1`)")
    /// listed under "Orders and medications involved" in the detail of each card about it; empty
    /// entries are left out. Empty: no such section.
    std::vector<std::string> input_labels;
    /// Add one info card listing the patient conditions that were not recognised.
    bool unresolved_condition_card = false;
    /// Information cards appended after the others.
    std::vector<CdsInfoCard> info_cards;
};

/// Renders a report as a CDS Hooks response (`{"cards": [...]}`), one card per warning plus an info
/// card for each input that was not checked.
/// @param report the report; @param indent spaces per level, or -1 for one line.
/// @return UTF-8 JSON text.
RXCAUTION_EXPORT std::string to_cds_hooks(const Report& report, int indent = 2);

/// Renders a report as a CDS Hooks response for a hook call (see CdsHooksOptions).
/// @param report the report; @param options which inputs are draft orders and what to add;
/// @param indent spaces per level, or -1 for one line.
/// @return UTF-8 JSON text.
/// Cards with the same uuid are returned once. Card uuids are name-based (derived from the
/// warning id or the info card key), so the same request gives the same uuids.
/// @throws std::invalid_argument when `focus` or `input_labels` is non-empty and its size differs
///         from the number of medication inputs.
RXCAUTION_EXPORT std::string to_cds_hooks(const Report& report, const CdsHooksOptions& options, int indent = 2);

}  // namespace rxcaution
