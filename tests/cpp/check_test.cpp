#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace rxcaution;
using rxtest::cites;
using rxtest::contains;
using rxtest::find_warning;
using rxtest::kb;
using rxtest::rule_ids;

// The seed article's caution: ketamine + buprenorphine (Suboxone) -> additive CNS and respiratory
// depression; consult before combining.
TEST(Check, SeedKetamineWithSuboxoneWarnsWithSourceAndExplanation) {
    const Report r = kb().check({"ketamine", "Suboxone"});
    // The seed rule supersedes Ketalar's general CNS-depressant rule for this pair; the
    // buprenorphine label's own CNS-depressant rule (with its MOUD-specific management) stays.
    EXPECT_EQ(rule_ids(r), (std::vector<std::string>{"buprenorphine-cns-depressants", "ketamine-buprenorphine"}));
    ASSERT_TRUE(r.max_severity().has_value());
    EXPECT_EQ(*r.max_severity(), Severity::Major);
    const auto seed = find_warning(r, "ketamine-buprenorphine");
    ASSERT_TRUE(seed.has_value());
    EXPECT_EQ(seed->kind, WarningKind::DrugDrug);
    EXPECT_EQ(seed->severity, Severity::Major);
    EXPECT_EQ(seed->inputs, (std::vector<std::string>{"ketamine", "Suboxone"}));
    EXPECT_EQ(seed->substances, (std::vector<std::string>{"ketamine", "buprenorphine"}));
    EXPECT_TRUE(cites(*seed, "haven-ketamine-opioid-withdrawal"));
    EXPECT_TRUE(cites(*seed, "lf-s1"));
    EXPECT_NE(seed->management.find("Consult"), std::string::npos);
    const std::string suboxone_step =
        "'Suboxone' resolved to product Suboxone, which contains buprenorphine and naloxone (not checked for "
        "interactions: " + kb().resolve("Suboxone").not_checked[0] + ")";
    EXPECT_EQ(seed->explanation,
              (std::vector<std::string>{"'ketamine' resolved to substance ketamine", suboxone_step,
                                        "rule ketamine-buprenorphine: ketamine x buprenorphine (major, evidence label)",
                                        "supersedes the more general rule ketamine-cns-depressants for this pair"}));
    const auto via_class = find_warning(r, "buprenorphine-cns-depressants");
    ASSERT_TRUE(via_class.has_value());
    EXPECT_EQ(via_class->explanation,
              (std::vector<std::string>{
                  "'ketamine' resolved to substance ketamine", suboxone_step,
                  "ketamine is a member of cns-depressants",
                  "rule buprenorphine-cns-depressants: buprenorphine x class cns-depressants (major, evidence label)"}));
    // Through a subclass chain: buprenorphine -> opioid-partial-agonists -> opioids -> cns-depressants.
    const Report esk_report = kb().check({"esketamine", "Subutex"});
    const auto esk = find_warning(esk_report, "esketamine-cns-depressants");
    ASSERT_TRUE(esk.has_value());
    EXPECT_TRUE(contains(esk->explanation, "buprenorphine is a member of opioid-partial-agonists, a subclass of opioids, "
                                           "a subclass of cns-depressants"));
}

TEST(Check, SpecificRulesSupersedeGeneralOnes) {
    const Report qt = kb().check({"methadone", "ondansetron"});
    EXPECT_TRUE(find_warning(qt, "methadone-qt-prolonging-drugs").has_value());
    EXPECT_FALSE(find_warning(qt, "qt-prolonging-drugs-combination").has_value());
    EXPECT_TRUE(find_warning(kb().check({"haloperidol", "ondansetron"}), "qt-prolonging-drugs-combination").has_value());
    // A milder specific rule does not hide a more severe general one (lofexidine's QT rule is moderate).
    const Report lof = kb().check({"lofexidine", "ondansetron"});
    EXPECT_TRUE(find_warning(lof, "lofexidine-qt-prolonging-drugs").has_value());
    EXPECT_TRUE(find_warning(lof, "qt-prolonging-drugs-combination").has_value());
    const Report ntx = kb().check({"naltrexone", "methadone"});
    EXPECT_EQ(rule_ids(ntx), std::vector<std::string>{"methadone-naltrexone"});
    // Superseding works per input pair: the general rule still fires for another pair.
    const Report three = kb().check({"methadone", "alprazolam", "oxycodone"});
    ASSERT_TRUE(find_warning(three, "opioid-agonists-benzodiazepines").has_value());
    EXPECT_EQ(find_warning(three, "opioid-agonists-benzodiazepines")->inputs,
              (std::vector<std::string>{"alprazolam", "oxycodone"}));
}

