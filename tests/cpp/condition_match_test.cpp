// Patient conditions as records and people write them: codes first (ICD-10-CM on the pack's
// conditions, FHIR system URIs), then names, then word-order- and qualifier-tolerant matching that
// never adds a qualifier the caller did not write and never resolves a qualifier alone.

#include "test_support.hpp"

#include <gtest/gtest.h>

using namespace rxcaution;
using rxtest::kb;

namespace {
void expect_condition(const std::string& text, const std::string& id, const std::string& by) {
    const ConditionResolution r = kb().resolve_condition(text);
    EXPECT_TRUE(r.resolved) << text;
    EXPECT_EQ(r.id, id) << text;
    EXPECT_EQ(r.matched_by, by) << text;
}
void expect_unresolved(const std::string& text) {
    const ConditionResolution r = kb().resolve_condition(text);
    EXPECT_FALSE(r.resolved) << text << " -> " << r.id;
    EXPECT_TRUE(r.matched_by.empty()) << text;
}
}  // namespace

TEST(ConditionMatch, WordOrderAndQualifiers) {
    expect_condition("severe bronchial asthma", "acute-or-severe-asthma", "words");
    expect_condition("asthma, severe", "acute-or-severe-asthma", "words");
    expect_condition("acute bronchial asthma", "acute-or-severe-asthma", "synonym");
    expect_condition("bronchial asthma, acute", "acute-or-severe-asthma", "words");
    expect_condition("asthma", "asthma", "name");
    expect_condition("mild asthma", "asthma", "words");  // a qualifier dropped: the more general condition
    expect_condition("hypertension, severe", "significant-hypertension", "words");
    expect_condition("impairment, hepatic", "hepatic-impairment", "words");
}

TEST(ConditionMatch, NeverOverMatches) {
    expect_unresolved("severe");
    expect_unresolved("acute");
    expect_unresolved("severe acute");
    // "coronary insufficiency" must not become *severe* coronary insufficiency.
    expect_unresolved("coronary insufficiency");
    expect_unresolved("asthma exacerbation");
}

TEST(ConditionMatch, SuggestionsForUnresolvedConditions) {
    const ConditionResolution r = kb().resolve_condition("asthma exacerbation");
    EXPECT_TRUE(rxtest::contains(r.suggestions, "Asthma")) << r.suggestions.size();
    EXPECT_TRUE(rxtest::contains(r.suggestions, "Acute or severe bronchial asthma"));
    EXPECT_FALSE(kb().resolve_condition("severe").suggestions.empty());
}

TEST(ConditionMatch, ByIcd10CmCode) {
    expect_condition("icd10:F11.20", "opioid-use-disorder", "code");  // under F11.2
    expect_condition("F11.20", "opioid-use-disorder", "code");
    expect_condition("f1120", "opioid-use-disorder", "code");
    expect_condition("F11.10", "opioid-use-disorder", "code");  // under F11.1
    expect_condition("F11.23", "opioid-withdrawal", "code");    // its own code before its category's
    expect_condition("I10", "hypertension", "code");
    expect_condition("http://hl7.org/fhir/sid/icd-10-cm|I45.81", "long-qt-syndrome", "code");
    expect_condition("icd-10-cm:J45.909", "asthma", "code");
    expect_condition("ICD10:E87.6", "hypokalemia", "code");
    // A code the pack does not carry is not matched by its text, nor by a shorter category the pack lacks.
    expect_unresolved("icd10:Z99.99");
    expect_unresolved("F11.9");
    expect_unresolved("snomed:38341003");
    expect_unresolved("http://snomed.info/sct|38341003");
}

TEST(ConditionMatch, CodedConditionsDriveContraindications) {
    CheckContext context;
    context.conditions = {"http://hl7.org/fhir/sid/icd-10-cm|I10"};
    const Report report = kb().check({"ketamine"}, context);
    EXPECT_TRUE(rxtest::contains(rxtest::rule_ids(report), "ketamine-cardiovascular-disease"));
    const auto conditions = report.conditions();
    ASSERT_EQ(conditions.size(), 1u);
    EXPECT_EQ(conditions[0].id, "hypertension");
    EXPECT_EQ(conditions[0].matched_by, "code");
    EXPECT_NE(to_json(report, -1).find(R"("name":"Hypertension","suggestions":[],"matched_by":"code")"), std::string::npos);
}

TEST(ConditionMatch, CodesCiteTheirSource) {
    const Condition& c = kb().condition("opioid-use-disorder");
    ASSERT_EQ(c.codes.size(), 2u);
    EXPECT_EQ(c.codes[1].system, "icd-10-cm");
    EXPECT_EQ(c.codes[1].code, "F11.2");
    EXPECT_EQ(c.codes[1].display, "Opioid dependence");
    ASSERT_EQ(c.codes[1].sources.size(), 1u);
    EXPECT_EQ(c.codes[1].sources[0].source, "icd10cm-fy2026-code-titles");
}

TEST(ConditionMatch, LongConditionTextIsBounded) {
    std::string text;
    while (text.size() < 100000) text += "severe asthma ";
    expect_unresolved(text);
}
