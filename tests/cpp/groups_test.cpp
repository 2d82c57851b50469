// One alert per pair (issue 12 part 4): warnings about the same inputs are grouped, the most severe
// leads, and the text and CDS Hooks outputs show one alert per group; JSON and FHIR keep every
// warning and state the group.

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>
#include <thread>

using namespace rxcaution;
using nlohmann::json;
using rxtest::kb;

namespace {

std::vector<std::string> rules_of(const Report& r, const WarningGroup& g) {
    std::vector<std::string> out;
    for (std::uint32_t k : g.members) out.emplace_back(r.rule_id(r.warnings()[k]));
    return out;
}

}  // namespace

TEST(Groups, KetamineAndSuboxoneAreOneAlertWithTwoReasons) {
    const Report r = kb().check({"ketamine", "Suboxone"}, {{"hypertension"}});
    ASSERT_EQ(r.warnings().size(), 3u);
    ASSERT_EQ(r.groups().size(), 2u);
    const WarningGroup& pair = r.groups()[0];
    EXPECT_EQ(pair.lead, 0u);
    EXPECT_EQ(pair.members, (std::vector<std::uint32_t>{0, 1}));
    EXPECT_EQ(rules_of(r, pair), (std::vector<std::string>{"buprenorphine-cns-depressants", "ketamine-buprenorphine"}));
    EXPECT_EQ(r.groups()[1].lead, 2u);
    EXPECT_EQ(rules_of(r, r.groups()[1]), (std::vector<std::string>{"ketamine-cardiovascular-disease"}));
    EXPECT_EQ(r.group_of(0), 0u);
    EXPECT_EQ(r.group_of(1), 0u);
    EXPECT_EQ(r.group_of(2), 1u);
    EXPECT_THROW((void)r.group_of(3), std::out_of_range);
}

TEST(Groups, EveryWarningIsInExactlyOneGroupAndLeadsAreTheMostSevere) {
    const Report r = kb().check({"Suboxone", "ketamine", "alprazolam", "gabapentin", "methadone", "clarithromycin",
                                 "fluconazole", "ondansetron", "citalopram", "oxycodone", "naltrexone", "lofexidine"},
                                {{"hypertension", "hypokalemia"}});
    std::vector<int> seen(r.warnings().size(), 0);
    std::uint32_t previous_lead = 0;
    for (std::size_t g = 0; g < r.groups().size(); ++g) {
        const WarningGroup& group = r.groups()[g];
        ASSERT_FALSE(group.members.empty());
        EXPECT_EQ(group.members.front(), group.lead);
        if (g) {
            EXPECT_LT(previous_lead, group.lead);
        }
        previous_lead = group.lead;
        const Warning& lead = r.warnings()[group.lead];
        for (std::uint32_t k : group.members) {
            ++seen[k];
            EXPECT_EQ(r.group_of(k), g);
            const Warning& w = r.warnings()[k];
            EXPECT_LE(w.severity, lead.severity);
            EXPECT_EQ(w.input_a, lead.input_a);
            if (w.kind == WarningKind::DrugCondition) {
                EXPECT_EQ(w.condition_input, lead.condition_input);
            } else {
                EXPECT_EQ(w.input_b, lead.input_b);
            }
        }
    }
    for (int n : seen) EXPECT_EQ(n, 1);
    EXPECT_LT(r.groups().size(), r.warnings().size());  // this regimen has pairs with several rules
}

