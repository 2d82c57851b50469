#pragma once
/// @file entities.hpp
/// Value types for the entities of a knowledge pack. They mirror docs/data-model.md field by field;
/// optional text fields are empty strings when the pack does not give them.

#include <rxcaution/types.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rxcaution {

/// A reference from a fact to a source, with the place in the source.
struct Citation {
    std::string source;   ///< id of a `Source`
    std::string section;  ///< label section or table, e.g. `§7.1`, `BOXED` (may be empty)
    /// Grade of this citation: as written in the pack, else the grade of its source.
    EvidenceGrade grade = EvidenceGrade::Secondary;
    std::string note;     ///< free text (may be empty)
};

/// A document facts are drawn from.
struct Source {
    std::string id;
    std::string title;
    std::string publisher;
    std::string date;
    std::string url;    ///< only a URL that was actually seen
    std::string setid;  ///< DailyMed SPL set id, only where verified
    std::string kind;   ///< label, label-mirror, regulator, review, web, ...
    EvidenceGrade grade = EvidenceGrade::Secondary;
    std::string notes;
};

/// Verified external identifiers. Empty fields are unknown, never guessed.
struct Identifiers {
    std::string rxcui;                            ///< RxNorm concept (ingredient for substances)
    std::vector<std::string> rxcui_products;      ///< product-level RxCUIs
    std::vector<std::string> atc;                 ///< WHO ATC codes
    std::string unii;                             ///< FDA UNII of the base
    std::map<std::string, std::string> salt_unii; ///< salt word -> UNII of that salt
    std::string drugbank;                         ///< DrugBank accession
    std::string setid;                            ///< DailyMed set id (products)
};

/// An active ingredient, food, beverage or illicit substance.
struct Substance {
    std::string id;
    std::string name;
    std::vector<std::string> synonyms;
    std::vector<std::string> salts;  ///< e.g. `hydrochloride`
    std::string kind;                ///< drug (default), illicit, food, supplement, beverage, environmental
    Identifiers identifiers;
    std::vector<Citation> identifier_sources;
    std::string notes;
};

/// An ingredient of a product that, by the product's route, is not systemically active enough to
/// interact (e.g. sublingual naloxone in buprenorphine/naloxone, added to deter injection). It is
/// listed among the product's ingredients but is not checked for interactions; reports say so.
struct InactiveIngredient {
    std::string substance;
    std::string note;
    std::vector<Citation> sources;
};

/// A brand or combination product; resolves to its ingredient substances.
struct Product {
    std::string id;
    std::string name;
    std::vector<std::string> synonyms;
    std::vector<std::string> ingredients;  ///< substance ids
    std::vector<InactiveIngredient> inactive_ingredients;  ///< ingredients not checked for interactions
    std::string route;
    std::string form;
    Identifiers identifiers;
    std::vector<Citation> identifier_sources;  ///< citations for the identifiers
    std::vector<Citation> sources;
    std::string notes;
};

/// One sourced membership of a substance in a class.
struct ClassMember {
    std::string substance;
    std::string strength;  ///< strong, moderate, weak, ungraded (CYP classes), else empty
    std::string note;
    std::vector<Citation> sources;
};

/// Declares that two different inputs from one class are a duplicate therapy.
struct DuplicateTherapyPolicy {
    Severity severity = Severity::Moderate;
    std::string management;
    std::vector<Citation> sources;
};

/// A drug class; classes form a DAG through `parents`.
struct DrugClass {
    std::string id;
    std::string name;
    std::string description;
    std::vector<std::string> parents;
    std::vector<ClassMember> members;  ///< direct members only
    std::optional<DuplicateTherapyPolicy> duplicate_therapy;
};

/// A symptom of a syndrome, with sources.
struct Symptom {
    std::string name;
    std::vector<Citation> sources;
};

/// A code of a patient condition in a public code system, with the source that states it.
struct ConditionCode {
    std::string system;  ///< `icd-10-cm` or `snomed-ct`
    std::string code;    ///< e.g. `F11.20` (ICD-10-CM, with its dot) or `38341003` (SNOMED CT)
    std::string display; ///< the code system's title for the code, as the source gives it
    std::vector<Citation> sources;
};

/// A patient condition; conditions form a DAG through `parents`.
struct Condition {
    std::string id;
    std::string name;
    std::vector<std::string> synonyms;
    std::vector<std::string> parents;
    std::vector<Symptom> symptoms;
    std::string notes;
    /// Codes of the condition (ICD-10-CM, SNOMED CT), each from a cited source; a condition given
    /// by code in a check resolves through them.
    std::vector<ConditionCode> codes;
};

/// One side of a rule: a substance, a class, or a product (for facts that a source states for one
/// product only, such as a depot formulation's warning).
struct Participant {
    EntityKind kind = EntityKind::Substance;
    std::string id;
};

/// How an interaction happens.
struct Mechanism {
    std::string type;  ///< pharmacokinetic, pharmacodynamic, pharmacokinetic-and-pharmacodynamic, unknown
    std::string detail;
};