TEST(Check, SeedKetamineWithMethadone) {
    const Report r = kb().check({"ketamine", "methadone"});
    const auto w = find_warning(r, "ketamine-methadone");
    ASSERT_TRUE(w.has_value());
    EXPECT_EQ(w->severity, Severity::Major);
    EXPECT_TRUE(cites(*w, "haven-ketamine-opioid-withdrawal"));
    EXPECT_TRUE(cites(*w, "lf-s1"));
    EXPECT_TRUE(find_warning(r, "methadone-cns-depressants").has_value());
}

TEST(Check, SeedKetamineWithCardiovascularAndPsychiatricHistory) {
    const Report r = kb().check({"ketamine"}, {{"high blood pressure", "schizophrenia"}});
    const auto cv = find_warning(r, "ketamine-cardiovascular-disease");
    ASSERT_TRUE(cv.has_value());
    EXPECT_EQ(cv->kind, WarningKind::DrugCondition);
    EXPECT_EQ(cv->condition, "cardiovascular-disease");
    EXPECT_TRUE(cites(*cv, "haven-ketamine-opioid-withdrawal"));
    EXPECT_TRUE(contains(cv->explanation,
                         "patient condition 'high blood pressure' resolved to hypertension, which falls under cardiovascular-disease"));
    const auto psych = find_warning(r, "ketamine-psychiatric-history");
    ASSERT_TRUE(psych.has_value());
    EXPECT_TRUE(cites(*psych, "haven-ketamine-opioid-withdrawal"));
}

TEST(Check, IngredientsOfOneProductDoNotWarnAgainstEachOther) {
    EXPECT_TRUE(kb().check({"Suboxone"}).details().empty());
    EXPECT_FALSE(kb().check({"Suboxone"}).max_severity().has_value());
    // ... but the same two substances as separate inputs do.
    EXPECT_FALSE(kb().check({"buprenorphine", "naloxone"}).details().empty());
}

TEST(Check, SublingualNaloxoneInsideSuboxoneIsNotCheckedForInteractions) {
    const Report r = kb().check({"Suboxone", "methadone"});
    for (const auto& w : r.details()) EXPECT_EQ(w.rule.rfind("naloxone-", 0), std::string::npos) << w.rule;
    EXPECT_TRUE(find_warning(r, "methadone-opioid-partial-agonists").has_value());
    EXPECT_TRUE(find_warning(r, "buprenorphine-opioid-agonists").has_value());
    // Naloxone as a rescue product is checked.
    EXPECT_TRUE(find_warning(kb().check({"Narcan", "methadone"}), "naloxone-methadone").has_value());
}

TEST(Check, ProductSpecificRuleFiresOnlyForThatProduct) {
    EXPECT_TRUE(find_warning(kb().check({"Sublocade", "ondansetron"}), "sublocade-qt-prolonging-drugs").has_value());
    EXPECT_FALSE(find_warning(kb().check({"Subutex", "ondansetron"}), "sublocade-qt-prolonging-drugs").has_value());
    EXPECT_EQ(find_warning(kb().check({"ondansetron", "Sublocade"}), "sublocade-qt-prolonging-drugs")->inputs,
              (std::vector<std::string>{"ondansetron", "Sublocade"}));
}

TEST(Check, DuplicateIngredientAcrossProducts) {
    const Report r = kb().check({"Suboxone", "Subutex"});
    const auto details = r.details();
    ASSERT_EQ(details.size(), 1u);
    const WarningDetails& w = details[0];
    EXPECT_EQ(w.kind, WarningKind::DuplicateTherapy);
    EXPECT_EQ(w.rule, "duplicate-ingredient");
    EXPECT_EQ(w.severity, Severity::Moderate);
    EXPECT_EQ(w.evidence, EvidenceGrade::Derived);
    EXPECT_EQ(w.summary, "Suboxone + Subutex: both contain buprenorphine");
    CheckContext no_dup;
    no_dup.duplicate_therapy = false;
    EXPECT_TRUE(kb().check({"Suboxone", "Subutex"}, no_dup).details().empty());
}

