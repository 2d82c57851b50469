// The drug vocabulary layer (DrugBank open vocabulary, CC0): every DrugBank drug resolves by name,
// synonym, UNII, CAS or DrugBank id; joined to the pack's substances only through identifiers the
// substances carry; a drug the pack has no substance for is recognised with coverage no-rules;
// ambiguous names are reported, not guessed.

#include "detail/vocabulary.hpp"
#include "test_support.hpp"

#include <rxcaution/errors.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace rxcaution;
using rxtest::kb;

namespace {
Resolution expect_vocabulary_only(const std::string& text, const std::string& drugbank, const std::string& name,
                                  const std::string& by) {
    const Resolution r = kb().resolve(text);
    EXPECT_TRUE(r.resolved) << text;
    EXPECT_TRUE(r.vocabulary_only) << text;
    EXPECT_EQ(r.id, drugbank) << text;
    EXPECT_EQ(r.drugbank, drugbank) << text;
    EXPECT_EQ(r.name, name) << text;
    EXPECT_EQ(r.matched_by, by) << text;
    EXPECT_TRUE(r.ingredients.empty()) << text;
    EXPECT_EQ(r.coverage, Coverage::NoRules) << text;
    return r;
}
}  // namespace

TEST(Vocabulary, CommonDrugsOutsideThePackAreRecognisedWithNoRules) {
    expect_vocabulary_only("warfarin", "DB00682", "Warfarin", "vocabulary-name");
    expect_vocabulary_only("Metformin", "DB00331", "Metformin", "vocabulary-name");
    // Aspirin is a synonym of DrugBank's "Acetylsalicylic acid".
    expect_vocabulary_only("aspirin", "DB00945", "Acetylsalicylic acid", "vocabulary-synonym");
}

TEST(Vocabulary, EveryIdentifierKindResolves) {
    expect_vocabulary_only("DB00682", "DB00682", "Warfarin", "drugbank");
    expect_vocabulary_only("db00682", "DB00682", "Warfarin", "drugbank");
    expect_vocabulary_only("81-81-2", "DB00682", "Warfarin", "cas");
    expect_vocabulary_only("5Q7ZVV76EI", "DB00682", "Warfarin", "unii");
    expect_vocabulary_only("Warfarina", "DB00682", "Warfarin", "vocabulary-synonym");
}

TEST(Vocabulary, JoinsToPackSubstancesThroughTheirIdentifiers) {
    // methadone carries DrugBank DB00333 in the pack: the vocabulary's synonyms reach it.
    const Resolution r = kb().resolve("Metadona");
    EXPECT_TRUE(r.resolved);
    EXPECT_FALSE(r.vocabulary_only);
    EXPECT_EQ(r.id, "methadone");
    EXPECT_EQ(r.matched_by, "vocabulary-synonym");
    EXPECT_EQ(r.drugbank, "DB00333");
    EXPECT_EQ(r.ingredients, std::vector<std::string>{"methadone"});
    EXPECT_EQ(r.coverage, Coverage::Covered);
    // The pack's own names still come first and say so.
    const Resolution m = kb().resolve("methadone");
    EXPECT_EQ(m.matched_by, "name");
    EXPECT_TRUE(m.drugbank.empty());
}

TEST(Vocabulary, AmbiguousNamesAreReportedNotGuessed) {
    // "salbutamol" is a synonym of both Albuterol (DB01001) and Levosalbutamol (DB13139).
    const Resolution r = kb().resolve("salbutamol");
    EXPECT_FALSE(r.resolved);
    EXPECT_EQ(r.coverage, Coverage::Unresolved);
    EXPECT_EQ(r.ambiguous, (std::vector<std::string>{"Albuterol (DB01001)", "Levosalbutamol (DB13139)"}));
    EXPECT_EQ(r.suggestions, (std::vector<std::string>{"Albuterol", "Levosalbutamol"}));
    EXPECT_EQ(to_text(r), "salbutamol -> ambiguous: names Albuterol (DB01001) and Levosalbutamol (DB13139) (not guessed; give one of them)");
    // A drug's own name outranks another drug's synonym: albuterol is Albuterol.
    expect_vocabulary_only("albuterol", "DB01001", "Albuterol", "vocabulary-name");
}