TEST(Groups, TextShowsOneAlertPerGroupWithFurtherReasons) {
    const std::string text = to_text(kb().check({"ketamine", "Suboxone"}, {{"hypertension"}}));
    EXPECT_NE(text.find("3 warnings in 2 alerts (highest: MAJOR)\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\n1. MAJOR [drug-drug] ketamine + Suboxone: Respiratory depression, profound sedation"),
              std::string::npos);
    EXPECT_NE(text.find("   Further reasons for the same inputs (1):\n   1.2. MAJOR [drug-drug] ketamine + Suboxone: "
                        "Additive CNS and respiratory depression (seed caution)"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("\n2. MODERATE [drug-condition] ketamine with hypertension: "), std::string::npos);
    EXPECT_EQ(text.find("\n3. "), std::string::npos);
    // A report without grouping keeps its old header.
    const std::string single = to_text(kb().check({"Suboxone", "alprazolam"}));
    EXPECT_NE(single.find("\n1 warning (highest: MAJOR)\n"), std::string::npos) << single;
}

TEST(Groups, JsonKeepsEveryWarningAndAddsTheGroup) {
    const Report r = kb().check({"ketamine", "Suboxone"}, {{"hypertension"}});
    const json j = json::parse(to_json(r));
    ASSERT_EQ(j.at("warnings").size(), 3u);
    EXPECT_EQ(j.at("warnings")[0].at("group"), 0);
    EXPECT_EQ(j.at("warnings")[0].at("group_lead"), true);
    EXPECT_EQ(j.at("warnings")[1].at("group"), 0);
    EXPECT_EQ(j.at("warnings")[1].at("group_lead"), false);
    EXPECT_EQ(j.at("warnings")[2].at("group"), 1);
    EXPECT_EQ(j.at("warnings")[2].at("group_lead"), true);
    // WarningDetails carries the same, as the JSON contract gives it.
    const auto details = r.details();
    EXPECT_EQ(details[1].group, 0u);
    EXPECT_FALSE(details[1].group_lead);
    EXPECT_EQ(details[2].group, 1u);
    EXPECT_TRUE(details[2].group_lead);
}

TEST(Groups, CdsHooksGivesOneCardPerGroupWithEveryReason) {
    const Report r = kb().check({"ketamine", "Suboxone"}, {{"hypertension"}});
    const json cards = json::parse(to_cds_hooks(r)).at("cards");
    ASSERT_EQ(cards.size(), 2u);
    const std::string summary = cards[0].at("summary");
    EXPECT_EQ(summary.substr(summary.size() - 20), " (+1 further reason)");
    EXPECT_LT(summary.size(), 140u);
    const std::string detail = cards[0].at("detail");
    EXPECT_NE(detail.find("**Further reason 2 of 2: major** drug-drug - ketamine + Suboxone: Additive CNS"),
              std::string::npos)
        << detail;
    EXPECT_EQ(cards[0].at("indicator"), "warning");
    EXPECT_EQ(cards[0].at("uuid"), json::parse(to_fhir(r)).at("entry")[0].at("resource").at("id"));
}

// Two entries with one ingredient (Catapres and Kapvay are both clonidine) each meeting
// amitriptyline give two warnings with the same id. They are two alerts about different inputs:
// before grouping, CDS Hooks returned one card (same uuid) and FHIR two issues with one id.
TEST(Groups, SharedIngredientEntriesGetDistinctCardsAndIssueIds) {
    const Report r = kb().check({"Catapres", "Kapvay", "amitriptyline"});
    std::size_t with_amitriptyline = 0;
    std::set<std::string> ids;
    for (const auto& w : r.warnings())
        if (w.input_b == 2) {
            ++with_amitriptyline;
            ids.insert(r.id(w));
        }
    ASSERT_GE(with_amitriptyline, 2u);
    ASSERT_LT(ids.size(), with_amitriptyline);  // the collision this test is about
    const json cards = json::parse(to_cds_hooks(r)).at("cards");
    EXPECT_EQ(cards.size(), r.groups().size());
    std::set<std::string> uuids;
    for (const auto& c : cards) uuids.insert(c.at("uuid"));
    EXPECT_EQ(uuids.size(), cards.size());
    const json entries = json::parse(to_fhir(r)).at("entry");
    ASSERT_EQ(entries.size(), r.warnings().size());
    std::set<std::string> issue_ids;
    for (const auto& e : entries) issue_ids.insert(e.at("resource").at("id"));
    EXPECT_EQ(issue_ids.size(), entries.size());
}

TEST(Groups, FhirStatesTheGroupByReference) {
    const Report r = kb().check({"ketamine", "Suboxone"});
    const json entries = json::parse(to_fhir(r)).at("entry");
    ASSERT_EQ(entries.size(), 2u);
    const json& lead = entries[0].at("resource");
    const json& further = entries[1].at("resource");
    ASSERT_EQ(lead.at("evidence").size(), 2u);
    EXPECT_EQ(lead.at("evidence")[1].at("code")[0].at("text"), "alert group: leading reason for these inputs");
    EXPECT_EQ(lead.at("evidence")[1].at("detail")[0].at("reference"), entries[1].at("fullUrl"));
    EXPECT_EQ(further.at("evidence")[1].at("code")[0].at("text"), "alert group: further reason for these inputs");
    EXPECT_EQ(further.at("evidence")[1].at("detail")[0].at("reference"), entries[0].at("fullUrl"));
    const std::string display = further.at("evidence")[1].at("detail")[0].at("display");
    EXPECT_EQ(display.rfind("leading reason: ketamine + Suboxone: ", 0), 0u) << display;
}

// Groups are computed on first use: a report shared by threads that all render it at once must
// give every thread the same groups and the same text (TSan runs this in the test command).
TEST(Groups, FirstUseFromManyThreadsAgrees) {
    const Report shared = kb().check({"ketamine", "Suboxone", "alprazolam", "gabapentin", "methadone", "ondansetron"},
                                     {{"hypokalemia"}});
    const std::string expected = to_text(kb().check({"ketamine", "Suboxone", "alprazolam", "gabapentin", "methadone",
                                                     "ondansetron"},
                                                    {{"hypokalemia"}}));
    std::vector<std::thread> threads;
    std::vector<std::string> texts(4);
    std::vector<std::size_t> counts(4);
    for (std::size_t t = 0; t < texts.size(); ++t)
        threads.emplace_back([&, t] {
            counts[t] = shared.groups().size();
            texts[t] = to_text(shared);
        });
    for (auto& th : threads) th.join();
    for (std::size_t t = 0; t < texts.size(); ++t) {
        EXPECT_EQ(texts[t], expected);
        EXPECT_EQ(counts[t], shared.groups().size());
    }
    EXPECT_LT(shared.groups().size(), shared.warnings().size());
}
