#include <rxcaution/types.hpp>

#include <algorithm>
#include <cctype>
#include <string>

namespace rxcaution {

std::string_view to_string(Severity severity) noexcept {
    switch (severity) {
        case Severity::Minor: return "minor";
        case Severity::Moderate: return "moderate";
        case Severity::Major: return "major";
        case Severity::Contraindicated: return "contraindicated";
    }
    return "unknown";
}

std::string_view to_string(EvidenceGrade grade) noexcept {
    switch (grade) {
        case EvidenceGrade::Label: return "label";
        case EvidenceGrade::LabelQuoted: return "label-quoted";
        case EvidenceGrade::Secondary: return "secondary";
        case EvidenceGrade::Weak: return "weak";
        case EvidenceGrade::Derived: return "derived";
    }
    return "unknown";
}

std::string_view to_string(EntityKind kind) noexcept {
    switch (kind) {
        case EntityKind::Substance: return "substance";
        case EntityKind::Product: return "product";
        case EntityKind::Class: return "class";
        case EntityKind::Condition: return "condition";
        case EntityKind::Treatment: return "treatment";
    }
    return "unknown";
}

std::string_view to_string(WarningKind kind) noexcept {
    switch (kind) {
        case WarningKind::DrugDrug: return "drug-drug";
        case WarningKind::DrugCondition: return "drug-condition";
        case WarningKind::DuplicateTherapy: return "duplicate-therapy";
        case WarningKind::Cumulative: return "cumulative";
    }
    return "unknown";
}

namespace {
std::string lower(std::string_view text) {
    std::string s(text);
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}
}  // namespace

std::optional<Severity> parse_severity(std::string_view text) noexcept {
    const std::string s = lower(text);
    for (Severity v : {Severity::Minor, Severity::Moderate, Severity::Major, Severity::Contraindicated})
        if (s == to_string(v)) return v;
    return std::nullopt;
}

std::optional<EvidenceGrade> parse_evidence_grade(std::string_view text) noexcept {
    const std::string s = lower(text);
    for (EvidenceGrade g : {EvidenceGrade::Label, EvidenceGrade::LabelQuoted, EvidenceGrade::Secondary,
                            EvidenceGrade::Weak, EvidenceGrade::Derived})
        if (s == to_string(g)) return g;
    return std::nullopt;
}

std::string_view to_string(Coverage coverage) noexcept {
    switch (coverage) {
        case Coverage::Covered: return "covered";
        case Coverage::NoRules: return "no-rules";
        case Coverage::Unresolved: return "unresolved";
    }
    return "unresolved";
}

}  // namespace rxcaution
