#include "test_support.hpp"

#include "cli.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sstream>

using namespace rxcaution;

namespace {
struct CliRun {
    int code;
    std::string out;
    std::string err;
};
CliRun run(std::vector<std::string> args) {
    std::ostringstream out, err;
    const int code = cli::run(args, out, err);
    return {code, out.str(), err.str()};
}
}  // namespace

TEST(Cli, CheckPrintsExplainedWarnings) {
    const CliRun r = run({"check", "ketamine", "Suboxone"});
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("MAJOR [drug-drug] ketamine + Suboxone"), std::string::npos);
    EXPECT_NE(r.out.find("Ketamine For Opioid Withdrawal"), std::string::npos);
    EXPECT_TRUE(r.err.empty());
}

TEST(Cli, CheckJsonIsTheContract) {
    const CliRun r = run({"check", "--format", "json", "methadone", "clarithromycin"});
    EXPECT_EQ(r.code, 0);
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("max_severity"), "major");
    EXPECT_EQ(j.at("inputs").size(), 2u);
}

TEST(Cli, UnresolvedExitsTwoUnlessAllowed) {
    CliRun r = run({"check", "ketamin", "Suboxone"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.out.find("NOT CHECKED"), std::string::npos);
    EXPECT_NE(r.err.find("rxcaution: NOT CHECKED: unknown medication 'ketamin'"), std::string::npos);
    r = run({"check", "--allow-unresolved", "ketamin", "Suboxone"});
    EXPECT_EQ(r.code, 0);
    r = run({"check", "--condition", "hypertensoin", "ketamine"});
    EXPECT_EQ(r.code, 2);
}

TEST(Cli, FailOnExitsThree) {
    EXPECT_EQ(run({"check", "--fail-on", "major", "methadone", "clarithromycin"}).code, 3);
    EXPECT_EQ(run({"check", "--fail-on", "contraindicated", "methadone", "clarithromycin"}).code, 0);
    EXPECT_EQ(run({"check", "--fail-on=contraindicated", "naltrexone", "methadone"}).code, 3);
    const CliRun bad = run({"check", "--fail-on", "severe", "methadone"});
    EXPECT_EQ(bad.code, 1);
    EXPECT_NE(bad.err.find("--fail-on: expected minor, moderate, major or contraindicated, got \"severe\""),
              std::string::npos);
}

TEST(Cli, ResolveShowStatsValidate) {
    CliRun r = run({"resolve", "Suboxone"});
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out, "Suboxone -> product suboxone (Suboxone; matched by brand); ingredients: buprenorphine naloxone\n");
    r = run({"resolve", "ketamin"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.out.rfind("ketamin -> unknown; did you mean ketamine", 0), 0u) << r.out;
    r = run({"show", "methadone"});
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("methadone-cyp3a-inhibitors"), std::string::npos);
    r = run({"show", "--format", "json", "suboxone"});
    EXPECT_EQ(nlohmann::json::parse(r.out).at("kind"), "product");
    r = run({"show", "nosuchthing"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("unknown id or name \"nosuchthing\""), std::string::npos);
    r = run({"stats", "--format", "json"});
    EXPECT_EQ(r.code, 0);
    const auto stats = nlohmann::json::parse(r.out);
    EXPECT_EQ(stats.at("counts").at("interaction_rules").get<std::size_t>(), rxtest::kb().info().interactions);
    r = run({"validate", RXCAUTION_PACK_DIR});
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("valid pack rxcaution-curated"), std::string::npos);
    r = run({"validate", rxtest::data_path("invalid_integrity.json")});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("6 problems in the pack"), std::string::npos);
}

TEST(Cli, UsageErrors) {
    EXPECT_EQ(run({}).code, 1);
    EXPECT_EQ(run({"frobnicate"}).code, 1);
    EXPECT_EQ(run({"check"}).code, 1);
    EXPECT_EQ(run({"check", "--format", "xml", "methadone"}).code, 1);
    const CliRun help = run({"--help"});
    EXPECT_EQ(help.code, 0);
    EXPECT_NE(help.out.find("not medical advice"), std::string::npos);
}

TEST(Cli, PackOptionUsesAnotherPack) {
    const CliRun r = run({"check", "--pack", rxtest::data_path("mini"), "alfa", "gammadone"});
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("pack mini 0.0.1"), std::string::npos);
    EXPECT_NE(r.out.find("MAJOR [drug-drug] alfa + gammadone: More sedation"), std::string::npos) << r.out;
}

TEST(Cli, GraphWritesDot) {
    const CliRun r = run({"graph", "ketamine", "Suboxone", "alprazolam"});
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out.rfind("digraph G {", 0), 0u);
    const CliRun p = run({"graph", "--pack"});
    EXPECT_EQ(p.code, 0);
    EXPECT_NE(p.out.find(rxtest::kb().drug_class("cns-depressants").name), std::string::npos);
}

// Issue 13: control characters from inputs were echoed raw to the terminal.
TEST(Cli, ControlCharactersFromInputsAreNotEchoedRaw) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"check", "--allow-unresolved", "\x1b[31mX"},
          std::vector<std::string>{"resolve", "\x1b[31mX"}, std::vector<std::string>{"graph", "\x1b[31mX"}}) {
        std::ostringstream out, err;
        (void)rxcaution::cli::run(args, out, err);
        EXPECT_EQ(out.str().find('\x1b'), std::string::npos) << args[0];
        EXPECT_EQ(err.str().find('\x1b'), std::string::npos) << args[0];
        EXPECT_NE(out.str().find("\xEF\xBF\xBD[31mX"), std::string::npos) << args[0];
    }
}

// Issue 13: the CLI's own JSON output of invalid UTF-8 input was an "internal error".
TEST(Cli, ResolveJsonReplacesInvalidUtf8) {
    std::ostringstream out, err;
    EXPECT_EQ(rxcaution::cli::run({"resolve", "--format", "json", "\xff\xfe"}, out, err), rxcaution::cli::kUnresolved);
    EXPECT_EQ(err.str(), "");
    EXPECT_NE(out.str().find("\"input\": \"\xEF\xBF\xBD\xEF\xBF\xBD\""), std::string::npos) << out.str();
}
