// Layered knowledge bases (issue 10 part 4): merging packs, precedence of the first pack, the
// annotation of its warnings, and the DDInter importer's handling of good and bad CSV input.
//
// The small packs and CSVs here are format fixtures. Where a fixture rates a real pair, it copies
// the DDInter Level recorded in ../shared/datasets/ddinter/SOURCE.md (Methadone-Naltrexone Major,
// Methadone-Naloxone Moderate); "Testdrug" names are invented and carry no pharmacology.

#include "test_support.hpp"

#include "cli.hpp"
#include "import_ddinter.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <unistd.h>

using namespace rxcaution;
namespace fs = std::filesystem;

namespace {

class TempDir {
public:
    TempDir() {
        static int counter = 0;
        path_ = fs::temp_directory_path() /
                ("rxcaution-layers-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                 std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    fs::path write(const std::string& name, const std::string& text) const {
        const fs::path p = path_ / name;
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
    [[nodiscard]] const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

// A DDInter-shaped pack: a few real pairs at the Level DDInter gives them, and one invented pair
// between two invented substances.
std::string fixture_pack() {
    nlohmann::ordered_json p;
    p["manifest"] = {{"name", "DDInter"}, {"version", "test-1"}, {"format_version", 1}, {"licence", "CC BY-NC-SA 4.0"}};
    p["sources"] = {{{"id", "ddinter"}, {"title", "DDInter (test fixture)"}, {"kind", "dataset"}, {"grade", "secondary"}}};
    p["substances"] = {
        {{"id", "methadone"}, {"name", "Methadone"}},                          // unifies by id
        {{"id", "ddinter-1263"}, {"name", "Naltrexone"}},                      // unifies by name
        {{"id", "ddinter-1262"}, {"name", "naloxone"}},                        // unifies by name
        {{"id", "ddinter-9001"}, {"name", "Testdrug A"}},                      // new
        {{"id", "ddinter-9002"}, {"name", "Testdrug B"}, {"synonyms", {"Methadose"}}}};  // new; synonym taken
    auto rule = [](const std::string& id, const std::string& a, const std::string& b, const std::string& sev,
                   const std::string& level) {
        return nlohmann::ordered_json{{"id", id},
                                      {"participants", {{{"substance", a}}, {{"substance", b}}}},
                                      {"severity", sev},
                                      {"summary", "DDInter rates this pair " + level},
                                      {"effect", "Not given."},
                                      {"mechanism", {{"type", "unknown"}}},
                                      {"management", "Not given."},
                                      {"evidence", "secondary"},
                                      {"sources", {{{"source", "ddinter"}}}}};
    };
    p["interactions"] = {rule("ddinter-1166-1263", "methadone", "ddinter-1263", "major", "Major"),
                         rule("ddinter-1166-1262", "methadone", "ddinter-1262", "moderate", "Moderate"),
                         rule("ddinter-9001-9002", "ddinter-9001", "ddinter-9002", "minor", "Minor")};
    return p.dump();
}

KnowledgeBase layered(const TempDir& dir) {
    const fs::path file = dir.write("ddinter.json", fixture_pack());
    return KnowledgeBase::load(std::vector<fs::path>{"builtin", file});
}

std::vector<std::string> warning_rules(const Report& r) { return rxtest::rule_ids(r); }

}  // namespace

TEST(Layers, EveryPackIsNamedWithVersionLicenceAndHowItsSubstancesUnified) {
    TempDir dir;
    const KnowledgeBase kb = layered(dir);
    const PackInfo& info = kb.info();
    ASSERT_EQ(info.layers.size(), 2u);
    EXPECT_EQ(info.layers[0].name, KnowledgeBase::builtin().info().name);
    EXPECT_EQ(info.layers[0].origin, "<builtin>");
    EXPECT_EQ(info.layers[1].name, "DDInter");
    EXPECT_EQ(info.layers[1].version, "test-1");
    EXPECT_EQ(info.layers[1].licence, "CC BY-NC-SA 4.0");
    EXPECT_EQ(info.layers[1].unified_by_id, 1u);
    EXPECT_EQ(info.layers[1].unified_by_name, 2u);
    EXPECT_EQ(info.layers[1].unified_by_identifier, 0u);
    EXPECT_EQ(info.layers[1].added, 2u);
    EXPECT_EQ(info.layers[1].ambiguous, 0u);
    EXPECT_EQ(info.substances, KnowledgeBase::builtin().info().substances + 2);
    EXPECT_EQ(info.name, KnowledgeBase::builtin().info().name + " + DDInter");
    // The taken synonym stays with the curated entity it named.
    EXPECT_EQ(kb.resolve("Methadose").id, KnowledgeBase::builtin().resolve("Methadose").id);
    EXPECT_EQ(kb.resolve("Testdrug B").id, "ddinter-9002");
}

TEST(Layers, SingleEntryListIsTheSamePack) {
    const KnowledgeBase one = KnowledgeBase::load(std::vector<fs::path>{"builtin"});
    EXPECT_EQ(one.info().layers.size(), 1u);
    EXPECT_EQ(to_json(one.check({"methadone", "naltrexone"})), to_json(rxtest::kb().check({"methadone", "naltrexone"})));
    EXPECT_THROW((void)KnowledgeBase::load(std::vector<fs::path>{}), DataError);
}

TEST(Layers, CuratedRuleLeadsAndTheOtherPackRatingAnnotatesIt) {
    TempDir dir;
    const KnowledgeBase kb = layered(dir);
    const Report alone = rxtest::kb().check({"methadone", "naltrexone"});
    const Report both = kb.check({"methadone", "naltrexone"});
    ASSERT_FALSE(alone.warnings().empty());
    // The same warnings as the curated pack alone: DDInter's rule does not warn a second time.
    EXPECT_EQ(warning_rules(both), warning_rules(alone));
    const WarningDetails lead = both.details(both.warnings().front());
    EXPECT_EQ(lead.pack, KnowledgeBase::builtin().info().name);
    ASSERT_EQ(lead.annotations.size(), 1u);
    const Annotation& a = lead.annotations[0];
    EXPECT_EQ(a.pack, "DDInter");
    EXPECT_EQ(a.rule, "ddinter-1166-1263");
    EXPECT_EQ(a.severity, Severity::Major);
    EXPECT_EQ(a.agrees, lead.severity == Severity::Major);
    EXPECT_EQ(a.text, lead.severity == Severity::Major
                          ? std::string("DDInter rates this pair Major (agrees).")
                          : "DDInter rates this pair Major (this warning: " + std::string(to_string(lead.severity)) + ").");
    const std::string text = to_text(both);
    EXPECT_NE(text.find("   Also rated: " + a.text + "\n"), std::string::npos) << text;
    EXPECT_EQ(kb.info().layers[1].annotating_rules >= 1u, true);
}

TEST(Layers, ImportedOnlyPairWarnsWithExactlyWhatTheSourceGives) {
    TempDir dir;
    const KnowledgeBase kb = layered(dir);
    const Report r = kb.check({"Testdrug A", "Testdrug B"});
    ASSERT_EQ(r.warnings().size(), 1u);
    const WarningDetails w = r.details(r.warnings()[0]);
    EXPECT_EQ(w.rule, "ddinter-9001-9002");
    EXPECT_EQ(w.severity, Severity::Minor);
    EXPECT_EQ(w.summary, "Testdrug A + Testdrug B: DDInter rates this pair Minor");
    EXPECT_EQ(w.pack, "DDInter");
    EXPECT_EQ(w.mechanism, "unknown");
    EXPECT_TRUE(w.annotations.empty());
    ASSERT_EQ(w.sources.size(), 1u);
    EXPECT_EQ(w.sources[0].id, "ddinter");
}

TEST(Layers, JsonAndTextNameEveryPackOnlyWhenLayered) {
    TempDir dir;
    const KnowledgeBase kb = layered(dir);
    const auto j = nlohmann::json::parse(to_json(kb.check({"methadone", "naltrexone"})));
    ASSERT_EQ(j["pack"]["layers"].size(), 2u);
    EXPECT_EQ(j["pack"]["layers"][1]["name"], "DDInter");
    EXPECT_EQ(j["pack"]["layers"][1]["licence"], "CC BY-NC-SA 4.0");
    EXPECT_EQ(j["warnings"][0]["annotations"][0]["text"].get<std::string>().rfind("DDInter rates this pair Major", 0), 0u);
    const auto single = nlohmann::json::parse(to_json(rxtest::kb().check({"methadone", "naltrexone"})));
    EXPECT_FALSE(single["pack"].contains("layers"));
    EXPECT_FALSE(single["warnings"][0].contains("annotations"));
    const std::string text = to_text(kb.check({"Testdrug A", "Testdrug B"}));
    EXPECT_NE(text.find("  DDInter test-1 (licence: CC BY-NC-SA 4.0)\n"), std::string::npos) << text;
}

TEST(Layers, SameIdWithAnotherMeaningIsAnIntegrityErrorNamingBothFiles) {
    TempDir dir;
    auto pack = nlohmann::json::parse(fixture_pack());
    pack["substances"][0] = {{"id", "methadone"}, {"name", "Testdrug C"}};
    const fs::path file = dir.write("clash.json", pack.dump());
    try {
        (void)KnowledgeBase::load(std::vector<fs::path>{"builtin", file});
        FAIL() << "expected an IntegrityError";
    } catch (const IntegrityError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find(file.generic_string() + ": substance 'methadone' is also defined by <builtin> with a different "
                                                    "meaning (no name in common"),
                  std::string::npos)
            << what;
    }
}

TEST(Layers, CheckOnTheFirstPackAloneIsUnchangedByLayering) {
    TempDir dir;
    const KnowledgeBase kb = layered(dir);
    for (const std::vector<std::string>& regimen : {std::vector<std::string>{"ketamine", "Suboxone"},
                                                   std::vector<std::string>{"methadone", "clarithromycin"}}) {
        EXPECT_EQ(warning_rules(kb.check(regimen)), warning_rules(rxtest::kb().check(regimen)));
    }
}

TEST(Layers, CliTakesPackTwiceAndBuiltin) {
    TempDir dir;
    const fs::path file = dir.write("ddinter.json", fixture_pack());
    std::ostringstream out, err;
    const int code = cli::run({"check", "--pack", "builtin", "--pack", file.string(), "Testdrug A", "Testdrug B"}, out, err);
    EXPECT_EQ(code, 0) << err.str();
    EXPECT_NE(out.str().find("MINOR [drug-drug] Testdrug A + Testdrug B: DDInter rates this pair Minor"), std::string::npos)
        << out.str();
}

// --- the importer ------------------------------------------------------------------------------

namespace {
const std::string kHeader = "DDInterID_A,Drug_A,DDInterID_B,Drug_B,Level\n";

std::string import_error(const TempDir& dir, const std::string& csv, std::size_t max_bytes = 1 << 20) {
    const fs::path f = dir.write("ddinter_downloads_code_X.csv", csv);
    importer::DDInterOptions o;
    o.inputs = {f};
    o.max_file_bytes = max_bytes;
    importer::DDInterSummary s;
    try {
        (void)importer::import_ddinter(o, rxtest::kb(), s);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}
}  // namespace

TEST(DDInterImport, PairsLevelsJoinsAndDecisionsAreCounted) {
    TempDir dir;
    dir.write("ddinter_downloads_code_A.csv",
              kHeader + "DDInter1166,Methadone,DDInter1263,Naltrexone,Major\r\n"
                        "DDInter9001,Testdrug A,DDInter9002,\"Testdrug B, oral\",Minor\r\n"
                        "DDInter9001,Testdrug A,DDInter9003,Testdrug C,Unknown\r\n");
    dir.write("ddinter_downloads_code_B.csv",
              kHeader + "DDInter1263,Naltrexone,DDInter1166,Methadone,Major\n"   // repeated, same Level
                        "DDInter9002,\"Testdrug B, oral\",DDInter9001,Testdrug A,Moderate\n");  // conflicting Level
    importer::DDInterOptions o;
    o.inputs = {dir.path()};
    importer::DDInterSummary s;
    const auto pack = nlohmann::json::parse(importer::import_ddinter(o, rxtest::kb(), s));
    EXPECT_EQ(s.files, (std::vector<std::string>{"ddinter_downloads_code_A.csv", "ddinter_downloads_code_B.csv"}));
    EXPECT_EQ(s.rows, 5u);
    EXPECT_EQ(s.pairs, 3u);
    EXPECT_EQ(s.repeated_rows, 1u);
    EXPECT_EQ(s.conflicting_pairs, 1u);
    ASSERT_EQ(s.conflicts.size(), 1u);
    EXPECT_NE(s.conflicts[0].find("kept Moderate"), std::string::npos) << s.conflicts[0];
    EXPECT_EQ(s.levels.at("Unknown"), 1u);
    EXPECT_EQ(s.drugs, 5u);
    EXPECT_EQ(s.drugs_unknown_only, 1u);  // Testdrug C
    EXPECT_EQ(s.joined.at("name"), 2u);    // methadone, naltrexone
    EXPECT_EQ(s.added, 2u);
    EXPECT_EQ(pack["manifest"]["licence"].get<std::string>().rfind("CC BY-NC-SA 4.0", 0), 0u);
    ASSERT_EQ(pack["interactions"].size(), 2u);
    // Rules in pair order; a Level is a severity, Unknown never appears as one.
    EXPECT_EQ(pack["interactions"][0]["id"], "ddinter-1166-1263");
    EXPECT_EQ(pack["interactions"][0]["severity"], "major");
    EXPECT_EQ(pack["interactions"][0]["participants"][0]["substance"], "methadone");
    EXPECT_EQ(pack["interactions"][1]["severity"], "moderate");
    EXPECT_EQ(pack["interactions"][1]["summary"], "DDInter rates this pair Moderate");
    EXPECT_EQ(pack["interactions"][1]["participants"][1]["substance"], "ddinter-9002");
    EXPECT_EQ(pack["substances"][3]["name"], "Testdrug B, oral");
    EXPECT_EQ(pack["sources"][0]["url"], "https://ddinter.scbdd.com/download/");
    // What is written loads, and layers.
    const fs::path out = dir.write("out.json", pack.dump());
    const KnowledgeBase kb = KnowledgeBase::load(std::vector<fs::path>{"builtin", out});
    EXPECT_EQ(kb.info().layers[1].unified_by_id, 2u);
}

TEST(DDInterImport, BadInputIsAClearErrorNamingFileAndLine) {
    TempDir dir;
    const std::string file = (dir.path() / "ddinter_downloads_code_X.csv").generic_string();
    EXPECT_EQ(import_error(dir, "DDInterID_A,Drug_A,DDInterID_B,Drug_B\nDDInter1,A,DDInter2,B\n"),
              file + ":1: missing column(s) Level (a DDInter file starts with DDInterID_A,Drug_A,DDInterID_B,Drug_B,Level)");
    EXPECT_EQ(import_error(dir, kHeader + "DDInter1,Testdrug A,DDInter2,Testdrug B,Severe\n"),
              file + ":2: unknown Level \"Severe\" (expected Major, Moderate, Minor or Unknown)");
    EXPECT_EQ(import_error(dir, kHeader + "DDInter1,Testdrug A,DDInter2,Testdrug B\n"),
              file + ":2: 4 fields, expected 5 as in the header");
    EXPECT_EQ(import_error(dir, kHeader + "DDInter1,Testdrug A,DDInter2,Testdrug B,Minor\nDDInter1,Test\xff,DDInter3,C,Minor\n"),
              file + ":3: not UTF-8 text (byte 0xFF)");
    EXPECT_EQ(import_error(dir, kHeader + "DDInter1,Testdrug A,DDInter2,Testdrug B,Minor\nDDInter1,Testdrug Z,DDInter3,C,Minor\n"),
              file + ":3: DDInter1 is named \"Testdrug Z\" here but \"Testdrug A\" at " + file + ":2");
    EXPECT_EQ(import_error(dir, kHeader + "X1,Testdrug A,DDInter2,Testdrug B,Minor\n"),
              file + ":2: DDInter id \"X1\" is not DDInter followed by a number");
    EXPECT_EQ(import_error(dir, kHeader + "DDInter1,Testdrug A,DDInter1,Testdrug A,Minor\n"),
              file + ":2: DDInter1 is paired with itself");
    EXPECT_EQ(import_error(dir, kHeader + "DDInter1,\"Testdrug A,DDInter2,Testdrug B,Minor\n"),
              file + ":2: a quoted field is not closed before the end of the file");
    EXPECT_EQ(import_error(dir, kHeader + "DDInter1,Testdrug A,DDInter2,Testdrug B,Minor\n", 10),
              file + ": file is 90 bytes, over the limit of 10 bytes (--max-file-bytes)");
}

TEST(DDInterImport, CliWritesJsonOrASnapshot) {
    TempDir dir;
    const fs::path csv = dir.write("ddinter_downloads_code_A.csv", kHeader + "DDInter9001,Testdrug A,DDInter9002,Testdrug B,Minor\n");
    std::ostringstream out, err;
    const fs::path snap = dir.path() / "p.rxpack";
    EXPECT_EQ(cli::run({"import", "ddinter", csv.string(), "-o", snap.string()}, out, err), 0) << err.str();
    const KnowledgeBase from_snapshot = KnowledgeBase::load(snap);
    EXPECT_EQ(from_snapshot.info().interactions, 1u);
    EXPECT_NE(from_snapshot.info().licence.find("CC BY-NC-SA 4.0"), std::string::npos) << from_snapshot.info().licence;
    std::ostringstream out3, err3;
    EXPECT_EQ(cli::run({"import", "ddinter", csv.string(), "-o", (dir.path() / "p.txt").string()}, out3, err3), 1);
    EXPECT_EQ(err3.str(), "rxcaution: import ddinter: the output must be a .json pack or a .rxpack snapshot, got \"" +
                              (dir.path() / "p.txt").string() + "\"\n(rxcaution --help shows the usage)\n");
    std::ostringstream out2, err2;
    const fs::path json = dir.path() / "p.json";
    EXPECT_EQ(cli::run({"import", "ddinter", csv.string(), "-o", json.string()}, out2, err2), 0) << err2.str();
    EXPECT_NE(out2.str().find("pack: 2 substances, 1 interaction rules, 1 source (DDInter, CC BY-NC-SA 4.0)"),
              std::string::npos)
        << out2.str();
    EXPECT_EQ(KnowledgeBase::load(json).info().interactions, 1u);
}

// The real DDInter files, read where the environment keeps them; never part of the repository.
TEST(DDInterImport, RealFilesEveryRatedOudPairWarnsWithTheCuratedRuleLeading) {
    const char* env = std::getenv("RXCAUTION_DDINTER_DIR");
    const fs::path dir = env ? fs::path(env) : fs::path(RXCAUTION_SOURCE_DIR) / ".." / "shared" / "datasets" / "ddinter";
    if (!fs::exists(dir / "ddinter_downloads_code_A.csv"))
        GTEST_SKIP() << "DDInter dataset not found at " << dir.generic_string() << " (it is not part of the repository)";
    importer::DDInterOptions o;
    o.inputs = {dir};
    importer::DDInterSummary s;
    const std::string text = importer::import_ddinter(o, rxtest::kb(), s);
    EXPECT_EQ(s.pairs, 160235u);
    EXPECT_EQ(s.levels.at("Unknown"), 29813u);
    EXPECT_EQ(s.rules, 26914u + 96675u + 6833u);
    TempDir tmp;
    const fs::path file = tmp.write("ddinter.json", text);
    LoadOptions big;
    big.max_file_bytes = 1u << 30;
    const KnowledgeBase kb = KnowledgeBase::load(std::vector<fs::path>{"builtin", file}, big);
    const auto pack = nlohmann::json::parse(text);
    std::map<std::string, std::string> names;
    for (const auto& sub : pack["substances"]) names[sub["id"]] = sub["name"];
    const std::set<std::string> oud = {"methadone", "buprenorphine", "naloxone", "naltrexone", "ketamine", "esketamine", "lofexidine"};
    std::size_t pairs = 0, led_by_curated = 0;
    for (const auto& r : pack["interactions"]) {
        const std::string a = r["participants"][0]["substance"], b = r["participants"][1]["substance"];
        if (!oud.count(a) && !oud.count(b)) continue;
        ++pairs;
        // By id: a name may be shared with a curated entity, an id is the pack's own. A DDInter drug that
        // the importer kept apart because its curated substance was already joined to another DDInter
        // drug ("Doxepin (topical)" next to "Doxepin") unifies with that substance by name when layered,
        // so its id is gone: it is checked by its name.
        const auto ref = [&](const std::string& id) { return kb.resolve(id).resolved ? id : names[id]; };
        const Report report = kb.check({ref(a), ref(b)});
        ASSERT_TRUE(report.complete()) << a << " or " << b << " does not resolve";
        ASSERT_FALSE(report.warnings().empty()) << names[a] << " + " << names[b] << " (" << r["id"] << ") does not warn";
        const WarningDetails lead = report.details(report.warnings().front());
        if (lead.pack != "DDInter") {
            ++led_by_curated;
            bool annotated = false;
            for (const auto& w : report.details())
                for (const auto& an : w.annotations) annotated = annotated || an.rule == r["id"].get<std::string>();
            EXPECT_TRUE(annotated) << names[a] << " + " << names[b] << ": DDInter's rating is not shown";
        } else if (a == ref(a) && b == ref(b)) {
            EXPECT_EQ(lead.rule, r["id"].get<std::string>());
        } else {
            // Unified by name with a substance that another DDInter drug also joined: the pair has two DDInter
            // rules; either may lead, and this one is shown as a warning or as an annotation.
            bool shown = false;
            for (const auto& w : report.details()) {
                shown = shown || w.rule == r["id"].get<std::string>();
                for (const auto& an : w.annotations) shown = shown || an.rule == r["id"].get<std::string>();
            }
            EXPECT_TRUE(shown) << names[a] << " + " << names[b] << ": " << r["id"] << " is not shown";
        }
    }
    EXPECT_GT(pairs, 1000u);
    EXPECT_GT(led_by_curated, 0u);
    std::cout << "[ ddinter ] OUD pairs rated by DDInter: " << pairs << ", led by a curated rule: " << led_by_curated << "\n";
}

namespace {
// A one-substance (or more) pack around the fixture's manifest and source.
std::string small_pack(const nlohmann::ordered_json& substances, const nlohmann::ordered_json& interactions) {
    auto p = nlohmann::ordered_json::parse(fixture_pack());
    p["substances"] = substances;
    p["interactions"] = interactions;
    return p.dump();
}
}  // namespace

TEST(Layers, SubstancesUnifyByIdentifierAndAmbiguousOnesStayApart) {
    TempDir dir;
    // A DrugBank id the curated methadone carries; a name and a synonym that are two curated substances.
    const fs::path file = dir.write(
        "ids.json", small_pack({{{"id", "x-1"}, {"name", "Testdrug Q"}, {"identifiers", {{"drugbank", "DB00333"}}},
                                 {"identifier_sources", {{{"source", "ddinter"}}}}},
                                {{"id", "x-2"}, {"name", "methadone"}, {"synonyms", {"buprenorphine"}}}},
                               nlohmann::ordered_json::array()));
    const KnowledgeBase kb = KnowledgeBase::load(std::vector<fs::path>{"builtin", file});
    const PackLayer& layer = kb.info().layers[1];
    EXPECT_EQ(layer.unified_by_identifier, 1u);
    EXPECT_EQ(layer.ambiguous, 1u);
    EXPECT_EQ(layer.added, 0u);
    EXPECT_EQ(kb.resolve("Testdrug Q").id, "methadone");  // the other pack's name now finds it
    EXPECT_EQ(kb.resolve("methadone").id, "methadone");   // the curated name stays the curated substance's
    ASSERT_NE(kb.find_substance("x-2"), nullptr);
    EXPECT_EQ(kb.find_substance("x-2")->name, "methadone (DDInter)");
}

TEST(Layers, RuleIdUsedByTwoPacksIsAnIntegrityError) {
    TempDir dir;
    auto pack = nlohmann::ordered_json::parse(fixture_pack());
    pack["interactions"][2]["id"] = "methadone-naltrexone";  // a curated rule id
    const fs::path file = dir.write("rule.json", pack.dump());
    try {
        (void)KnowledgeBase::load(std::vector<fs::path>{"builtin", file});
        FAIL() << "expected an IntegrityError";
    } catch (const IntegrityError& e) {
        EXPECT_NE(std::string(e.what()).find(file.generic_string() +
                                             ": interaction rule 'methadone-naltrexone' is also defined by <builtin> with a "
                                             "different meaning (a rule id already used)"),
                  std::string::npos)
            << e.what();
    }
}

// DDInter rates Apalutamide-Methadone Major (DDInter107 x DDInter1166, file A); the curated pack's
// rule for the pair is moderate. A --min-severity major check must not hide the pair.
TEST(Layers, MinSeverityNeverHidesAPairALaterPackRatesHigher) {
    TempDir dir;
    nlohmann::ordered_json rule = nlohmann::ordered_json::parse(fixture_pack())["interactions"][0];
    rule["id"] = "ddinter-107-1166";
    rule["participants"] = {{{"substance", "apalutamide"}}, {{"substance", "methadone"}}};
    const fs::path file =
        dir.write("apalutamide.json", small_pack({{{"id", "apalutamide"}, {"name", "Apalutamide"}}, {{"id", "methadone"}, {"name", "Methadone"}}},
                                                 nlohmann::ordered_json::array({rule})));
    const KnowledgeBase kb = KnowledgeBase::load(std::vector<fs::path>{"builtin", file});
    CheckContext major;
    major.min_severity = Severity::Major;
    ASSERT_TRUE(rxtest::kb().check({"apalutamide", "methadone"}, major).warnings().empty());
    const Report r = kb.check({"apalutamide", "methadone"}, major);
    // The curated rules still lead, at their own severity, each carrying DDInter's rating.
    EXPECT_EQ(warning_rules(r), warning_rules(rxtest::kb().check({"apalutamide", "methadone"})));
    ASSERT_FALSE(r.warnings().empty());
    for (const auto& w : r.details()) {
        EXPECT_EQ(w.severity, Severity::Moderate) << w.rule;
        ASSERT_EQ(w.annotations.size(), 1u);
        EXPECT_EQ(w.annotations[0].text, "DDInter rates this pair Major (this warning: moderate).");
    }
}

namespace {

// The fixture pack with one cumulative rule over a substance that unifies by name with a curated
// one (ddinter-1263, Naltrexone) and an invented one: a format fixture, not a clinical claim.
std::string fixture_with_cumulative(const std::string& id) {
    auto p = nlohmann::ordered_json::parse(fixture_pack());
    p["cumulative_rules"] = {{{"id", id},
                              {"requires", {{{"member", {{"substance", "ddinter-1263"}}}, {"min", 1}},
                                            {{"member", {{"substance", "ddinter-9001"}}}, {"min", 1}}}},
                              {"severity", "minor"},
                              {"summary", "Test cumulative rule"},
                              {"effect", "Not given."},
                              {"mechanism", {{"type", "unknown"}}},
                              {"management", "Not given."},
                              {"evidence", "secondary"},
                              {"sources", {{{"source", "ddinter"}}}}}};
    return p.dump();
}

std::vector<std::string> cumulative_ids(const Report& r) {
    std::vector<std::string> out;
    for (const auto& w : r.warnings())
        if (w.kind == WarningKind::Cumulative) out.emplace_back(r.rule_id(w));
    return out;
}

}  // namespace

TEST(Layers, CumulativeRulesOfEveryPackAreKeptOverTheMergedSubstances) {
    TempDir dir;
    const fs::path file = dir.write("cumulative.json", fixture_with_cumulative("test-cumulative"));
    const KnowledgeBase kb = KnowledgeBase::load(std::vector<fs::path>{"builtin", file});
    ASSERT_EQ(kb.cumulative_rules().size(), rxtest::kb().cumulative_rules().size() + 1);
    const CumulativeRule* mine = kb.find_cumulative_rule("test-cumulative");
    ASSERT_NE(mine, nullptr);
    // The layer's substance id was unified by name with the curated naltrexone.
    EXPECT_EQ(mine->requirements[0].member.id, "naltrexone");
    EXPECT_EQ(cumulative_ids(kb.check({"naltrexone", "Testdrug A"})), (std::vector<std::string>{"test-cumulative"}));
    // The curated pack's cumulative rules still fire in the layered knowledge base.
    EXPECT_EQ(cumulative_ids(kb.check({"oxycodone", "alprazolam", "gabapentin"})),
              (std::vector<std::string>{"cumulative-opioid-cns-depressants"}));
    // And in its snapshot (methadone + naltrexone: a curated warning the other pack's rating
    // annotates, read from the snapshot's encoded rules).
    const KnowledgeBase copy = KnowledgeBase::from_snapshot(kb.to_snapshot(), "layered.rxpack");
    const std::vector<std::string> meds{"naltrexone", "Testdrug A", "oxycodone", "alprazolam", "gabapentin", "methadone"};
    const Report original = kb.check(meds);
    bool annotated = false;
    for (const auto& w : original.warnings()) annotated = annotated || !original.details(w).annotations.empty();
    EXPECT_TRUE(annotated);
    EXPECT_EQ(to_json(copy.check(meds)), to_json(original));
    EXPECT_EQ(to_text(copy.check(meds)), to_text(original));
}

TEST(Layers, CumulativeRuleIdUsedByTwoPacksIsAnIntegrityError) {
    TempDir dir;
    const fs::path file = dir.write("cumulative.json", fixture_with_cumulative("cumulative-opioid-cns-depressants"));
    try {
        (void)KnowledgeBase::load(std::vector<fs::path>{"builtin", file});
        FAIL() << "expected an IntegrityError";
    } catch (const IntegrityError& e) {
        EXPECT_NE(std::string(e.what()).find(file.generic_string() +
                                             ": cumulative rule 'cumulative-opioid-cns-depressants' is also defined by "
                                             "<builtin> with a different meaning (a rule id already used)"),
                  std::string::npos)
            << e.what();
    }
}
