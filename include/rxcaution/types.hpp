#pragma once
/// @file types.hpp
/// Enumerations shared by the pack entities and the check report, with their stable spellings.

#include <rxcaution/export.hpp>

#include <optional>
#include <string_view>

namespace rxcaution {

/// How serious an interaction or contraindication is. Ordered: comparisons work
/// (`Severity::Major > Severity::Moderate`).
enum class Severity : int { Minor = 0, Moderate = 1, Major = 2, Contraindicated = 3 };

/// Grade of the evidence behind a fact (see docs/data-model.md).
enum class EvidenceGrade : int {
    Label = 0,        ///< FDA label text read directly or through a verbatim mirror (L).
    LabelQuoted = 1,  ///< label text seen only as a verbatim quote in a third-party repository (LQ).
    Secondary = 2,    ///< monograph, review, guideline or compendium (S).
    Weak = 3,         ///< consumer page; used for names only (W).
    Derived = 4,      ///< computed by rxcaution itself (e.g. the same ingredient listed twice).
};

/// Kind of an entity of the knowledge pack.
enum class EntityKind : int { Substance, Product, Class, Condition, Treatment };

/// Kind of a warning in a report.
enum class WarningKind : int { DrugDrug, DrugCondition, DuplicateTherapy, Cumulative };

/// What the loaded pack can say about a medication input.
enum class Coverage : int {
    Covered,     ///< resolved, and at least one rule of the pack could involve it
    NoRules,     ///< recognised (pack or vocabulary), but no rule of the pack involves it: no warning means nothing
    Unresolved,  ///< not recognised: not checked at all
};

/// Stable lowercase spelling: `minor`, `moderate`, `major`, `contraindicated`.
RXCAUTION_EXPORT std::string_view to_string(Severity severity) noexcept;
/// `label`, `label-quoted`, `secondary`, `weak`, `derived`.
RXCAUTION_EXPORT std::string_view to_string(EvidenceGrade grade) noexcept;
/// `substance`, `product`, `class`, `condition`, `treatment`.
RXCAUTION_EXPORT std::string_view to_string(EntityKind kind) noexcept;
/// `drug-drug`, `drug-condition`, `duplicate-therapy`, `cumulative`.
RXCAUTION_EXPORT std::string_view to_string(WarningKind kind) noexcept;

/// `covered`, `no-rules`, `unresolved`.
RXCAUTION_EXPORT std::string_view to_string(Coverage coverage) noexcept;

/// Parses the spelling produced by `to_string(Severity)` (case-insensitive).
/// @return the severity, or `std::nullopt` for any other text.
RXCAUTION_EXPORT std::optional<Severity> parse_severity(std::string_view text) noexcept;
/// Parses the spelling produced by `to_string(EvidenceGrade)`.
/// @return the grade, or `std::nullopt` for any other text.
RXCAUTION_EXPORT std::optional<EvidenceGrade> parse_evidence_grade(std::string_view text) noexcept;

}  // namespace rxcaution
