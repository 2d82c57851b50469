// A pack loaded alone reads its interaction rules straight into the encoded form (no
// InteractionRule structs; detail/encoded_rules.hpp); layering still reads structs. Both paths
// must give the same knowledge base and the same integrity messages, in the same order.

#include "test_support.hpp"

#include "detail/impl.hpp"
#include "detail/pack.hpp"
#include "detail/pack_layers.hpp"
#include "detail/snapshot.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace rxcaution;
using rxtest::data_path;
using rxtest::read_file;

namespace {

std::string write_temp(const std::string& name, const std::string& text) {
    const auto path = std::filesystem::temp_directory_path() / name;
    std::ofstream(path) << text;
    return path.generic_string();
}

// The problems of loading `path` with rules encoded or as structs.
std::vector<std::string> problems(const std::string& path, bool encoded) {
    try {
        (void)detail::load_pack_path(path, LoadOptions{}, encoded);
    } catch (const IntegrityError& e) {
        return e.problems();
    }
    return {};
}

// The snapshot of the knowledge base compiled from rules read as structs.
std::string struct_snapshot(const std::string& path) {
    detail::PackData pack = detail::load_pack_path(path, LoadOptions{}, false);
    EXPECT_FALSE(pack.read_rules);
    pack.info.origin = path;
    detail::set_single_layer(pack);
    return detail::write_snapshot(*detail::build_impl(std::move(pack)));
}

KnowledgeBase struct_loaded(const std::string& path) { return KnowledgeBase::from_snapshot(struct_snapshot(path), path); }

}  // namespace

TEST(EncodedLoad, SameKnowledgeBaseAsFromStructs) {
    // Built-in data: citations without a grade (filled in the encoded record), supersedes, class
    // and product participants.
    const std::string dir = std::string(RXCAUTION_PACK_DIR);
    const auto encoded = KnowledgeBase::load(dir);
    const auto structs = struct_loaded(dir);
    EXPECT_EQ(encoded.to_snapshot(), struct_snapshot(dir));
    EXPECT_EQ(encoded.to_json(), structs.to_json());
    EXPECT_EQ(encoded.to_snapshot(), KnowledgeBase::builtin().to_snapshot());
    ASSERT_EQ(encoded.interactions().size(), structs.interactions().size());
    const auto report = [](const KnowledgeBase& kb) {
        return to_json(kb.check({"methadone", "alprazolam", "ondansetron", "fluconazole"}));
    };
    EXPECT_EQ(report(encoded), report(structs));
}

TEST(EncodedLoad, CitationWithoutGradeIsGradedInTheEncodedRule) {
    const auto kb = KnowledgeBase::from_json(read_file(data_path("mini_bundled.json")));
    EXPECT_EQ(kb.interaction("alpha-sedatives").sources.at(0).grade, EvidenceGrade::Label);
    EXPECT_EQ(kb.interaction("alpha-beta").sources.at(0).grade, EvidenceGrade::Secondary);
    EXPECT_EQ(kb.interactions().at(1).sources.at(0).grade, EvidenceGrade::Secondary);
}

TEST(EncodedLoad, RuleProblemsAreTheStructPathsInTheSameOrder) {
    auto doc = nlohmann::json::parse(read_file(data_path("mini_bundled.json")));
    doc["sources"].push_back({{"id", "src-weak"}, {"title", "Forum"}, {"kind", "web"}, {"grade", "weak"}});
    auto rule = doc["interactions"][1];
    auto add = [&](const std::string& id, const nlohmann::json& first, const nlohmann::json& second,
                   const nlohmann::json& changes) {
        auto r = rule;
        r["id"] = id;
        r["participants"] = nlohmann::json::array({first, second});
        if (!changes.empty()) r.update(changes);
        doc["interactions"].push_back(r);
    };
    const nlohmann::json alpha = {{"substance", "alpha"}}, gamma = {{"substance", "gamma"}};
    add("alpha-beta", alpha, gamma, nlohmann::json::object());                                              // duplicate of rule 1
    add("Bad_Id", alpha, gamma, nlohmann::json::object());                                                  // not a slug
    add("self", alpha, alpha, nlohmann::json::object());                                                    // self interaction
    add("wrong-kind", {{"substance", "sedatives"}}, {{"class", "beta"}}, nlohmann::json::object());         // kinds swapped
    add("nowhere", {{"product", "no-such"}}, gamma, nlohmann::json::object());                              // unknown product
    add("sup", alpha, gamma, {{"supersedes", {"alpha-beta", "missing-rule", "sup"}}});
    add("unsourced", alpha, gamma, {{"sources", {{{"source", "nobody"}}}}});
    add("weak", alpha, gamma, {{"sources", {{{"source", "src-weak"}}}}});
    add("claims", alpha, gamma, {{"evidence", "label"}});
    add("alpha-heart", alpha, gamma, nlohmann::json::object());  // a contraindication's id too
    const std::string path = write_temp("rxcaution_encoded_problems.json", doc.dump());
    const auto from_structs = problems(path, false);
    const auto from_encoded = problems(path, true);
    EXPECT_EQ(from_encoded, from_structs);
    const std::vector<std::string> expected = {
        path + ":/interactions/2/id: duplicate rule id \"alpha-beta\" (first defined at " + path + ":/interactions/1)",
        path + ":/interactions/3/id: id \"Bad_Id\" is not a lowercase slug",
        path + ":/contraindications/0/id: duplicate rule id \"alpha-heart\" (first defined at " + path +
            ":/interactions/11)",
        path + ":/interactions/4/participants: a substance cannot interact with itself",
        path + ":/interactions/5/participants/0: \"sedatives\" is a class, expected a substance",
        path + ":/interactions/5/participants/1: \"beta\" is a substance, expected a class",
        path + ":/interactions/6/participants/0: unknown product \"no-such\"",
        path + ":/interactions/7/supersedes/1: unknown interaction rule \"missing-rule\"",
        path + ":/interactions/7/supersedes/2: a rule cannot supersede itself",
        path + ":/interactions/8/sources/0/source: unknown source \"nobody\"",
        path + ":/interactions/9/evidence: evidence \"secondary\" is stronger than any citation (best: weak)",
        path + ":/interactions/9/sources: a rule cannot rest on weak sources only",
        path + ":/interactions/10/evidence: evidence \"label\" is stronger than any citation (best: secondary)",
    };
    EXPECT_EQ(from_encoded, expected);
    // The public loaders take the encoded path and say the same.
    try {
        (void)KnowledgeBase::load(path);
        FAIL();
    } catch (const IntegrityError& e) {
        EXPECT_EQ(e.problems(), expected);
    }
    try {
        (void)KnowledgeBase::from_json(doc.dump(), {}, path);
        FAIL();
    } catch (const IntegrityError& e) {
        EXPECT_EQ(e.problems(), expected);
    }
    std::filesystem::remove(path);
}

TEST(EncodedLoad, ManifestPackOfSeveralFilesKeepsRuleOrder) {
    const auto dir = KnowledgeBase::load(data_path("mini"));
    const auto bundled = struct_loaded(data_path("mini_bundled.json"));
    ASSERT_EQ(dir.interactions().size(), 2u);
    EXPECT_EQ(dir.interactions()[0].id, bundled.interactions()[0].id);
    EXPECT_EQ(dir.interactions()[1].id, bundled.interactions()[1].id);
    EXPECT_EQ(to_json(dir.check({"alphazine", "gammadone"})), to_json(bundled.check({"alphazine", "gammadone"})));
}
