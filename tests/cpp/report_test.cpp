#include "test_support.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

using namespace rxcaution;
using nlohmann::json;
using rxtest::kb;

TEST(Report, JsonFollowsTheContract) {
    const Report r = kb().check({"methadone", "clarithromycin", "ketamin"}, {{"hypertension"}});
    const json j = json::parse(to_json(r));
    EXPECT_EQ(j.at("pack").at("name"), "rxcaution-curated");
    EXPECT_TRUE(j.at("pack").contains("version"));
    ASSERT_EQ(j.at("inputs").size(), 3u);
    const json& in0 = j.at("inputs")[0];
    EXPECT_EQ(in0.at("input"), "methadone");
    EXPECT_EQ(in0.at("status"), "resolved");
    EXPECT_EQ(in0.at("id"), "methadone");
    EXPECT_EQ(in0.at("kind"), "substance");
    EXPECT_EQ(in0.at("ingredients"), json::array({"methadone"}));
    const json& in2 = j.at("inputs")[2];
    EXPECT_EQ(in2.at("status"), "unresolved");
    EXPECT_TRUE(in2.at("id").is_null());
    EXPECT_EQ(in2.at("suggestions")[0], "ketamine");
    EXPECT_EQ(j.at("conditions")[0].at("id"), "hypertension");
    EXPECT_EQ(j.at("conditions")[0].at("status"), "resolved");
    ASSERT_FALSE(j.at("warnings").empty());
    for (const auto& w : j.at("warnings")) {
        for (const char* key : {"id", "kind", "severity", "inputs", "substances", "condition", "summary", "effect",
                                "mechanism", "management", "evidence", "sources", "explanation"})
            EXPECT_TRUE(w.contains(key)) << key;
        for (const auto& s : w.at("sources"))
            for (const char* key : {"id", "title", "section", "url"}) EXPECT_TRUE(s.contains(key)) << key;
    }
    const json& first = j.at("warnings")[0];
    EXPECT_EQ(first.at("kind"), "drug-drug");
    EXPECT_EQ(first.at("severity"), "major");
    EXPECT_EQ(first.at("inputs"), json::array({"methadone", "clarithromycin"}));
    EXPECT_EQ(j.at("max_severity"), "major");
    EXPECT_EQ(j.at("complete"), false);
    EXPECT_EQ(j.at("unresolved"), json::array({"ketamin"}));
}

TEST(Report, JsonOfEmptyReportHasNullMaxSeverity) {
    const json j = json::parse(to_json(kb().check({"methadone"})));
    EXPECT_TRUE(j.at("max_severity").is_null());
    EXPECT_TRUE(j.at("warnings").empty());
}

TEST(Report, TextPutsSeverityFirstAndFlagsUncheckedInputs) {
    const std::string text = to_text(kb().check({"ketamine", "Suboxone", "ketamin"}));
    EXPECT_NE(text.find("not medical advice"), std::string::npos);
    EXPECT_NE(text.find("1. MAJOR [drug-drug] ketamine + Suboxone: "), std::string::npos) << text;
    EXPECT_NE(text.find("   Do: "), std::string::npos);
    EXPECT_NE(text.find("   Why:\n"), std::string::npos);
    EXPECT_NE(text.find("ketamin -> NOT CHECKED: unknown medication; did you mean ketamine"), std::string::npos) << text;
    EXPECT_NE(text.find("WARNING: 1 medication was NOT CHECKED: 'ketamin'."), std::string::npos);
    const std::string none = to_text(kb().check({"methadone"}));
    EXPECT_NE(none.find("This does not mean the combination is safe."), std::string::npos);
}

TEST(Report, FhirBundleOfDetectedIssues) {
    const Report r = kb().check({"naltrexone", "methadone"}, {{"hypertension"}});
    const json b = json::parse(to_fhir(r));
    EXPECT_EQ(b.at("resourceType"), "Bundle");
    EXPECT_EQ(b.at("type"), "collection");
    ASSERT_EQ(b.at("entry").size(), r.details().size());
    const json& issue = b.at("entry")[0].at("resource");
    EXPECT_EQ(issue.at("resourceType"), "DetectedIssue");
    EXPECT_EQ(issue.at("status"), "final");
    EXPECT_EQ(issue.at("severity"), "high");  // contraindicated -> high
    EXPECT_EQ(issue.at("code").at("coding")[0].at("code"), "DRG");
    EXPECT_EQ(issue.at("implicated")[0].at("display"), "naltrexone");
    EXPECT_EQ(issue.at("mitigation")[0].at("action").at("text"), r.details()[0].management);
    EXPECT_EQ(b.at("entry")[0].at("fullUrl"), "urn:uuid:" + issue.at("id").get<std::string>());
}

