#include "test_support.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <typeinfo>

#include <sys/stat.h>

using namespace rxcaution;
using rxtest::data_path;
using rxtest::read_file;


TEST(Loader, LoadsDirectoryManifestFileAndBundledFileAlike) {
    const auto dir = KnowledgeBase::load(data_path("mini"));
    const auto manifest = KnowledgeBase::load(data_path("mini/manifest.json"));
    const auto bundled = KnowledgeBase::load(data_path("mini_bundled.json"));
    const auto text = KnowledgeBase::from_json(read_file(data_path("mini_bundled.json")));
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
    const auto size = std::to_string(read_file(p).size());
    try {
        (void)KnowledgeBase::load(data_path("mini"), options);
        FAIL();
    } catch (const DataError& e) {
        EXPECT_EQ(std::string(e.what()), p + ": file is " + size + " bytes, over the limit of 100 bytes");
    }
    EXPECT_THROW((void)KnowledgeBase::from_json(read_file(data_path("mini_bundled.json")), options), DataError);
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
    auto doc = nlohmann::json::parse(read_file(data_path("mini_bundled.json")));
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

// --- issue 13: no input escapes the error hierarchy -------------------------------------------

namespace {
nlohmann::json mini() { return nlohmann::json::parse(read_file(data_path("mini_bundled.json"))); }

// The ParseError of from_json(text), checked for its position and message.
void expect_parse_error(const std::string& text, std::size_t line, std::size_t column, std::size_t byte,
                        const std::string& detail) {
    try {
        (void)KnowledgeBase::from_json(text);
        FAIL() << "accepted: " << text.substr(0, 80);
    } catch (const ParseError& e) {
        EXPECT_EQ(e.line(), line);
        EXPECT_EQ(e.column(), column);
        EXPECT_EQ(e.byte_offset(), byte);
        EXPECT_EQ(std::string(e.what()), "<memory>:" + std::to_string(line) + ":" + std::to_string(column) +
                                             ": invalid JSON at byte " + std::to_string(byte) + ": " + detail);
    }
}

std::string temp_dir() {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("rxcaution-loader-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                      "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir.string();
}
}  // namespace

TEST(LoaderHostileInput, NumberOverflowIsAParseErrorWithPosition) {
    // nlohmann's out_of_range.406 used to escape parse_json and terminate the program.
    // The position is the number's last character.
    expect_parse_error("1e999", 1, 5, 4, "number overflow parsing '1e999'");
    std::string text = mini().dump();
    const auto at = text.find("\"Test label\"");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 12, "-1e400");
    expect_parse_error(text, 1, at + 6, at + 5, "number overflow parsing '-1e400'");
}

TEST(LoaderHostileInput, EmptyTextAndEmptyFile) {
    expect_parse_error("", 1, 1, 0, "the text is empty (a pack is a JSON object)");
    const std::string path = temp_dir() + "/empty.json";
    std::ofstream(path).close();
    try {
        (void)KnowledgeBase::load(path);
        FAIL();
    } catch (const ParseError& e) {
        EXPECT_EQ(std::string(e.what()), path + ":1:1: invalid JSON at byte 0: the text is empty (a pack is a JSON object)");
    }
}

TEST(LoaderHostileInput, NulBytes) {
    // A raw NUL outside a string: nlohmann stops there as at the end of a C string.
    expect_parse_error(std::string("{\"manifest\": \0}", 15), 1, 14, 13, "a NUL byte (\\0) in the text; JSON text has none");
    // Inside a string it must be escaped...
    expect_parse_error(std::string("{\"manifest\": \"a\0\"}", 18), 1, 16, 15,
                       "syntax error while parsing value - invalid string: control character U+0000 (NUL) must be "
                       "escaped to \\u0000; last read: '\"a<U+0000>'");
    // ... and escaped it is valid JSON, but no pack text holds one.
    auto doc = mini();
    doc["substances"][0]["name"] = std::string("alpha\0zine", 10);
    try {
        (void)KnowledgeBase::from_json(doc.dump());
        FAIL();
    } catch (const SchemaError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "<memory>:/substances/0/name: expected text without NUL characters, got a string containing \\u0000");
    }
}

