#pragma once
// One description per pack field. Every entity has a table of its JSON fields: the JSON name, the
// C++ member it fills, whether it is required and how its value is read. The streaming reader
// (pack_reader.cpp), to_json (pack_writer.cpp), the integrity walk over citations and the drift
// tests (JSON Schema, .pyi stub, docs/data-model.md) all read these tables, so a field is added
// in one place.

#include "detail/pack.hpp"

#include <rxcaution/export.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace rxcaution::detail {

// A citation read without a grade carries this until check_pack() gives it its source's grade
// (the one place defaults are filled). `derived` is never a valid citation grade in a pack, so
// the marker cannot be confused with a grade that was written.
inline constexpr EvidenceGrade kGradeFromSource = EvidenceGrade::Derived;

enum class Need : std::uint8_t {
    Optional,            // may be absent or null
    Required,            // absent: SchemaError
    Cited,               // citations that must not be empty: an integrity problem otherwise
    CitedIfIdentifiers,  // citations required when the entity has identifiers (checked by `finish`)
};

enum class FieldKind : std::uint8_t {
    Text,            // std::string (Required: non-empty)
    Texts,           // std::vector<std::string>
    TextOrTexts,     // std::vector<std::string>; a single string is accepted (ATC codes)
    TextMap,         // std::map<std::string, std::string>
    Choice,          // std::string from `choices`; empty takes `default_value`
    FormatVersion,   // int, must be kFormatVersion
    Severity,        // Severity
    SourceGrade,     // EvidenceGrade: label|label-quoted|secondary|weak
    RuleEvidence,    // EvidenceGrade: label|label-quoted|secondary
    CitationGrade,   // EvidenceGrade, optional (kGradeFromSource when absent)
    Object,          // a struct member described by `type`
    OptionalObject,  // std::optional of a struct described by `type`
    Objects,         // std::vector of a struct described by `type`
    Participant,     // Participant: {"substance"|"class"|"product": id}
    Participants,    // exactly two participants, stored through `at` and `at2`
    Unkept,          // text the format allows but no struct member holds yet (checked, not stored)
    Count,           // int, an integer 1..16 (how many medications a cumulative rule needs)
    Amount,          // double, a positive number (a daily dose in mg)
};

struct ObjectType;
struct FinishContext;

struct Field {
    std::string_view json;    // name in the pack JSON
    std::string_view member;  // C++ member it fills (for the drift tests and docs)
    Need need;
    FieldKind kind;
    void* (*at)(void* owner);                       // address of the member in its owner (Unkept: none)
    const ObjectType* type = nullptr;               // Object, OptionalObject, Objects
    std::span<const std::string_view> choices = {};  // Choice
    std::string_view default_value = {};            // Choice
    std::string_view missing = {};                  // "expected ..." for an absent required field
    void* (*at2)(void* owner) = nullptr;            // Participants: the second one
    std::vector<Origin>* (*origins)(void* owner) = nullptr;  // sections: where each entity came from
};

// What a per-entity check (ObjectType::finish) can do once the object is complete.
struct FinishContext {
    const std::string& file;
    const std::string& pointer;  // of the object
    Problems& problems;
    std::uint64_t seen;          // bit i: field i was present
    void problem(std::string_view field, const std::string& text) const;
    [[noreturn]] void fail(std::string_view field, const std::string& expected, const std::string& found) const;
};

struct ObjectType {
    std::string_view name;  // "substance", "citation", ...
    std::span<const Field> fields;
    // Type-erased access to std::vector<T> / std::optional<T> of this type.
    void* (*append)(void* vector);
    std::size_t (*count)(const void* vector);
    void* (*element)(void* vector, std::size_t i);
    void* (*emplace)(void* optional);
    const void* (*get)(const void* optional);  // nullptr when empty
    void (*finish)(void* object, const FinishContext& ctx) = nullptr;  // checks the table cannot express
    // Unknown keys: "expected <list_prefix><names>, got unknown <unknown_noun> "k"".
    std::string_view list_prefix = "one of the fields ";
    std::string_view unknown_noun = "field";
    std::size_t list_skip = 0;  // leading fields left out of that list
    void (*reserve)(void* vector, std::size_t n) = nullptr;  // when the count is known (snapshots)
};

// The tables. Roots: a bundled pack, a manifest file, a data file of a manifest pack.
const ObjectType& bundled_pack_type();
const ObjectType& manifest_file_type();
const ObjectType& data_file_type();
const ObjectType& citation_type();

// Every entity table by name ("manifest", "source", "substance", "identifiers", "citation", ...),
// for the drift tests.
RXCAUTION_EXPORT std::span<const ObjectType* const> entity_types();

// Calls `f(citation, file, pointer)` for every citation of the pack, in pack order.
// Rules kept encoded (PackData::read_rules) are not structs: for each of them `encoded_rule(r,
// file, pointer)` is called instead, at the rule's place in that order.
void for_each_citation(PackData& pack,
                       const std::function<void(Citation&, const std::string& file, const std::string& pointer)>& f,
                       const std::function<void(std::size_t rule, const std::string& file, const std::string& pointer)>&
                           encoded_rule = {});

}  // namespace rxcaution::detail