/// A drug-drug interaction rule (PDDI minimum information model).
struct InteractionRule {
    std::string id;
    Participant first;
    Participant second;
    Severity severity = Severity::Moderate;
    std::string summary;
    std::string effect;
    Mechanism mechanism;
    std::string management;
    EvidenceGrade evidence = EvidenceGrade::Secondary;
    std::string seriousness;  ///< boxed, contraindication, warnings, interactions, highlights, none
    std::string severity_basis;  ///< how the severity was chosen (`label_severity_basis` in the pack)
    std::vector<Citation> sources;
    std::string disagreement;
    std::string notes;
    /// More general rules this one replaces when both apply to the same two inputs (e.g. the
    /// methadone label's QT rule supersedes the generic QT-drug pair rule), so a regimen does not
    /// get the same caution twice.
    std::vector<std::string> supersedes;
};

/// A drug-condition rule.
struct ContraindicationRule {
    std::string id;
    Participant subject;
    std::string condition;
    Severity severity = Severity::Moderate;
    std::string summary;
    std::string rationale;
    std::string management;
    EvidenceGrade evidence = EvidenceGrade::Secondary;
    std::string seriousness;
    std::vector<Citation> sources;
    std::string disagreement;
    std::string notes;
};

/// One requirement of a cumulative rule: at least `min` different medications of the regimen with an
/// ingredient that is the substance, or a member of the class, named by `member`.
struct CumulativeRequirement {
    Participant member;  ///< a class or a substance
    int min = 1;         ///< how many different medications, 1..16
};

/// A daily dose a source names for one substance of a cumulative rule (e.g. citalopram above
/// 40 mg/day and QT prolongation). A report compares it with a dose written in the medication text
/// ("citalopram 60 mg daily") and says when the dose was not given.
struct DoseThreshold {
    std::string substance;          ///< substance id
    double above_mg_per_day = 0;    ///< the risk the source names is above this daily dose, in mg
    std::string note;
    std::vector<Citation> sources;
};

/// A risk that appears across a set of medications rather than a pair (issue 12): e.g. three or
/// more CNS depressants including an opioid. It applies when every requirement is met by the
/// regimen and, if `conditions` is not empty, the patient has one of those conditions.
struct CumulativeRule {
    std::string id;
    std::vector<CumulativeRequirement> requirements;  ///< all must be met (1..8)
    std::vector<std::string> conditions;  ///< condition ids: one must apply to the patient (empty: none needed)
    Severity severity = Severity::Moderate;
    std::string summary;
    std::string effect;
    Mechanism mechanism;
    std::string management;
    EvidenceGrade evidence = EvidenceGrade::Secondary;
    std::string seriousness;
    std::vector<DoseThreshold> dose_thresholds;
    std::vector<Citation> sources;
    std::string disagreement;
    std::string notes;
};

/// A treatment or therapy (medication or not).
struct Treatment {
    std::string id;
    std::string name;
    std::string kind;  ///< medication, behavioral-therapy, support, complementary, lifestyle
    std::string description;
    std::vector<std::string> substances;
    std::vector<std::string> treats;       ///< condition ids
    std::vector<std::string> complements;  ///< treatment ids
    std::vector<Citation> sources;
};

/// One sourced statement of a substance profile.
struct ProfileItem {
    std::string id;
    std::string name;
    std::string description;
    std::vector<Citation> sources;
};

/// Non-interaction knowledge about a substance (mechanisms, benefits, risks).
struct Profile {
    std::string substance;
    std::vector<ProfileItem> mechanisms;
    std::vector<ProfileItem> benefits;
    std::vector<ProfileItem> risks;
};

/// One pack of a layered knowledge base (see KnowledgeBase::load with a list of paths), with how
/// its substances were unified with those of the packs before it.
struct PackLayer {
    std::string name;
    std::string version;
    std::string licence;
    std::string origin;  ///< path loaded from, `<builtin>` or `<memory>`
    std::size_t substances = 0;    ///< substances of this pack, as loaded
    std::size_t interactions = 0;  ///< interaction rules of this pack
    /// How this pack's substances met those of the packs before it (all zero for the first pack):
    std::size_t unified_by_id = 0;          ///< same id, same meaning
    std::size_t unified_by_identifier = 0;  ///< same DrugBank id, UNII or RxCUI
    std::size_t unified_by_name = 0;        ///< same normalised name or synonym
    std::size_t ambiguous = 0;   ///< matched several earlier substances: kept apart, reported here
    std::size_t added = 0;       ///< new substances
    /// Interaction rules of this pack on a substance pair that an earlier pack already covers:
    /// they annotate that pack's warning ("DDInter rates this pair Major") instead of warning again.
    std::size_t annotating_rules = 0;
};

/// What a pack is, and how much it holds.
struct PackInfo {
    std::string name;
    std::string version;
    int format_version = 1;
    std::string licence;
    std::string description;
    std::string origin;  ///< path loaded from, `<builtin>` or `<memory>`
    std::size_t substances = 0;
    std::size_t products = 0;
    std::size_t classes = 0;
    std::size_t class_memberships = 0;
    std::size_t conditions = 0;
    std::size_t interactions = 0;
    std::size_t contraindications = 0;
    std::size_t treatments = 0;
    std::size_t sources = 0;
    std::size_t compiled_pairs = 0;  ///< substance pairs in the compiled interaction index
    /// The packs this knowledge base was built from, highest priority first: one entry for a
    /// single pack; for a layered knowledge base, each pack with its own name, version and licence
    /// (the fields above then describe the merged whole).
    std::vector<PackLayer> layers;
};

}  // namespace rxcaution
