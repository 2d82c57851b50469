#include "test_support.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

using namespace rxcaution;
using rxtest::data_path;

namespace {
std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}
}  // namespace

TEST(Loader, LoadsDirectoryManifestFileAndBundledFileAlike) {
    const auto dir = KnowledgeBase::load(data_path("mini"));
    const auto manifest = KnowledgeBase::load(data_path("mini/manifest.json"));
    const auto bundled = KnowledgeBase::load(data_path("mini_bundled.json"));
    const auto text = KnowledgeBase::from_json(read(data_path("mini_bundled.json")));
    for (const auto* kb : {&dir, &manifest, &bundled, &text}) {
        EXPECT_EQ(kb->info().name, "mini");
        EXPECT_EQ(kb->info().version, "0.0.1");
        EXPECT_EQ(kb->info().format_version, 1);
        EXPECT_EQ(kb->info().substances, 4u);
        EXPECT_EQ(kb->info().products, 2u);
        EXPECT_EQ(kb->info().classes, 2u);
        EXPECT_EQ(kb->info().interactions, 2u);
        EXPECT_EQ(kb->info().contraindications, 1u);
        EXPECT_EQ(kb->info().sources, 2u);
    }
    EXPECT_EQ(text.info().origin, "<memory>");
}

TEST(Loader, CitationWithoutGradeTakesTheSourceGrade) {
    const auto kb = KnowledgeBase::load(data_path("mini"));
    EXPECT_EQ(kb.interaction("alpha-sedatives").sources.at(0).grade, EvidenceGrade::Label);
    EXPECT_EQ(kb.interaction("alpha-beta").sources.at(0).grade, EvidenceGrade::Secondary);
    EXPECT_EQ(kb.interaction("alpha-sedatives").sources.at(0).section, "BOXED");
}

TEST(Loader, ParseErrorNamesFileLineAndColumn) {
    const std::string path = data_path("invalid_parse.json");
    try {
        (void)KnowledgeBase::load(path);
        FAIL();
    } catch (const ParseError& e) {
        EXPECT_EQ(e.line(), 5u);
        EXPECT_EQ(e.column(), 3u);
        EXPECT_EQ(e.byte_offset(), 62u);
        EXPECT_EQ(std::string(e.what()),
                  path + ":5:3: invalid JSON at byte 62: syntax error while parsing object key - unexpected '}'; expected string literal");
    }
}

TEST(Loader, FromJsonReportsPositionOfBadText) {
    try {
        (void)KnowledgeBase::from_json("{");
        FAIL();
    } catch (const ParseError& e) {
        EXPECT_EQ(e.line(), 1u);
        EXPECT_EQ(e.file(), "<memory>");
        EXPECT_NE(std::string(e.what()).find("<memory>:1:"), std::string::npos) << e.what();
    }
}

TEST(Loader, SchemaErrorNamesThePointer) {
    const std::string path = data_path("invalid_schema_type.json");
    try {
        (void)KnowledgeBase::load(path);
        FAIL();
    } catch (const SchemaError& e) {
        EXPECT_EQ(e.pointer(), "/interactions/0/severity");
        EXPECT_EQ(e.expected(), "a string");
        EXPECT_EQ(e.found(), "number 3");
        EXPECT_EQ(std::string(e.what()), path + ":/interactions/0/severity: expected a string, got number 3");
    }
}

TEST(Loader, SchemaErrorRejectsUnknownFields) {
    const std::string path = data_path("invalid_schema_unknown_field.json");
    try {
        (void)KnowledgeBase::load(path);
        FAIL();
    } catch (const SchemaError& e) {
        EXPECT_EQ(e.pointer(), "/substances/1/severty");
        EXPECT_EQ(e.found(), "unknown field \"severty\"");
    }
}

TEST(Loader, IntegrityErrorGathersEveryProblem) {
    const std::string p = data_path("invalid_integrity.json");
    try {
        (void)KnowledgeBase::load(p);
        FAIL();
    } catch (const IntegrityError& e) {
        const std::vector<std::string> expected = {
            p + ":/interactions/0/severity: expected one of contraindicated|major|moderate|minor, got \"severe\"",
            p + ":/interactions/1/sources: no source cited (every fact needs at least one source)",
            p + ":/substances/4/id: duplicate id \"beta\" (substance; first defined at " + p + ":/substances/1)",
            p + ":/classes: class hierarchy has a cycle: sedatives -> strong-sedatives -> sedatives",
            p + ":/interactions/1/participants/1: unknown substance \"omega\"",
            p + ":/contraindications/0/sources/0/source: unknown source \"nowhere\"",
        };
        EXPECT_EQ(e.problems(), expected);
        EXPECT_EQ(std::string(e.what()).rfind(p + ": 6 problems in the pack:\n  ", 0), 0u) << e.what();
    }
}

TEST(Loader, RejectsEvidenceStrongerThanItsCitations) {
    const std::string p = data_path("invalid_evidence_grade.json");
    try {
        (void)KnowledgeBase::load(p);
        FAIL();
    } catch (const IntegrityError& e) {
        ASSERT_EQ(e.problems().size(), 1u);
        EXPECT_EQ(e.problems()[0],
                  p + ":/interactions/1/evidence: evidence \"label\" is stronger than any citation (best: secondary)");
    }
}