TEST(LoaderHostileInput, PositionsOfStreamedFilesMatchThoseOfText) {
    // A file is read in 64 KiB chunks; the parser may already have read into the next chunk (or
    // the end) when it reports a byte of the previous one.
    const std::string dir = temp_dir();
    std::string big = "{\"manifest\": {\"name\": \"" + std::string(70000, 'x') + "\"}\n\n  , ]";
    std::ofstream(dir + "/big.json") << big;
    std::ofstream(dir + "/small.json") << "{\"classes\": [}";
    std::ofstream(dir + "/number.json") << "1e999";
    for (const std::string name : {"big.json", "small.json", "number.json"}) {
        SCOPED_TRACE(name);
        std::size_t line = 0, column = 0, byte = 0;
        try {
            (void)KnowledgeBase::from_json(read_file(dir + "/" + name));
        } catch (const ParseError& e) {
            line = e.line(), column = e.column(), byte = e.byte_offset();
        }
        try {
            (void)KnowledgeBase::load(dir + "/" + name);
            FAIL();
        } catch (const ParseError& e) {
            EXPECT_EQ(e.line(), line);
            EXPECT_EQ(e.column(), column);
            EXPECT_EQ(e.byte_offset(), byte);
        }
    }
}

TEST(LoaderHostileInput, InvalidUtf8AndLoneSurrogatesInPackStrings) {
    std::string text = mini().dump();
    const auto at = text.find("alphazine");
    ASSERT_NE(at, std::string::npos);
    std::string bad = text;
    bad[at + 2] = '\xff';
    try {
        (void)KnowledgeBase::from_json(bad);
        FAIL();
    } catch (const ParseError& e) {
        EXPECT_EQ(e.byte_offset(), at + 2);
        // The message quotes what was read with the bad byte escaped: it stays valid UTF-8.
        EXPECT_NE(std::string(e.what()).find("ill-formed UTF-8 byte; last read: '\"al\\xFF'"), std::string::npos)
            << e.what();
    }
    std::string surrogate = text;
    surrogate.replace(at, 9, "\\ud800");
    try {
        (void)KnowledgeBase::from_json(surrogate);
        FAIL();
    } catch (const ParseError& e) {
        EXPECT_NE(std::string(e.what()).find("surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF"),
                  std::string::npos)
            << e.what();
    }
}

TEST(LoaderHostileInput, NonRegularFilesSayWhatTheyAre) {
    try {
        (void)KnowledgeBase::load("/dev/null");
        FAIL();
    } catch (const DataError& e) {
        EXPECT_EQ(typeid(e), typeid(DataError));
        EXPECT_EQ(std::string(e.what()), "/dev/null: is a character device, not a pack file");
    }
    const std::string dir = temp_dir();
    // A directory without a manifest, and a manifest naming a directory as a data file.
    try {
        (void)KnowledgeBase::load(dir);
        FAIL();
    } catch (const DataError& e) {
        EXPECT_EQ(std::string(e.what()), dir + ": a directory without manifest.json (a pack directory holds "
                                               "manifest.json and the data files it names)");
    }
    std::filesystem::create_directories(dir + "/sub");
    std::ofstream(dir + "/manifest.json")
        << R"({"name": "x", "version": "1", "format_version": 1, "licence": "t", "files": ["sub"]})";
    try {
        (void)KnowledgeBase::load(dir);
        FAIL();
    } catch (const DataError& e) {
        EXPECT_EQ(std::string(e.what()), dir + "/sub: is a directory, not a pack file");
    }
}

TEST(LoaderHostileInput, AFifoIsRefusedWithoutWaitingForAWriter) {
    const std::string path = temp_dir() + "/pack.json";
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    // With no writer, opening the FIFO for reading would block forever; the loader must not.
    try {
        (void)KnowledgeBase::load(path);
        FAIL();
    } catch (const DataError& e) {
        EXPECT_EQ(std::string(e.what()), path + ": is a FIFO (named pipe), not a pack file");
    }
}