TEST(Check, ClassDuplicatePolicyUsesTheSourcedSeverity) {
    const Report r = kb().check({"Catapres", "Kapvay"});
    ASSERT_EQ(r.details().size(), 1u);
    EXPECT_EQ(r.details()[0].kind, WarningKind::DuplicateTherapy);
    EXPECT_EQ(r.details()[0].rule, "clonidine-containing-medicines");
    EXPECT_EQ(r.details()[0].severity, kb().drug_class("clonidine-containing-medicines").duplicate_therapy->severity);
    EXPECT_TRUE(cites(r.details()[0], "lf-s90"));
}

TEST(Check, UnresolvedInputsAreReportedNotDropped) {
    const Report r = kb().check({"ketamin", "Suboxone"});
    ASSERT_EQ(r.inputs().size(), 2u);
    EXPECT_FALSE(r.inputs()[0].resolved);
    EXPECT_EQ(r.inputs()[0].suggestions.at(0), "ketamine");
    EXPECT_TRUE(r.inputs()[1].resolved);
    EXPECT_FALSE(r.complete());
    EXPECT_EQ(r.unresolved(), std::vector<std::string>{"ketamin"});
    EXPECT_TRUE(r.details().empty());
    const Report c = kb().check({"ketamine"}, {{"hypertensoin"}});
    EXPECT_FALSE(c.complete());
    EXPECT_FALSE(c.conditions()[0].resolved);
}

TEST(Check, WarningsAreSortedBySeverityThenInputOrderAndDeduplicated) {
    const Report r = kb().check({"methadone", "clarithromycin", "alprazolam", "naltrexone", "ondansetron"});
    const auto details = r.details();
    ASSERT_GE(details.size(), 5u);
    for (std::size_t i = 1; i < details.size(); ++i) {
        const auto& a = details[i - 1];
        const auto& b = details[i];
        EXPECT_GE(a.severity, b.severity);
        if (a.severity == b.severity) {
            EXPECT_LE(a.input_indexes, b.input_indexes);
        }
    }
    std::set<std::string> ids;
    for (const auto& w : r.details()) EXPECT_TRUE(ids.insert(w.id).second) << "duplicate " << w.id;
    EXPECT_EQ(r.details().front().severity, Severity::Contraindicated);
}

TEST(Check, MinimumSeverityFilters) {
    CheckContext ctx;
    ctx.min_severity = Severity::Major;
    const Report r = kb().check({"methadone", "clarithromycin", "rifampin"}, ctx);
    for (const auto& w : r.details()) EXPECT_GE(w.severity, Severity::Major);
    EXPECT_FALSE(find_warning(r, "methadone-cyp3a-inducers").has_value());
    EXPECT_TRUE(find_warning(kb().check({"methadone", "rifampin"}), "methadone-cyp3a-inducers").has_value());
}

TEST(Check, EmptyAndSingleInputs) {
    const Report r = kb().check({});
    EXPECT_TRUE(r.details().empty());
    EXPECT_TRUE(r.complete());
    EXPECT_EQ(r.pack_name(), "rxcaution-curated");
    EXPECT_TRUE(kb().check({"methadone"}).details().empty());
}

TEST(Check, MiniPackFiresClassRuleThroughSubclass) {
    const auto mini = KnowledgeBase::load(rxtest::data_path("mini"));
    const Report r = mini.check({"Combotab", "deltapam"}, {{"high blood pressure"}});
    EXPECT_EQ(rule_ids(r), (std::vector<std::string>{"alpha-heart", "alpha-sedatives"}));
    EXPECT_EQ(r.details()[1].explanation.at(2), "delta is a member of strong-sedatives, a subclass of sedatives");
    // The two ingredients of Combotab never meet each other.
    EXPECT_FALSE(find_warning(r, "alpha-beta").has_value());
    EXPECT_EQ(find_warning(mini.check({"alfa", "betamol"}), "alpha-beta")->severity, Severity::Moderate);
    const Report dup = mini.check({"gammadone", "deltapam", "alphazine"});
    EXPECT_FALSE(find_warning(dup, "strong-sedatives").has_value());  // gamma is not in the duplicate class
}

