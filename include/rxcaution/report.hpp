#pragma once
/// @file report.hpp
/// The result of a regimen check: what every input resolved to, and the warnings that apply.

#include <rxcaution/entities.hpp>
#include <rxcaution/export.hpp>
#include <rxcaution/types.hpp>

#include <optional>
#include <string>
#include <vector>

namespace rxcaution {

/// What a medication text resolved to.
struct Resolution {
    std::string input;              ///< the caller's text, unchanged
    bool resolved = false;
    EntityKind kind = EntityKind::Substance;  ///< substance or product (meaningful when resolved)
    std::string id;                 ///< entity id (empty when unresolved)
    std::string name;               ///< display name (empty when unresolved)
    std::string matched_by;         ///< id, name, synonym, salt, brand, rxcui, normalized (empty when unresolved)
    std::vector<std::string> ingredients;  ///< substance ids (the substance itself for a substance)
    /// Ingredients of the product that are not checked for interactions (see InactiveIngredient),
    /// with the pack's reason, as "id: reason".
    std::vector<std::string> not_checked;
    std::vector<std::string> suggestions;  ///< up to 3 close names when unresolved, best first
};

/// What a condition text resolved to.
struct ConditionResolution {
    std::string input;
    bool resolved = false;
    std::string id;
    std::string name;
    std::vector<std::string> suggestions;
};

/// A source as cited by a warning.
struct SourceRef {
    std::string id;
    std::string title;
    std::string section;
    std::string url;
    EvidenceGrade grade = EvidenceGrade::Secondary;
};

/// One warning: a rule that applies to the checked regimen, with the path that made it apply.
struct Warning {
    std::string id;       ///< deterministic: same regimen and pack -> same id
    WarningKind kind = WarningKind::DrugDrug;
    Severity severity = Severity::Moderate;
    std::string rule;     ///< id of the interaction / contraindication rule (or class for duplicates)
    std::vector<std::string> inputs;      ///< the caller's original strings involved
    std::vector<std::size_t> input_indexes;  ///< their positions in the medication list
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
};

/// The answer to `KnowledgeBase::check`.
struct Report {
    std::string pack_name;
    std::string pack_version;
    std::vector<Resolution> inputs;
    std::vector<ConditionResolution> conditions;
    std::vector<Warning> warnings;  ///< sorted by severity (highest first), then input order
    std::optional<Severity> max_severity;  ///< empty when there is no warning

    /// True when every medication and condition resolved, i.e. nothing was skipped.
    [[nodiscard]] bool complete() const noexcept;
    /// The medication texts that could not be resolved (and were therefore NOT checked).
    [[nodiscard]] std::vector<std::string> unresolved() const;
};

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

/// Renders a report as a CDS Hooks response (`{"cards": [...]}`), one card per warning plus an info
/// card for each input that was not checked.
/// @param report the report; @param indent spaces per level, or -1 for one line.
/// @return UTF-8 JSON text.
RXCAUTION_EXPORT std::string to_cds_hooks(const Report& report, int indent = 2);

}  // namespace rxcaution
