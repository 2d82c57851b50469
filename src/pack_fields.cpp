// One description per pack field: the tables of every entity's JSON fields, in the order
// docs/data-model.md and the JSON Schema list them (which is also the order to_json writes).
// A field added here is read, written and checked against the schema, the .pyi stub and the docs.

#include "detail/pack_fields.hpp"

#include <rxcaution/errors.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <type_traits>

namespace rxcaution::detail {

void FinishContext::problem(std::string_view field, const std::string& text) const {
    std::string p = pointer;
    p += '/';
    p += field;
    problems.add(file, p, text);
}

void FinishContext::fail(std::string_view field, const std::string& expected, const std::string& found) const {
    std::string p = pointer;
    p += '/';
    p += field;
    throw SchemaError(file, p, expected, found);
}

namespace {

template <class T>
struct Ops {
    static void* append(void* v) { return &static_cast<std::vector<T>*>(v)->emplace_back(); }
    static std::size_t count(const void* v) { return static_cast<const std::vector<T>*>(v)->size(); }
    static void* element(void* v, std::size_t i) { return &(*static_cast<std::vector<T>*>(v))[i]; }
    static void* emplace(void* o) { return &static_cast<std::optional<T>*>(o)->emplace(); }
    static void reserve(void* v, std::size_t n) { static_cast<std::vector<T>*>(v)->reserve(n); }
    static const void* get(const void* o) {
        const auto* p = static_cast<const std::optional<T>*>(o);
        return p->has_value() ? &**p : nullptr;
    }
};

template <class T>
constexpr ObjectType object_type(std::string_view name, std::span<const Field> fields,
                                 void (*finish)(void*, const FinishContext&) = nullptr) {
    ObjectType t{name, fields, &Ops<T>::append, &Ops<T>::count, &Ops<T>::element, &Ops<T>::emplace,
                 &Ops<T>::get, finish};
    t.reserve = &Ops<T>::reserve;
    return t;
}

// The member type each kind reads into, checked at compile time for every table entry.
template <FieldKind K, class M>
constexpr bool fits() {
    using S = std::string;
    using V = std::vector<std::string>;
    if constexpr (K == FieldKind::Text || K == FieldKind::Choice) return std::is_same_v<M, S>;
    else if constexpr (K == FieldKind::Texts || K == FieldKind::TextOrTexts) return std::is_same_v<M, V>;
    else if constexpr (K == FieldKind::TextMap) return std::is_same_v<M, std::map<S, S>>;
    else if constexpr (K == FieldKind::FormatVersion || K == FieldKind::Count) return std::is_same_v<M, int>;
    else if constexpr (K == FieldKind::Amount) return std::is_same_v<M, double>;
    else if constexpr (K == FieldKind::Severity) return std::is_same_v<M, rxcaution::Severity>;
    else if constexpr (K == FieldKind::SourceGrade || K == FieldKind::RuleEvidence || K == FieldKind::CitationGrade)
        return std::is_same_v<M, EvidenceGrade>;
    else if constexpr (K == FieldKind::Participant || K == FieldKind::Participants)
        return std::is_same_v<M, rxcaution::Participant>;
    else return true;  // nested objects: checked through their own table
}

// Allowed by the format (and the schema, and the docs) but without a member in the public struct:
// the value is checked to be text and dropped. Adding the member (and its Python binding) turns
// the entry into an RX_FIELD.
#define RX_UNKEPT(JSON) Field{.json = JSON, .member = "", .need = Need::Optional, .kind = FieldKind::Unkept, .at = nullptr}

#define RX_FIELD(T, JSON, MEMBER, NEED, KIND, ...)                                                          \
    Field {                                                                                                \
        .json = JSON, .member = #MEMBER, .need = Need::NEED, .kind = FieldKind::KIND,                      \
        .at = +[](void* o) -> void* {                                                                      \
            static_assert(fits<FieldKind::KIND, std::remove_cvref_t<decltype(std::declval<T&>().MEMBER)>>(), \
                          "member type does not match the field kind");                                    \
            return &static_cast<T*>(o)->MEMBER;                                                            \
        },                                                                                                 \
        __VA_ARGS__                                                                                        \
    }

// --- leaves --------------------------------------------------------------------------------------

const Field citation_fields[] = {
    RX_FIELD(Citation, "source", source, Required, Text),
    RX_FIELD(Citation, "section", section, Optional, Text),
    RX_FIELD(Citation, "grade", grade, Optional, CitationGrade),
    RX_FIELD(Citation, "note", note, Optional, Text),
};
const ObjectType citation_t = object_type<Citation>("citation", citation_fields);

const Field identifiers_fields[] = {
    RX_FIELD(Identifiers, "rxcui", rxcui, Optional, Text),
    RX_FIELD(Identifiers, "rxcui_products", rxcui_products, Optional, TextOrTexts),
    RX_FIELD(Identifiers, "atc", atc, Optional, TextOrTexts),
    RX_FIELD(Identifiers, "unii", unii, Optional, Text),
    RX_FIELD(Identifiers, "salt_unii", salt_unii, Optional, TextMap),
    RX_FIELD(Identifiers, "drugbank", drugbank, Optional, Text),
    RX_FIELD(Identifiers, "setid", setid, Optional, Text),
};
const ObjectType identifiers_t = object_type<Identifiers>("identifiers", identifiers_fields);

// --- manifest ------------------------------------------------------------------------------------

const Field manifest_fields[] = {
    RX_FIELD(PackData, "name", info.name, Required, Text),
    RX_FIELD(PackData, "version", info.version, Required, Text),
    RX_FIELD(PackData, "format_version", info.format_version, Required, FormatVersion, .missing = "an integer"),
    RX_FIELD(PackData, "licence", info.licence, Required, Text),
    RX_FIELD(PackData, "description", info.description, Optional, Text),
    RX_FIELD(PackData, "files", files, Optional, Texts),
};

void finish_manifest_file(void* object, const FinishContext& ctx) {
    // A manifest is only useful with data files (a bundled pack may still carry a `files` list).
    if (static_cast<PackData*>(object)->files.empty())
        ctx.fail("files", "a non-empty array of data file names", (ctx.seen & (1u << 5)) ? "[]" : "nothing");
}

const ObjectType manifest_t = object_type<PackData>("manifest", manifest_fields);
const ObjectType manifest_file_t = object_type<PackData>("manifest", manifest_fields, &finish_manifest_file);

// --- sources -------------------------------------------------------------------------------------

const Field source_fields[] = {
    RX_FIELD(Source, "id", id, Required, Text),
    RX_FIELD(Source, "title", title, Required, Text),
    RX_FIELD(Source, "publisher", publisher, Optional, Text),
    RX_FIELD(Source, "date", date, Optional, Text),
    RX_FIELD(Source, "url", url, Optional, Text),
    RX_FIELD(Source, "setid", setid, Optional, Text),
    RX_FIELD(Source, "kind", kind, Required, Text),
    RX_FIELD(Source, "grade", grade, Required, SourceGrade),
    RX_FIELD(Source, "notes", notes, Optional, Text),
};
const ObjectType source_t = object_type<Source>("source", source_fields);

// --- substances ----------------------------------------------------------------------------------

constexpr std::string_view substance_kinds[] = {"drug", "illicit", "food", "supplement", "beverage", "environmental"};

const Field substance_fields[] = {
    RX_FIELD(Substance, "id", id, Required, Text),
    RX_FIELD(Substance, "name", name, Required, Text),
    RX_FIELD(Substance, "synonyms", synonyms, Optional, Texts),
    RX_FIELD(Substance, "salts", salts, Optional, Texts),
    RX_FIELD(Substance, "kind", kind, Optional, Choice, .choices = substance_kinds, .default_value = "drug"),
    RX_FIELD(Substance, "identifiers", identifiers, Optional, Object, .type = &identifiers_t),
    RX_FIELD(Substance, "identifier_sources", identifier_sources, CitedIfIdentifiers, Objects, .type = &citation_t),
    RX_FIELD(Substance, "notes", notes, Optional, Text),
};

constexpr const char* kNoSource = "no source cited (every fact needs at least one source)";

void finish_substance(void* object, const FinishContext& ctx) {
    const auto& s = *static_cast<Substance*>(object);
    const auto& ids = s.identifiers;
    const bool has_ids = !ids.rxcui.empty() || !ids.atc.empty() || !ids.unii.empty() || !ids.drugbank.empty() ||
                         !ids.salt_unii.empty() || !ids.rxcui_products.empty();
    if (has_ids && s.identifier_sources.empty()) ctx.problem("identifier_sources", kNoSource);
}
const ObjectType substance_t = object_type<Substance>("substance", substance_fields, &finish_substance);

// --- products ------------------------------------------------------------------------------------

const Field inactive_fields[] = {
    RX_FIELD(InactiveIngredient, "substance", substance, Required, Text),
    RX_FIELD(InactiveIngredient, "note", note, Required, Text),
    RX_FIELD(InactiveIngredient, "sources", sources, Cited, Objects, .type = &citation_t),
};
const ObjectType inactive_t = object_type<InactiveIngredient>("inactiveIngredient", inactive_fields);

const Field product_fields[] = {
    RX_FIELD(Product, "id", id, Required, Text),
    RX_FIELD(Product, "name", name, Required, Text),
    RX_FIELD(Product, "synonyms", synonyms, Optional, Texts),
    RX_FIELD(Product, "ingredients", ingredients, Required, Texts, .missing = "an array of substance ids"),
    RX_FIELD(Product, "inactive_ingredients", inactive_ingredients, Optional, Objects, .type = &inactive_t),
    RX_FIELD(Product, "route", route, Optional, Text),
    RX_FIELD(Product, "form", form, Optional, Text),
    RX_FIELD(Product, "identifiers", identifiers, Optional, Object, .type = &identifiers_t),
    RX_FIELD(Product, "identifier_sources", identifier_sources, CitedIfIdentifiers, Objects, .type = &citation_t),
    RX_FIELD(Product, "sources", sources, Cited, Objects, .type = &citation_t),
    RX_FIELD(Product, "notes", notes, Optional, Text),
};

void finish_product(void* object, const FinishContext& ctx) {
    const auto& x = *static_cast<Product*>(object);
    if (x.ingredients.empty()) ctx.problem("ingredients", "a product needs at least one ingredient");
    for (std::size_t i = 0; i < x.inactive_ingredients.size(); ++i) {
        const auto& ii = x.inactive_ingredients[i];
        if (std::find(x.ingredients.begin(), x.ingredients.end(), ii.substance) == x.ingredients.end())
            ctx.problem("inactive_ingredients/" + std::to_string(i) + "/substance",
                        "\"" + ii.substance + "\" is not one of the product's ingredients");
    }
    const auto& ids = x.identifiers;
    const bool has_ids = !ids.rxcui.empty() || !ids.rxcui_products.empty() || !ids.setid.empty() || !ids.atc.empty();
    if (has_ids && x.identifier_sources.empty()) ctx.problem("identifier_sources", kNoSource);
}
const ObjectType product_t = object_type<Product>("product", product_fields, &finish_product);

// --- classes -------------------------------------------------------------------------------------

const Field member_fields[] = {
    RX_FIELD(ClassMember, "substance", substance, Required, Text),
    RX_FIELD(ClassMember, "sources", sources, Cited, Objects, .type = &citation_t),
    RX_FIELD(ClassMember, "strength", strength, Optional, Text),
    RX_FIELD(ClassMember, "note", note, Optional, Text),
};
const ObjectType member_t = object_type<ClassMember>("classMember", member_fields);

const Field duplicate_fields[] = {
    RX_FIELD(DuplicateTherapyPolicy, "severity", severity, Required, Severity),
    RX_FIELD(DuplicateTherapyPolicy, "management", management, Required, Text),
    RX_FIELD(DuplicateTherapyPolicy, "sources", sources, Cited, Objects, .type = &citation_t),
};
const ObjectType duplicate_t = object_type<DuplicateTherapyPolicy>("duplicateTherapy", duplicate_fields);

const Field class_fields[] = {
    RX_FIELD(DrugClass, "id", id, Required, Text),
    RX_FIELD(DrugClass, "name", name, Required, Text),
    RX_FIELD(DrugClass, "description", description, Optional, Text),
    RX_FIELD(DrugClass, "parents", parents, Optional, Texts),
    RX_FIELD(DrugClass, "members", members, Required, Objects, .type = &member_t, .missing = "an array of members"),
    RX_FIELD(DrugClass, "duplicate_therapy", duplicate_therapy, Optional, OptionalObject, .type = &duplicate_t),
    RX_UNKEPT("notes"),
};
const ObjectType class_t = object_type<DrugClass>("class", class_fields);

// --- conditions ----------------------------------------------------------------------------------

const Field symptom_fields[] = {
    RX_FIELD(Symptom, "name", name, Required, Text),
    RX_FIELD(Symptom, "sources", sources, Cited, Objects, .type = &citation_t),
};
const ObjectType symptom_t = object_type<Symptom>("symptom", symptom_fields);

constexpr std::string_view condition_code_systems[] = {"icd-10-cm", "snomed-ct"};
const Field condition_code_fields[] = {
    RX_FIELD(ConditionCode, "system", system, Required, Choice, .choices = condition_code_systems),
    RX_FIELD(ConditionCode, "code", code, Required, Text),
    RX_FIELD(ConditionCode, "display", display, Optional, Text),
    RX_FIELD(ConditionCode, "sources", sources, Cited, Objects, .type = &citation_t),
};
const ObjectType condition_code_t = object_type<ConditionCode>("condition code", condition_code_fields);

const Field condition_fields[] = {
    RX_FIELD(Condition, "id", id, Required, Text),
    RX_FIELD(Condition, "name", name, Required, Text),
    RX_FIELD(Condition, "synonyms", synonyms, Optional, Texts),
    RX_FIELD(Condition, "parents", parents, Optional, Texts),
    RX_FIELD(Condition, "symptoms", symptoms, Optional, Objects, .type = &symptom_t),
    RX_FIELD(Condition, "notes", notes, Optional, Text),
    RX_FIELD(Condition, "codes", codes, Optional, Objects, .type = &condition_code_t),
};
const ObjectType condition_t = object_type<Condition>("condition", condition_fields);

// --- rules ---------------------------------------------------------------------------------------

constexpr std::string_view mechanism_types[] = {"pharmacokinetic", "pharmacodynamic",
                                                "pharmacokinetic-and-pharmacodynamic", "unknown"};
constexpr std::string_view seriousness_levels[] = {"boxed",        "contraindication", "warnings",
                                                   "interactions", "highlights",       "none"};

const Field mechanism_fields[] = {
    RX_FIELD(Mechanism, "type", type, Required, Choice, .choices = mechanism_types),
    RX_FIELD(Mechanism, "detail", detail, Optional, Text),
};
const ObjectType mechanism_t = object_type<Mechanism>("mechanism", mechanism_fields);

const Field interaction_fields[] = {
    RX_FIELD(InteractionRule, "id", id, Required, Text),
    Field{.json = "participants", .member = "first, second", .need = Need::Required, .kind = FieldKind::Participants,
          .at = +[](void* o) -> void* { return &static_cast<InteractionRule*>(o)->first; },
          .missing = "an array of two participants",
          .at2 = +[](void* o) -> void* { return &static_cast<InteractionRule*>(o)->second; }},
    RX_FIELD(InteractionRule, "severity", severity, Required, Severity),
    RX_FIELD(InteractionRule, "summary", summary, Required, Text),
    RX_FIELD(InteractionRule, "effect", effect, Required, Text),
    RX_FIELD(InteractionRule, "mechanism", mechanism, Required, Object, .type = &mechanism_t,
             .missing = "an object {type, detail}"),
    RX_FIELD(InteractionRule, "management", management, Required, Text),
    RX_FIELD(InteractionRule, "evidence", evidence, Required, RuleEvidence),
    RX_FIELD(InteractionRule, "seriousness", seriousness, Optional, Choice, .choices = seriousness_levels),
    RX_FIELD(InteractionRule, "label_severity_basis", severity_basis, Optional, Text),
    RX_FIELD(InteractionRule, "sources", sources, Cited, Objects, .type = &citation_t),
    RX_FIELD(InteractionRule, "disagreement", disagreement, Optional, Text),
    RX_FIELD(InteractionRule, "notes", notes, Optional, Text),
    RX_FIELD(InteractionRule, "supersedes", supersedes, Optional, Texts),
};
const ObjectType interaction_t = object_type<InteractionRule>("interaction", interaction_fields);

const Field contraindication_fields[] = {
    RX_FIELD(ContraindicationRule, "id", id, Required, Text),
    RX_FIELD(ContraindicationRule, "subject", subject, Required, Participant, .missing = "a subject"),
    RX_FIELD(ContraindicationRule, "condition", condition, Required, Text),
    RX_FIELD(ContraindicationRule, "severity", severity, Required, Severity),
    RX_FIELD(ContraindicationRule, "summary", summary, Required, Text),
    RX_FIELD(ContraindicationRule, "rationale", rationale, Required, Text),
    RX_FIELD(ContraindicationRule, "management", management, Required, Text),
    RX_FIELD(ContraindicationRule, "evidence", evidence, Required, RuleEvidence),
    RX_FIELD(ContraindicationRule, "seriousness", seriousness, Optional, Choice, .choices = seriousness_levels),
    RX_UNKEPT("label_severity_basis"),
    RX_FIELD(ContraindicationRule, "sources", sources, Cited, Objects, .type = &citation_t),
    RX_FIELD(ContraindicationRule, "disagreement", disagreement, Optional, Text),
    RX_FIELD(ContraindicationRule, "notes", notes, Optional, Text),
};
const ObjectType contraindication_t = object_type<ContraindicationRule>("contraindication", contraindication_fields);

// --- cumulative rules (issue 12) -----------------------------------------------------------------

const Field requirement_fields[] = {
    RX_FIELD(CumulativeRequirement, "member", member, Required, Participant, .missing = "a class or substance"),
    RX_FIELD(CumulativeRequirement, "min", min, Required, Count),
};
const ObjectType requirement_t = object_type<CumulativeRequirement>("cumulativeRequirement", requirement_fields);

const Field dose_threshold_fields[] = {
    RX_FIELD(DoseThreshold, "substance", substance, Required, Text),
    RX_FIELD(DoseThreshold, "above_mg_per_day", above_mg_per_day, Required, Amount),
    RX_FIELD(DoseThreshold, "note", note, Optional, Text),
    RX_FIELD(DoseThreshold, "sources", sources, Cited, Objects, .type = &citation_t),
};
const ObjectType dose_threshold_t = object_type<DoseThreshold>("doseThreshold", dose_threshold_fields);

const Field cumulative_fields[] = {
    RX_FIELD(CumulativeRule, "id", id, Required, Text),
    RX_FIELD(CumulativeRule, "requires", requirements, Required, Objects, .type = &requirement_t),
    RX_FIELD(CumulativeRule, "conditions", conditions, Optional, Texts),
    RX_FIELD(CumulativeRule, "severity", severity, Required, Severity),
    RX_FIELD(CumulativeRule, "summary", summary, Required, Text),
    RX_FIELD(CumulativeRule, "effect", effect, Required, Text),
    RX_FIELD(CumulativeRule, "mechanism", mechanism, Required, Object, .type = &mechanism_t,
             .missing = "an object {type, detail}"),
    RX_FIELD(CumulativeRule, "management", management, Required, Text),
    RX_FIELD(CumulativeRule, "evidence", evidence, Required, RuleEvidence),
    RX_FIELD(CumulativeRule, "seriousness", seriousness, Optional, Choice, .choices = seriousness_levels),
    RX_FIELD(CumulativeRule, "dose_thresholds", dose_thresholds, Optional, Objects, .type = &dose_threshold_t),
    RX_FIELD(CumulativeRule, "sources", sources, Cited, Objects, .type = &citation_t),
    RX_FIELD(CumulativeRule, "disagreement", disagreement, Optional, Text),
    RX_FIELD(CumulativeRule, "notes", notes, Optional, Text),
};
const ObjectType cumulative_t = object_type<CumulativeRule>("cumulative", cumulative_fields);

// --- treatments and profiles ---------------------------------------------------------------------

const Field treatment_fields[] = {
    RX_FIELD(Treatment, "id", id, Required, Text),
    RX_FIELD(Treatment, "name", name, Required, Text),
    RX_FIELD(Treatment, "kind", kind, Required, Text),
    RX_FIELD(Treatment, "description", description, Required, Text),
    RX_FIELD(Treatment, "substances", substances, Optional, Texts),
    RX_FIELD(Treatment, "treats", treats, Optional, Texts),
    RX_FIELD(Treatment, "complements", complements, Optional, Texts),
    RX_FIELD(Treatment, "sources", sources, Cited, Objects, .type = &citation_t),
    RX_UNKEPT("notes"),
};
const ObjectType treatment_t = object_type<Treatment>("treatment", treatment_fields);

const Field profile_item_fields[] = {
    RX_FIELD(ProfileItem, "id", id, Required, Text),
    RX_FIELD(ProfileItem, "name", name, Required, Text),
    RX_FIELD(ProfileItem, "description", description, Required, Text),
    RX_FIELD(ProfileItem, "sources", sources, Cited, Objects, .type = &citation_t),
};
const ObjectType profile_item_t = object_type<ProfileItem>("profileItem", profile_item_fields);

const Field profile_fields[] = {
    RX_FIELD(Profile, "substance", substance, Required, Text),
    RX_FIELD(Profile, "mechanisms", mechanisms, Optional, Objects, .type = &profile_item_t),
    RX_FIELD(Profile, "benefits", benefits, Optional, Objects, .type = &profile_item_t),
    RX_FIELD(Profile, "risks", risks, Optional, Objects, .type = &profile_item_t),
};
const ObjectType profile_t = object_type<Profile>("profile", profile_fields);

// --- roots ---------------------------------------------------------------------------------------

#define RX_SECTION(JSON, MEMBER, ORIGINS, TYPE)                                                           \
    Field {                                                                                                \
        .json = JSON, .member = #MEMBER, .need = Need::Optional, .kind = FieldKind::Objects,               \
        .at = +[](void* o) -> void* { return &section_vector(static_cast<PackData*>(o)->MEMBER); },         \
        .type = &TYPE,                                                                                     \
        .origins = +[](void* o) -> std::vector<Origin>* { return &static_cast<PackData*>(o)->ORIGINS; }      \
    }

// Sections in pack order; `manifest` first for the bundled root (left out of the unknown-key list).
const Field bundled_fields[] = {
    Field{.json = "manifest", .member = "info", .need = Need::Required, .kind = FieldKind::Object,
          .at = +[](void* o) -> void* { return o; }, .type = &manifest_t,
          .missing = "the pack manifest (a bundled pack is {\"manifest\": {...}, \"sources\": [...], ...})"},
    RX_SECTION("sources", sources, source_origins, source_t),
    RX_SECTION("substances", substances, substance_origins, substance_t),
    RX_SECTION("products", products, product_origins, product_t),
    RX_SECTION("classes", classes, class_origins, class_t),
    RX_SECTION("conditions", conditions, condition_origins, condition_t),
    RX_SECTION("interactions", interactions, interaction_origins, interaction_t),
    RX_SECTION("contraindications", contraindications, contraindication_origins, contraindication_t),
    RX_SECTION("cumulative_rules", cumulative_rules, cumulative_origins, cumulative_t),
    RX_SECTION("treatments", treatments, treatment_origins, treatment_t),
    RX_SECTION("profiles", profiles, profile_origins, profile_t),
};

constexpr ObjectType root_type(std::span<const Field> fields, std::string_view prefix, std::size_t skip) {
    ObjectType t = object_type<PackData>("pack", fields);
    t.list_prefix = prefix;
    t.unknown_noun = "section";
    t.list_skip = skip;
    return t;
}

const ObjectType bundled_t = root_type(bundled_fields, "manifest or one of the sections ", 1);
const ObjectType data_file_t = root_type(std::span<const Field>(bundled_fields).subspan(1), "one of the sections ", 0);

const ObjectType* const all_types[] = {&manifest_t, &source_t,    &citation_t,   &substance_t,  &identifiers_t,
                                       &product_t,  &inactive_t,  &class_t,      &member_t,     &duplicate_t,
                                       &condition_t, &symptom_t,  &interaction_t, &mechanism_t, &contraindication_t,
                                       &treatment_t, &profile_t,  &profile_item_t, &cumulative_t,
                                       &requirement_t, &dose_threshold_t};

void walk(const ObjectType& type, void* object, const std::string& file, std::string& pointer,
          const std::function<void(Citation&, const std::string&, const std::string&)>& f) {
    for (const Field& field : type.fields) {
        if (!field.type) continue;
        const std::size_t base = pointer.size();
        pointer += '/';
        pointer += field.json;
        void* member = field.at(object);
        if (field.kind == FieldKind::Object) {
            walk(*field.type, member, file, pointer, f);
        } else if (field.kind == FieldKind::OptionalObject) {
            if (const void* value = field.type->get(member)) walk(*field.type, const_cast<void*>(value), file, pointer, f);
        } else {
            const std::size_t n = field.type->count(member);
            const std::size_t base2 = pointer.size();
            for (std::size_t i = 0; i < n; ++i) {
                pointer += '/';
                pointer += std::to_string(i);
                void* item = field.type->element(member, i);
                if (field.type == &citation_t) f(*static_cast<Citation*>(item), file, pointer);
                else walk(*field.type, item, file, pointer, f);
                pointer.resize(base2);
            }
        }
        pointer.resize(base);
    }
}

}  // namespace

const ObjectType& bundled_pack_type() { return bundled_t; }
const ObjectType& manifest_file_type() { return manifest_file_t; }
const ObjectType& data_file_type() { return data_file_t; }
const ObjectType& citation_type() { return citation_t; }

std::span<const ObjectType* const> entity_types() { return all_types; }

void for_each_citation(PackData& pack,
                       const std::function<void(Citation&, const std::string&, const std::string&)>& f,
                       const std::function<void(std::size_t, const std::string&, const std::string&)>& encoded_rule) {
    // In reading order: file by file, and in each file the sections by name (the order a sorted
    // JSON object gives), so that messages keep the order they always had.
    std::vector<const Field*> sections;
    for (const Field& section : data_file_t.fields) sections.push_back(&section);
    std::sort(sections.begin(), sections.end(), [](const Field* a, const Field* b) { return a->json < b->json; });
    std::vector<std::size_t> next(sections.size(), 0);  // the entities of one file are contiguous
    std::string pointer;
    pointer.reserve(96);
    for (std::uint32_t file = 0; file < pack.origin_files.size(); ++file) {
        for (std::size_t s = 0; s < sections.size(); ++s) {
            const Field& section = *sections[s];
            void* items = section.at(&pack);
            const auto& origins = *section.origins(&pack);
            for (std::size_t& i = next[s]; i < origins.size() && origins[i].file == file; ++i) {
                pointer.clear();
                pointer += '/';
                pointer += section.json;
                pointer += '/';
                pointer += std::to_string(origins[i].index);
                if (pack.read_rules && section.json == "interactions") encoded_rule(i, pack.origin_files[file], pointer);
                else walk(*section.type, section.type->element(items, i), pack.origin_files[file], pointer, f);
            }
        }
    }
}

}  // namespace rxcaution::detail