// Two different substances of one duplicate-therapy class are a duplicate therapy (the pair is
// kept through the per-substance class masks); a pack without such classes skips the masks and
// still reports a shared ingredient.
TEST(Check, DuplicateTherapyClassJoinsTwoDifferentMembersAndPairOnlyPacksSkipIt) {
    nlohmann::json pack = nlohmann::json::parse(rxtest::read_file(rxtest::data_path("mini_bundled.json")));
    for (auto& cls : pack["classes"])
        if (cls["id"] == "strong-sedatives")
            cls["members"].push_back({{"substance", "beta"}, {"sources", {{{"source", "src-review"}}}}});
    const KnowledgeBase with_class = KnowledgeBase::from_json(pack.dump());
    const Report r = with_class.check({"betamol", "deltapam"});
    const auto w = find_warning(r, "strong-sedatives");
    ASSERT_TRUE(w.has_value()) << ::testing::PrintToString(rule_ids(r));
    EXPECT_EQ(w->kind, WarningKind::DuplicateTherapy);
    EXPECT_EQ(w->severity, Severity::Minor);
    const auto rows = with_class.screen({{"betamol", "deltapam"}}).rows;
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].kind, ScreenRowKind::DuplicateTherapy);

    for (auto& cls : pack["classes"]) cls.erase("duplicate_therapy");
    const KnowledgeBase pair_only = KnowledgeBase::from_json(pack.dump());
    EXPECT_FALSE(find_warning(pair_only.check({"betamol", "deltapam"}), "strong-sedatives").has_value());
    // Combotab and Alphabrand share alpha: a duplicate ingredient, whatever the classes.
    const Report shared = pair_only.check({"Combotab", "Alphabrand"});
    ASSERT_TRUE(find_warning(shared, "duplicate-ingredient").has_value()) << ::testing::PrintToString(rule_ids(shared));
    EXPECT_EQ(find_warning(shared, "duplicate-ingredient")->kind, WarningKind::DuplicateTherapy);
}

// Issue 13: repeated medications multiplied the warnings (n^2) and the supersedes pass (W^2); 400
// inputs took 20 s and 442 MB. A repeat is now reported once and checked once.
TEST(Check, RepeatedInputsAreCheckedOnceAndReportedAsRepeats) {
    const std::vector<std::string> eight = {"methadone", "Suboxone", "alprazolam", "clarithromycin",
                                            "ondansetron", "sertraline", "ketamine", "naltrexone"};
    std::vector<std::string> many;
    for (int k = 0; k < 50; ++k)
        for (const auto& m : eight) many.push_back(k % 2 ? m : " " + m + " ");  // spacing does not matter
    const Report once = kb().check(eight);
    const Report repeated = kb().check(many);
    ASSERT_EQ(repeated.input_count(), 400u);
    EXPECT_EQ(rxtest::rule_ids(repeated), rxtest::rule_ids(once));
    EXPECT_EQ(to_json(repeated).find("duplicate-ingredient"), std::string::npos);
    const auto inputs = repeated.inputs();
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (i < 8) EXPECT_FALSE(inputs[i].duplicate_of.has_value()) << i;
        else EXPECT_EQ(inputs[i].duplicate_of, i % 8) << i;
    }
    EXPECT_NE(to_text(repeated).find("  Suboxone -> repeats entry 2 (checked once)\n"), std::string::npos);
}

TEST(Check, DifferentSpellingsOfOneIngredientAreStillDuplicateTherapy) {
    const Report r = kb().check({"methadone", "methadone HCl"});
    ASSERT_EQ(rxtest::rule_ids(r), std::vector<std::string>{"duplicate-ingredient"});
    EXPECT_FALSE(r.inputs()[1].duplicate_of.has_value());
}

TEST(Check, TooManyMedicationsOrConditionsIsALimitError) {
    const std::vector<std::string> meds(kMaxCheckMedications + 1, "methadone");
    try {
        (void)kb().check(meds);
        FAIL() << "no LimitError";
    } catch (const LimitError& e) {
        EXPECT_STREQ(e.what(), "too many medications: 10001 given, at most 10000 accepted");
        EXPECT_EQ(e.name(), "medications");
        EXPECT_EQ(e.limit(), kMaxCheckMedications);
        EXPECT_EQ(e.actual(), kMaxCheckMedications + 1);
    }
    CheckContext ctx;
    ctx.conditions.assign(kMaxCheckConditions + 1, "hypertension");
    EXPECT_THROW((void)kb().check({"methadone"}, ctx), LimitError);
    // At the limit, repeats cost little: one distinct entry checked once.
    const std::vector<std::string> at_limit(kMaxCheckMedications, "methadone");
    EXPECT_TRUE(kb().check(at_limit).warnings().empty());
}