TEST(Loader, RejectsUnverifiedFacts) {
    const std::string p = data_path("invalid_unverified.json");
    try {
        (void)KnowledgeBase::load(p);
        FAIL();
    } catch (const IntegrityError& e) {
        ASSERT_EQ(e.problems().size(), 1u);
        EXPECT_EQ(e.problems()[0], p + ":/interactions/1/evidence: expected one of label|label-quoted|secondary, got "
                                       "\"unverified\" (unverified facts are never encoded)");
    }
}

TEST(Loader, RejectsMembersWithoutSourcesAndBrandsWithoutIngredients) {
    const std::string p = data_path("invalid_missing_sources.json");
    try {
        (void)KnowledgeBase::load(p);
        FAIL();
    } catch (const IntegrityError& e) {
        const std::vector<std::string> expected = {
            p + ":/classes/0/members/0/sources: no source cited (every fact needs at least one source)",
            p + ":/products/1/ingredients: a product needs at least one ingredient",
        };
        EXPECT_EQ(e.problems(), expected);
    }
}

TEST(Loader, RejectsANameThatMeansTwoThings) {
    const std::string p = data_path("invalid_name_clash.json");
    try {
        (void)KnowledgeBase::load(p);
        FAIL();
    } catch (const IntegrityError& e) {
        ASSERT_EQ(e.problems().size(), 1u);
        EXPECT_EQ(e.problems()[0], p + ": the name \"alfa\" refers to both substance alpha and substance beta");
    }
}

TEST(Loader, RejectsOtherFormatVersions) {
    const std::string p = data_path("invalid_format_version.json");
    try {
        (void)KnowledgeBase::load(p);
        FAIL();
    } catch (const UnsupportedFormatVersion& e) {
        EXPECT_EQ(e.found(), 2);
        EXPECT_EQ(e.supported(), 1);
        EXPECT_EQ(std::string(e.what()), p + ": format_version 2 is not supported (this library reads 1)");
    }
}

TEST(Loader, RejectsOversizedFilesBeforeParsing) {
    LoadOptions options;
    options.max_file_bytes = 100;
    const std::string p = data_path("mini/manifest.json");
    const auto size = std::to_string(read(p).size());
    try {
        (void)KnowledgeBase::load(data_path("mini"), options);
        FAIL();
    } catch (const DataError& e) {
        EXPECT_EQ(std::string(e.what()), p + ": file is " + size + " bytes, over the limit of 100 bytes");
    }
    EXPECT_THROW((void)KnowledgeBase::from_json(read(data_path("mini_bundled.json")), options), DataError);
}

TEST(Loader, MissingFileIsADataError) {
    try {
        (void)KnowledgeBase::load(data_path("no-such-pack"));
        FAIL();
    } catch (const DataError& e) {
        EXPECT_EQ(std::string(e.what()), data_path("no-such-pack") + ": no such file");
    }
}

TEST(Loader, PackSerialisationRoundTripsToTheSameAnswers) {
    const auto& kb = rxtest::kb();
    const auto copy = KnowledgeBase::from_json(kb.to_json());
    EXPECT_EQ(copy.info().interactions, kb.info().interactions);
    EXPECT_EQ(copy.info().compiled_pairs, kb.info().compiled_pairs);
    const std::vector<std::string> meds = {"methadone", "clarithromycin", "Suboxone", "alprazolam", "ketamine"};
    EXPECT_EQ(to_json(copy.check(meds, {{"hypertension"}})), to_json(kb.check(meds, {{"hypertension"}})));
}

TEST(Loader, BuiltinPackIsValidOnDiskToo) {
    // The embedded pack and data/ are the same files; loading from disk must agree.
    const auto disk = KnowledgeBase::load(RXCAUTION_PACK_DIR);
    EXPECT_EQ(disk.info().interactions, rxtest::kb().info().interactions);
    EXPECT_EQ(disk.info().substances, rxtest::kb().info().substances);
}

// Regression: a `"grade": null` citation must take its source's grade, not lift a weak source.
TEST(Loader, NullCitationGradeDoesNotLiftAWeakSource) {
    auto doc = nlohmann::json::parse(read(data_path("mini_bundled.json")));
    doc["sources"].push_back({{"id", "src-weak"}, {"title", "Consumer page"}, {"kind", "web"}, {"grade", "weak"}});
    doc["classes"][0]["members"][0]["sources"] = nlohmann::json::array({{{"source", "src-weak"}, {"grade", nullptr}}});
    try {
        (void)KnowledgeBase::from_json(doc.dump());
        FAIL() << "a membership resting on a weak source was accepted";
    } catch (const IntegrityError& e) {
        ASSERT_EQ(e.problems().size(), 1u);
        EXPECT_EQ(e.problems()[0], "<memory>:/classes/0/members/0/sources: membership of \"gamma\" in class \"sedatives\" "
                                   "rests on weak sources only");
    }
}