TEST(Report, CdsHooksCardsAreDeterministicAndShort) {
    const Report r = kb().check({"methadone", "clarithromycin", "ketamin"});
    const json a = json::parse(to_cds_hooks(r));
    const json b = json::parse(to_cds_hooks(kb().check({"methadone", "clarithromycin", "ketamin"})));
    // One card per alert group (issue 12: the two methadone + clarithromycin rules are one alert),
    // + the "not checked" info card.
    ASSERT_EQ(r.groups().size(), 1u);
    ASSERT_EQ(a.at("cards").size(), r.groups().size() + 1);
    for (std::size_t i = 0; i < a.at("cards").size(); ++i) {
        const json& card = a.at("cards")[i];
        EXPECT_EQ(card.at("uuid"), b.at("cards")[i].at("uuid"));
        EXPECT_LT(card.at("summary").get<std::string>().size(), 140u);
        EXPECT_TRUE(card.at("source").contains("label"));
        if (card.contains("links")) {
            for (const auto& link : card.at("links")) EXPECT_EQ(link.at("url").get<std::string>().rfind("https://", 0), 0u);
        }
    }
    EXPECT_EQ(a.at("cards")[0].at("indicator"), "warning");  // major
    EXPECT_EQ(a.at("cards").back().at("indicator"), "info");
    EXPECT_NE(a.at("cards").back().at("summary").get<std::string>().find("Not checked: 'ketamin'"), std::string::npos);
    const json ci = json::parse(to_cds_hooks(kb().check({"naltrexone", "methadone"})));
    EXPECT_EQ(ci.at("cards")[0].at("indicator"), "critical");
}

TEST(Report, DotPictureShowsThePathToTheRule) {
    const std::string dot = kb().regimen_dot({"ketamine", "Suboxone", "alprazolam"});
    EXPECT_EQ(dot.rfind("digraph G {", 0), 0u) << dot.substr(0, 40);
    EXPECT_NE(dot.find("benzodiazepines"), std::string::npos);
    EXPECT_NE(dot.find("\"cns-depressants\""), std::string::npos);
    EXPECT_NE(dot.find("ketamine-buprenorphine"), std::string::npos);
    EXPECT_NE(dot.find("#d62728"), std::string::npos);  // major edges
    const std::string classes = kb().class_hierarchy_dot();
    EXPECT_NE(classes.find("subclass of"), std::string::npos);
}

TEST(Report, FhirNamesInputsThatWereNotCheckedAndOmitsEmptyArrays) {
    const json b = json::parse(to_fhir(kb().check({"Zorblaxin", "methadone", "clarithromycin"})));
    std::vector<std::string> types;
    for (const auto& e : b.at("entry")) types.push_back(e.at("resource").at("resourceType"));
    ASSERT_EQ(types.back(), "OperationOutcome");
    const json& issue = b.at("entry").back().at("resource").at("issue")[0];
    EXPECT_EQ(issue.at("code"), "not-found");
    EXPECT_EQ(issue.at("details").at("text").get<std::string>().rfind("Not checked: 'Zorblaxin'", 0), 0u);
    EXPECT_FALSE(json::parse(to_fhir(kb().check({"methadone"}))).contains("entry"));
}

TEST(Report, JsonIsValidForAnyInputBytesAndIndentation) {
    const std::string bad_utf8 = std::string("caf\xC3\xA9 \xFF\xFE \"quoted\"\n\t") + '\x01';
    const Report r = kb().check({"methadone", bad_utf8, "Suboxone", "clarithromycin"}, {{"hypertension"}});
    const std::string pretty = to_json(r);
    const std::string compact = to_json(r, -1);
    EXPECT_EQ(compact.find('\n'), std::string::npos);
    const json a = json::parse(pretty);  // throws on invalid JSON or invalid UTF-8
    EXPECT_EQ(a, json::parse(compact));
    EXPECT_EQ(a.at("inputs")[1].at("input"), "caf\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD \"quoted\"\n\t\x01");
    EXPECT_EQ(a.at("warnings").size(), r.details().size());
    EXPECT_EQ(a.at("warnings")[0].at("explanation").size(), r.details()[0].explanation.size());
    EXPECT_EQ(json::parse(to_json(kb().check({}))).at("inputs"), json::array());
    EXPECT_EQ(to_json(kb().check({}), -1).rfind("{\"pack\":{\"name\":\"rxcaution-curated\"", 0), 0u);
}