TEST(Vocabulary, TyposStayUnresolvedWithSuggestions) {
    const Resolution r = kb().resolve("ketamne");
    EXPECT_FALSE(r.resolved);
    EXPECT_EQ(r.coverage, Coverage::Unresolved);
    EXPECT_TRUE(rxtest::contains(r.suggestions, "ketamine"));
}

TEST(Vocabulary, CoverageInTheReportAndEveryOutput) {
    const Report report = kb().check({"warfarin", "ketamine", "ketamne"});
    const auto inputs = report.inputs();
    EXPECT_EQ(inputs[0].coverage, Coverage::NoRules);
    EXPECT_EQ(inputs[1].coverage, Coverage::Covered);
    EXPECT_EQ(inputs[2].coverage, Coverage::Unresolved);
    // A recognised drug is not "not checked" in the unresolved sense, but is never silent either.
    EXPECT_EQ(report.unresolved(), std::vector<std::string>{"ketamne"});
    const std::string json = to_json(report, -1);
    EXPECT_NE(json.find(R"("input":"warfarin","status":"resolved","id":"DB00682","name":"Warfarin","kind":"substance","matched_by":"vocabulary-name","ingredients":[],"not_checked":[],"suggestions":[],"duplicate_of":null,"coverage":"no-rules","drugbank":"DB00682","vocabulary_only":true,"ambiguous":[])"),
              std::string::npos)
        << json;
    EXPECT_NE(json.find(R"("coverage":"covered")"), std::string::npos);
    EXPECT_NE(json.find(R"("coverage":"unresolved")"), std::string::npos);
    const std::string text = to_text(report);
    EXPECT_NE(text.find("warfarin -> Warfarin (substance, DrugBank DB00682) - recognised, but this pack has no "
                        "interaction rules for Warfarin\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("NOTE: 1 medication was recognised but this pack has no rules for it: 'warfarin'. No warning "
                        "about it means nothing.\n"),
              std::string::npos)
        << text;
    const std::string fhir = to_fhir(report, -1);
    EXPECT_NE(fhir.find(R"("code":"informational","details":{"text":"'warfarin' was recognised as Warfarin, but this pack has no interaction rules for it: no warning about it does not mean it is safe."})"),
              std::string::npos)
        << fhir;
    const std::string cds = to_cds_hooks(report, -1);
    EXPECT_NE(cds.find(R"("summary":"1 medication(s) recognised, but this pack has no rules for them")"), std::string::npos)
        << cds;
    EXPECT_NE(cds.find("- warfarin (recognised as Warfarin)"), std::string::npos);
}

TEST(Vocabulary, NoRulesDrugAddsNoWarningAndChangesNoOtherWarning) {
    const Report with = kb().check({"ketamine", "methadone", "warfarin"});
    const Report without = kb().check({"ketamine", "methadone"});
    EXPECT_EQ(rxtest::rule_ids(with), rxtest::rule_ids(without));
}

TEST(Vocabulary, ParserRejectsMalformedLinesWithTheLine) {
    using rxcaution::detail::parse_vocabulary;
    const auto v = parse_vocabulary("# comment\nDB1\tAlpha\t1-2-3\tU1\tAlfa|Alphum\nDB2\tBeta\t\t\tAlfa\n", "t.tsv");
    EXPECT_EQ(v->drugs.size(), 2u);
    EXPECT_EQ(v->match("alpha").drug, 0u);
    EXPECT_EQ(v->match("beta").drug, 1u);
    EXPECT_EQ(v->match("alfa").candidates, 2u);  // a synonym of both: ambiguous
    EXPECT_EQ(v->match("alfa").drug, detail::kNoIndex);
    EXPECT_EQ(v->by_unii("U1"), 0u);
    try {
        (void)parse_vocabulary("DB1\tAlpha\n", "t.tsv");
        FAIL() << "no error";
    } catch (const DataError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "t.tsv:1: expected 5 tab-separated fields (drugbank_id, name, cas, unii, synonyms) with an id and a name");
    }
}

TEST(Vocabulary, EmbeddedVocabularyMatchesTheCommittedFile) {
    const auto* v = detail::builtin_vocabulary();
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->drugs.size(), 19853u);  // every row of the DrugBank CSV
    std::ifstream in(std::string(RXCAUTION_PACK_DIR) + "/vocabulary/drugbank-vocabulary.tsv");
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(detail::parse_vocabulary(ss.str(), "file")->keys.size(), v->keys.size());
}
