// One description per field: the loader's field tables (src/pack_fields.cpp) drive reading and
// to_json. These tests hold the other descriptions of the pack format to them: the JSON Schema
// (data/schema/pack.schema.json), the Python stub (bindings/python/rxcaution/_core.pyi) and the
// data model (docs/data-model.md). A field added to one and not the others fails here.

#include "detail/pack_fields.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

using rxcaution::detail::entity_types;
using rxcaution::detail::Field;
using rxcaution::detail::FieldKind;
using rxcaution::detail::Need;
using rxcaution::detail::ObjectType;

namespace {

std::string read(const std::string& relative) {
    std::ifstream in(std::string(RXCAUTION_SOURCE_DIR) + "/" + relative);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> json_names(const ObjectType& t) {
    std::vector<std::string> out;
    for (const Field& f : t.fields) out.emplace_back(f.json);
    return out;
}

bool required(const Field& f) { return f.need == Need::Required || f.need == Need::Cited; }

const nlohmann::json& schema() {
    static const nlohmann::json s = nlohmann::json::parse(read("data/schema/pack.schema.json"));
    return s;
}

// A $defs entry, following one $ref.
const nlohmann::json& resolve(const nlohmann::json& node) {
    if (node.is_object() && node.contains("$ref")) {
        const std::string ref = node["$ref"];
        return schema()["$defs"][ref.substr(ref.rfind('/') + 1)];
    }
    return node;
}

}  // namespace

TEST(PackFields, EveryEntityHasATable) {
    std::set<std::string> names;
    for (const ObjectType* t : entity_types()) names.insert(std::string(t->name));
    const std::set<std::string> expected = {"manifest", "source", "citation", "substance", "identifiers", "product",
                                            "inactiveIngredient", "class", "classMember", "duplicateTherapy",
                                            "condition", "symptom", "interaction", "mechanism", "contraindication",
                                            "treatment", "profile", "profileItem",
                                            // issue 12: cumulative rules
                                            "cumulative", "cumulativeRequirement", "doseThreshold"};
    EXPECT_EQ(names, expected);
}

// The schema lists the same properties, in the same order (the order to_json writes), and
// requires exactly the fields the loader requires.
TEST(PackFields, JsonSchemaAgreesWithTheTables) {
    const auto& defs = schema()["$defs"];
    for (const ObjectType* t : entity_types()) {
        SCOPED_TRACE(std::string(t->name));
        const auto& def = defs[std::string(t->name)];
        std::vector<std::string> properties;
        for (const auto& [key, value] : def["properties"].items()) properties.push_back(key);
        // nlohmann sorts object keys: compare the sets, then the order through the schema text.
        std::vector<std::string> ours = json_names(*t);
        std::vector<std::string> sorted = ours;
        std::sort(sorted.begin(), sorted.end());
        EXPECT_EQ(properties, sorted);
        const nlohmann::ordered_json ordered = nlohmann::ordered_json::parse(read("data/schema/pack.schema.json"));
        std::vector<std::string> in_order;
        for (const auto& [key, value] : ordered["$defs"][std::string(t->name)]["properties"].items())
            in_order.push_back(key);
        EXPECT_EQ(in_order, ours) << "the schema lists the fields in another order than the loader writes them";

        std::set<std::string> schema_required;
        const auto& req = t->name == "manifest" ? defs["bundledManifest"]["required"] : def["required"];
        if (req.is_array())
            for (const auto& r : req) schema_required.insert(r.get<std::string>());
        std::set<std::string> ours_required;
        for (const Field& f : t->fields)
            if (required(f)) ours_required.insert(std::string(f.json));
        EXPECT_EQ(schema_required, ours_required);

        for (const Field& f : t->fields) {
            SCOPED_TRACE(std::string(f.json));
            const auto& property = resolve(def["properties"][std::string(f.json)]);
            if (f.kind == FieldKind::Choice) {
                std::set<std::string> schema_enum, ours_enum;
                for (const auto& v : property["enum"])
                    if (v.is_string() && !v.get<std::string>().empty()) schema_enum.insert(v.get<std::string>());
                for (auto c : f.choices) ours_enum.emplace(c);
                EXPECT_EQ(schema_enum, ours_enum);
            }
            if (f.need == Need::CitedIfIdentifiers) {
                EXPECT_NE(def.dump().find("identifierSourcesRequired"), std::string::npos)
                    << "identifier_sources are required with identifiers; the schema must say so";
            }
        }
    }
}

// Every field the loader reads is exposed to Python under its C++ member name.
TEST(PackFields, PythonStubExposesEveryMember) {
    const std::map<std::string, std::string> classes = {
        {"manifest", "PackInfo"},           {"source", "Source"},
        {"citation", "Citation"},           {"substance", "Substance"},
        {"identifiers", "Identifiers"},     {"product", "Product"},
        {"inactiveIngredient", "InactiveIngredient"}, {"class", "DrugClass"},
        {"classMember", "ClassMember"},     {"duplicateTherapy", "DuplicateTherapyPolicy"},
        {"condition", "Condition"},         {"symptom", "Symptom"},
        {"interaction", "InteractionRule"}, {"mechanism", "Mechanism"},
        {"contraindication", "ContraindicationRule"}, {"treatment", "Treatment"},
        {"profile", "Profile"},             {"profileItem", "ProfileItem"},
        {"cumulative", "CumulativeRule"},   {"cumulativeRequirement", "CumulativeRequirement"},
        {"doseThreshold", "DoseThreshold"}};
    std::set<std::string> unkept;
    const std::string stub = read("bindings/python/rxcaution/_core.pyi");
    std::set<std::string> missing;
    for (const ObjectType* t : entity_types()) {
        const std::string cls = classes.at(std::string(t->name));
        const auto start = stub.find("\nclass " + cls + "(");
        ASSERT_NE(start, std::string::npos) << cls;
        const auto end = stub.find("\nclass ", start + 1);
        const std::string body = stub.substr(start, end - start);
        for (const Field& f : t->fields) {
            if (f.json == "files") continue;  // the manifest's file list is not part of PackInfo
            if (f.kind == FieldKind::Unkept) {
                unkept.insert(cls + "." + std::string(f.json));
                continue;
            }
            std::string member(f.member);
            if (auto dot = member.rfind('.'); dot != std::string::npos) member = member.substr(dot + 1);
            std::vector<std::string> names;
            if (member == "first, second") names = {"first", "second"};
            else names = {member};
            for (const auto& name : names)
                if (body.find("def " + name + "(self)") == std::string::npos) missing.insert(cls + "." + name);
        }
    }
    EXPECT_EQ(missing, std::set<std::string>{});
    // Allowed by the format but kept nowhere (the loader dropped them before the tables showed it):
    // giving them a struct member and a binding removes them from this list.
    const std::set<std::string> known_unkept = {"DrugClass.notes", "Treatment.notes",
                                                "ContraindicationRule.label_severity_basis"};
    EXPECT_EQ(unkept, known_unkept);
}

// docs/data-model.md documents every field, and says which are required.
TEST(PackFields, DataModelDocumentsEveryField) {
    const std::string doc = read("docs/data-model.md");
    // Section of the document that describes each table (up to the next heading of that level).
    const std::map<std::string, std::string> headings = {
        {"manifest", "## manifest.json"},         {"citation", "### Source citations"},
        {"source", "### `sources`"},              {"substance", "### `substances`"},
        {"product", "### `products`"},            {"class", "### `classes`"},
        {"condition", "### `conditions`"},        {"interaction", "### `interactions`"},
        {"contraindication", "### `contraindications`"}, {"treatment", "### `treatments`"},
        {"cumulative", "### `cumulative_rules`"},
        {"profile", "### `profiles`"}};
    // Nested objects are described inside their parent's section.
    const std::map<std::string, std::string> parent = {
        {"identifiers", "substance"}, {"inactiveIngredient", "product"}, {"classMember", "class"},
        {"duplicateTherapy", "class"}, {"symptom", "condition"}, {"mechanism", "interaction"},
        {"profileItem", "profile"}, {"cumulativeRequirement", "cumulative"}, {"doseThreshold", "cumulative"}};
    auto section = [&](const std::string& name) {
        const std::string& h = headings.at(name);
        const auto start = doc.find("\n" + h);
        EXPECT_NE(start, std::string::npos) << h;
        auto end = doc.find("\n## ", start + 1);
        const auto next3 = doc.find("\n### ", start + 1);
        if (h.rfind("###", 0) == 0 && next3 < end) end = next3;
        return doc.substr(start, end - start);
    };
    const std::regex row(R"(\n\| (`[^|]*`) \| ([^|]*) \|)");
    const std::regex backticked("`([a-z_]+)`");
    for (const ObjectType* t : entity_types()) {
        const std::string name(t->name);
        SCOPED_TRACE(name);
        if (parent.count(name)) {
            std::string text = section(parent.at(name));
            if (name == "identifiers") text += section("product");  // products say what differs for them
            for (const Field& f : t->fields) {
                const std::string json(f.json);
                EXPECT_TRUE(text.find("`" + json + "`") != std::string::npos ||
                            text.find("\"" + json + "\"") != std::string::npos)
                    << json << " is not mentioned in the " << parent.at(name) << " section";
            }
            continue;
        }
        const std::string text = section(name);
        std::map<std::string, std::string> documented;  // field -> "required" column
        for (auto it = std::sregex_iterator(text.begin(), text.end(), row); it != std::sregex_iterator(); ++it) {
            const std::string names = (*it)[1], need = (*it)[2];
            for (auto n = std::sregex_iterator(names.begin(), names.end(), backticked);
                 n != std::sregex_iterator(); ++n)
                documented[(*n)[1]] = need;
        }
        if (name == "profile") {  // documented by an example
            for (const Field& f : t->fields) {
                std::string quoted_name(1, '"');
                quoted_name.append(f.json).push_back('"');
                EXPECT_NE(text.find(quoted_name), std::string::npos) << f.json;
            }
            continue;
        }
        std::set<std::string> doc_fields, ours;
        for (const auto& [k, v] : documented) doc_fields.insert(k);
        for (const Field& f : t->fields) ours.insert(std::string(f.json));
        EXPECT_EQ(doc_fields, ours);
        if (name == "manifest") continue;  // that table gives types, not whether required
        for (const Field& f : t->fields) {
            const std::string need = documented[std::string(f.json)];
            SCOPED_TRACE(std::string(f.json) + ": " + need);
            if (f.need == Need::CitedIfIdentifiers) EXPECT_EQ(need.rfind("if ", 0), 0u);
            else if (required(f)) EXPECT_EQ(need.rfind("yes", 0), 0u);
            else EXPECT_EQ(need.rfind("no", 0), 0u);
        }
    }
}