TEST(LoaderHostileInput, RepeatedKeysAreRejected) {
    // A parsed tree kept the last value silently; a streaming reader would merge arrays.
    std::string text = mini().dump();
    const auto at = text.find("\"name\":\"alphazine\"");
    ASSERT_NE(at, std::string::npos);
    text.insert(at, "\"name\":\"other\",");
    try {
        (void)KnowledgeBase::from_json(text);
        FAIL();
    } catch (const SchemaError& e) {
        EXPECT_EQ(e.pointer(), "/substances/0/name");
        EXPECT_EQ(e.found(), "\"name\" a second time");
    }
}

TEST(LoaderHostileInput, MalformedJsonWinsOverAnEarlierShapeError) {
    // As when the whole text was parsed before being read: a shape error is reported only for
    // well-formed JSON.
    auto doc = mini();
    doc["interactions"][0]["severity"] = 3;
    std::string text = doc.dump();
    text.back() = ',';
    try {
        (void)KnowledgeBase::from_json(text);
        FAIL();
    } catch (const ParseError& e) {
        EXPECT_EQ(e.byte_offset(), text.size());
    }
}

TEST(LoaderHostileInput, UnsupportedFormatVersionWinsOverShapeErrors) {
    // Another format version is not expected to have this version's shape.
    const std::string text = R"({"manifest": {"name": "x", "nme": 1, "version": "1", "licence": "t", "format_version": 7}})";
    try {
        (void)KnowledgeBase::from_json(text);
        FAIL();
    } catch (const UnsupportedFormatVersion& e) {
        EXPECT_EQ(e.found(), 7);
    }
}

// --- to_json is written from the structs -------------------------------------------------------

TEST(Loader, ToJsonRoundTripsExactly) {
    for (const auto* kb : {&rxtest::kb()}) {
        const std::string once = kb->to_json();
        const auto copy = KnowledgeBase::from_json(once);
        EXPECT_EQ(copy.to_json(), once);
        const auto doc = nlohmann::json::parse(once);
        EXPECT_FALSE(doc["manifest"].contains("files"));
        EXPECT_EQ(doc["manifest"]["name"], kb->info().name);
        // Every citation carries its grade explicitly, defaults included.
        for (const auto& rule : doc["interactions"])
            for (const auto& c : rule["sources"]) EXPECT_TRUE(c.contains("grade")) << rule["id"];
    }
    const auto mini_kb = KnowledgeBase::load(data_path("mini"));
    const auto again = KnowledgeBase::from_json(mini_kb.to_json());
    EXPECT_EQ(again.to_json(), mini_kb.to_json());
    EXPECT_EQ(again.interaction("alpha-sedatives").sources.at(0).grade, EvidenceGrade::Label);
    EXPECT_EQ(again.interaction("alpha-beta").sources.at(0).grade, EvidenceGrade::Secondary);
}

TEST(Loader, FieldsWithoutAMemberAreCheckedButNotKept) {
    // The format allows them (schema, docs) but no struct member holds them yet.
    auto doc = mini();
    doc["classes"][0]["notes"] = "class note";
    doc["contraindications"][0]["label_severity_basis"] = "basis";
    const auto kb = KnowledgeBase::from_json(doc.dump());
    const auto again = nlohmann::json::parse(kb.to_json());
    EXPECT_FALSE(again["classes"][0].contains("notes"));
    doc["classes"][0]["notes"] = 5;
    try {
        (void)KnowledgeBase::from_json(doc.dump());
        FAIL();
    } catch (const SchemaError& e) {
        EXPECT_EQ(std::string(e.what()), "<memory>:/classes/0/notes: expected a string, got number 5");
    }
}

TEST(Loader, AManifestWithoutFormatVersionSaysSoFirst) {
    const std::string dir = temp_dir();
    std::ofstream(dir + "/manifest.json") << "{}";
    try {
        (void)KnowledgeBase::load(dir);
        FAIL();
    } catch (const SchemaError& e) {
        EXPECT_EQ(std::string(e.what()),
                  dir + "/manifest.json:/format_version: expected an integer, got nothing (the field is required)");
    }
}
