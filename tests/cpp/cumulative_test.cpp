// Cumulative rules (issue 12 part 3): a risk across a set of medications, reported as one warning
// of kind `cumulative` naming every medication involved, in every output; dose thresholds compared
// with a dose written in the medication text.

#include "test_support.hpp"

#include "detail/dose.hpp"
#include "detail/snapshot.hpp"

#include <rxcaution/screen.hpp>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

using namespace rxcaution;
using nlohmann::json;
using rxtest::find_warning;
using rxtest::kb;
using rxtest::rule_ids;

namespace {

std::vector<std::string> cumulative_rules(const Report& r) {
    std::vector<std::string> out;
    for (const auto& w : r.warnings())
        if (w.kind == WarningKind::Cumulative) out.emplace_back(r.rule_id(w));
    return out;
}

bool has_line(const std::vector<std::string>& lines, const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
}

}  // namespace

TEST(Cumulative, OpioidBenzodiazepineGabapentinoidIsOneWarningNamingAllThree) {
    const Report r = kb().check({"oxycodone", "alprazolam", "gabapentin"});
    EXPECT_EQ(rule_ids(r), (std::vector<std::string>{"opioid-agonists-benzodiazepines", "cumulative-opioid-cns-depressants"}));
    const auto w = find_warning(r, "cumulative-opioid-cns-depressants");
    ASSERT_TRUE(w);
    EXPECT_EQ(w->kind, WarningKind::Cumulative);
    EXPECT_EQ(w->severity, Severity::Major);
    EXPECT_EQ(w->evidence, EvidenceGrade::Secondary);
    EXPECT_EQ(w->id, "cumulative-opioid-cns-depressants:alprazolam+gabapentin+oxycodone");
    EXPECT_EQ(w->inputs, (std::vector<std::string>{"oxycodone", "alprazolam", "gabapentin"}));
    EXPECT_EQ(w->input_indexes, (std::vector<std::size_t>{0, 1, 2}));
    EXPECT_EQ(w->substances, (std::vector<std::string>{"oxycodone", "alprazolam", "gabapentin"}));
    EXPECT_EQ(w->summary,
              "oxycodone + alprazolam + gabapentin: Three or more CNS depressants including an opioid: additive "
              "respiratory depression and sedation");
    EXPECT_TRUE(w->condition.empty());
    EXPECT_EQ(w->seriousness, "boxed");
    EXPECT_TRUE(rxtest::cites(*w, "dc-f1"));
    EXPECT_TRUE(rxtest::cites(*w, "dc-f4"));
    EXPECT_TRUE(has_line(w->explanation,
                         "oxycodone is a member of opioid-agonists, a subclass of opioids, a subclass of cns-depressants"));
    EXPECT_TRUE(has_line(w->explanation, "gabapentin is a member of gabapentinoids, a subclass of cns-depressants"));
    EXPECT_EQ(w->explanation.back(),
              "rule cumulative-opioid-cns-depressants: at least 3 of class cns-depressants, at least 1 of class opioids "
              "(major, evidence secondary)");
    // A cumulative warning is an alert of its own.
    EXPECT_EQ(r.groups().size(), 2u);
    const Warning& compact = r.warnings()[1];
    EXPECT_EQ(compact.implicated_count, 3u);
    EXPECT_EQ(r.implicated()[compact.implicated_begin + 2].input, 2u);
}

TEST(Cumulative, NeedsEveryRequirement) {
    EXPECT_TRUE(cumulative_rules(kb().check({"oxycodone", "alprazolam"})).empty());               // two depressants
    EXPECT_TRUE(cumulative_rules(kb().check({"alprazolam", "gabapentin", "zolpidem"})).empty());  // no opioid
    // A repeated entry is one medication, not two.
    EXPECT_TRUE(cumulative_rules(kb().check({"oxycodone", "alprazolam", "Alprazolam"})).empty());
    // One substance entered three ways is one CNS depressant (duplicate-ingredient warnings cover it).
    EXPECT_TRUE(cumulative_rules(kb().check({"methadone", "methadone HCl", "Methadose"})).empty());
    const Report twice = kb().check({"methadone", "Methadose", "alprazolam", "gabapentin"});
    const auto w = find_warning(twice, "cumulative-opioid-cns-depressants");
    ASSERT_TRUE(w);
    EXPECT_EQ(w->inputs, (std::vector<std::string>{"methadone", "alprazolam", "gabapentin"}));
    EXPECT_EQ(cumulative_rules(kb().check({"alprazolam", "gabapentin", "zolpidem", "methadone"})),
              (std::vector<std::string>{"cumulative-opioid-cns-depressants"}));
    // Below the caller's minimum severity it is left out like any other warning.
    CheckContext major_only;
    major_only.min_severity = Severity::Contraindicated;
    EXPECT_TRUE(cumulative_rules(kb().check({"oxycodone", "alprazolam", "gabapentin"}, major_only)).empty());
}

TEST(Cumulative, QtDrugsFireOnlyWithARiskCondition) {
    EXPECT_TRUE(cumulative_rules(kb().check({"methadone", "ondansetron"})).empty());
    EXPECT_TRUE(cumulative_rules(kb().check({"methadone"}, {{"hypokalemia"}})).empty());  // one QT drug
    const Report r = kb().check({"methadone", "ondansetron"}, {{"hypokalemia"}});
    EXPECT_EQ(cumulative_rules(r), (std::vector<std::string>{"cumulative-qt-drugs-with-risk-condition"}));
    const auto w = find_warning(r, "cumulative-qt-drugs-with-risk-condition");
    ASSERT_TRUE(w);
    EXPECT_EQ(w->condition, "qt-prolongation-risk");
    EXPECT_EQ(w->inputs, (std::vector<std::string>{"methadone", "ondansetron"}));
    EXPECT_EQ(w->summary.rfind("methadone + ondansetron with hypokalemia: Two or more QT-prolonging drugs", 0), 0u);
    EXPECT_TRUE(has_line(w->explanation,
                         "patient condition 'hypokalemia' resolved to hypokalemia, which falls under qt-prolongation-risk"));
    EXPECT_TRUE(rxtest::cites(*w, "i12-zofran-slc"));
    // Other risk conditions of the labels' lists, through the condition hierarchy.
    for (const char* condition : {"congenital long QT", "bradycardia", "low magnesium", "congestive heart failure"})
        EXPECT_EQ(cumulative_rules(kb().check({"methadone", "ondansetron"}, {{condition}})),
                  (std::vector<std::string>{"cumulative-qt-drugs-with-risk-condition"}))
            << condition;
}

TEST(Cumulative, MaoiWithTwoOtherSerotonergicDrugs) {
    EXPECT_EQ(cumulative_rules(kb().check({"linezolid", "sertraline", "tramadol"})),
              (std::vector<std::string>{"cumulative-maoi-serotonergic"}));
    EXPECT_TRUE(cumulative_rules(kb().check({"linezolid", "sertraline"})).empty());
    EXPECT_TRUE(cumulative_rules(kb().check({"sertraline", "tramadol", "ondansetron"})).empty());  // no MAOI
}

TEST(Cumulative, DoseThresholdIsComparedWithTheDoseInTheText) {
    auto dose_line = [](const std::string& citalopram) {
        const Report r = kb().check({citalopram, "ondansetron"}, {{"hypokalemia"}});
        const auto w = find_warning(r, "cumulative-qt-drugs-with-risk-condition");
        EXPECT_TRUE(w) << citalopram;
        if (!w) return std::string();
        for (const auto& step : w->explanation)
            if (step.rfind("dose: ", 0) == 0) return step;
        return std::string();
    };
    EXPECT_EQ(dose_line("citalopram 60 mg daily"),
              "dose: 'citalopram 60 mg daily': 60 mg/day of citalopram (60 mg daily), above the 40 mg/day the source names");
    EXPECT_EQ(dose_line("citalopram 20mg/day"),
              "dose: 'citalopram 20mg/day': 20 mg/day of citalopram (20mg/day), not above the 40 mg/day the source names");
    EXPECT_EQ(dose_line("citalopram 30 mg bid"),
              "dose: 'citalopram 30 mg bid': 60 mg/day of citalopram (30 mg bid), above the 40 mg/day the source names");
    EXPECT_EQ(dose_line("citalopram"),
              "dose: 'citalopram': dose of citalopram not given, so it is unknown whether it is above the 40 mg/day "
              "the source names");
    EXPECT_EQ(dose_line("citalopram 20 mg"),
              "dose: 'citalopram 20 mg': 20 mg per dose (20 mg), how often a day not given: compare the daily dose of "
              "citalopram with the 40 mg/day the source names");
    // The effect says it too, so that every output carries it.
    const Report r = kb().check({"citalopram", "ondansetron"}, {{"hypokalemia"}});
    const auto w = find_warning(r, "cumulative-qt-drugs-with-risk-condition");
    ASSERT_TRUE(w);
    EXPECT_NE(w->effect.find(" Dose: 'citalopram': dose of citalopram not given"), std::string::npos) << w->effect;
}

TEST(Cumulative, DoseTextStillResolvesTheName) {
    for (const char* text : {"methadone 120 mg daily", "methadone 250mg/day", "methadone 250 mg/day", "Methadose 40 mg tid"}) {
        const Resolution r = kb().resolve(text);
        EXPECT_TRUE(r.resolved) << text;
        EXPECT_EQ(r.ingredients, (std::vector<std::string>{"methadone"})) << text;
    }
    EXPECT_FALSE(kb().resolve("zorblax 250mg/day").resolved);
}

TEST(Cumulative, ParseDoseIsBoundedAndExact) {
    using rxcaution::detail::parse_dose;
    auto d = parse_dose("methadone 120 mg daily");
    ASSERT_TRUE(d);
    EXPECT_DOUBLE_EQ(d->amount_mg, 120);
    EXPECT_EQ(d->per_day, 1);
    EXPECT_EQ(d->text, "120 mg daily");
    d = parse_dose("methadone 250mg/day");
    ASSERT_TRUE(d);
    EXPECT_DOUBLE_EQ(d->mg_per_day(), 250);
    EXPECT_EQ(d->text, "250mg/day");
    d = parse_dose("buprenorphine 300 mcg twice daily");
    ASSERT_TRUE(d);
    EXPECT_DOUBLE_EQ(d->mg_per_day(), 0.6);
    d = parse_dose("x 2.5 mg three times a day please");
    ASSERT_TRUE(d);
    EXPECT_DOUBLE_EQ(d->mg_per_day(), 7.5);
    EXPECT_EQ(d->text, "2.5 mg three times a day");
    d = parse_dose("drug 1 g qid");
    ASSERT_TRUE(d);
    EXPECT_DOUBLE_EQ(d->mg_per_day(), 4000);
    d = parse_dose("drug 40 mg");
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->daily_known());
    EXPECT_FALSE(parse_dose("vitamin b12"));
    EXPECT_FALSE(parse_dose("drug 5 tablets daily"));
    EXPECT_FALSE(parse_dose("drug 40 mgx"));
    EXPECT_FALSE(parse_dose(""));
    // Long digit runs and long text stay linear: no backtracking, no overflow.
    const std::string digits(100000, '9');
    EXPECT_FALSE(parse_dose(digits));
    EXPECT_FALSE(parse_dose(digits + " mg"));
    std::string many;
    for (int i = 0; i < 20000; ++i) many += "1 x ";
    EXPECT_FALSE(parse_dose(many));
}

TEST(Cumulative, EveryOutputNamesEveryInput) {
    const Report r = kb().check({"oxycodone", "alprazolam", "gabapentin"});
    const json j = json::parse(to_json(r));
    const json& cw = j.at("warnings")[1];
    EXPECT_EQ(cw.at("kind"), "cumulative");
    EXPECT_EQ(cw.at("inputs"), json::array({"oxycodone", "alprazolam", "gabapentin"}));
    EXPECT_EQ(cw.at("substances"), json::array({"oxycodone", "alprazolam", "gabapentin"}));
    EXPECT_EQ(cw.at("rule"), "cumulative-opioid-cns-depressants");
    EXPECT_EQ(cw.at("group"), 1);
    EXPECT_EQ(cw.at("group_lead"), true);

    const json fhir = json::parse(to_fhir(r));
    const json& issue = fhir.at("entry")[1].at("resource");
    EXPECT_EQ(issue.at("code").at("text"), "cumulative");
    EXPECT_EQ(issue.at("code").at("coding")[0].at("code"), "DRG");
    ASSERT_EQ(issue.at("implicated").size(), 3u);
    EXPECT_EQ(issue.at("implicated")[2].at("display"), "gabapentin");

    // CDS Hooks: a draft order for gabapentin alone brings the card (any implicated input counts).
    CdsHooksOptions options;
    options.focus = {false, false, true};
    const json cards = json::parse(to_cds_hooks(r, options)).at("cards");
    ASSERT_EQ(cards.size(), 1u);
    EXPECT_EQ(cards[0].at("summary").get<std::string>().rfind("oxycodone + alprazolam + gabapentin: Three or more", 0), 0u);
    EXPECT_NE(cards[0].at("detail").get<std::string>().find("**major** cumulative interaction"), std::string::npos);

    const std::string text = to_text(r);
    EXPECT_NE(text.find("\n2. MAJOR [cumulative] oxycodone + alprazolam + gabapentin: Three or more CNS depressants"),
              std::string::npos)
        << text;
    const std::string dot = kb().regimen_dot({"oxycodone", "alprazolam", "gabapentin"});
    EXPECT_NE(dot.find("cumulative-opioid-cns-depressants"), std::string::npos);
}

TEST(Cumulative, PackFormatRoundTripsAndIsChecked) {
    const auto& rules = kb().cumulative_rules();
    ASSERT_EQ(rules.size(), 3u);
    const CumulativeRule* qt = kb().find_cumulative_rule("cumulative-qt-drugs-with-risk-condition");
    ASSERT_NE(qt, nullptr);
    ASSERT_EQ(qt->dose_thresholds.size(), 1u);
    EXPECT_EQ(qt->dose_thresholds[0].substance, "citalopram");
    EXPECT_DOUBLE_EQ(qt->dose_thresholds[0].above_mg_per_day, 40);
    EXPECT_EQ(qt->requirements[0].min, 2);
    const KnowledgeBase again = KnowledgeBase::from_json(kb().to_json());
    ASSERT_EQ(again.cumulative_rules().size(), 3u);
    EXPECT_DOUBLE_EQ(again.cumulative_rules()[1].dose_thresholds[0].above_mg_per_day, 40);
    EXPECT_EQ(again.cumulative_rules()[0].requirements[0].min, 3);
    EXPECT_EQ(again.to_json(), kb().to_json());

    // A requirement naming a product, and a count out of range, are reported with their place.
    json pack = json::parse(kb().to_json());
    pack["cumulative_rules"][0]["requires"][0]["member"] = {{"product", "suboxone"}};
    try {
        (void)KnowledgeBase::from_json(pack.dump());
        FAIL() << "expected an IntegrityError";
    } catch (const IntegrityError& e) {
        EXPECT_NE(std::string(e.what()).find("/cumulative_rules/0/requires/0/member: a requirement names a class or a "
                                             "substance, not a product"),
                  std::string::npos)
            << e.what();
    }
    pack = json::parse(kb().to_json());
    pack["cumulative_rules"][0]["requires"][0]["min"] = 0;
    EXPECT_THROW((void)KnowledgeBase::from_json(pack.dump()), DataError);
    pack = json::parse(kb().to_json());
    pack["cumulative_rules"][1]["dose_thresholds"][0]["above_mg_per_day"] = "forty";
    EXPECT_THROW((void)KnowledgeBase::from_json(pack.dump()), SchemaError);
}

// The built-in pack is compiled into a snapshot at build time: its cumulative rules must survive
// that path, and a snapshot written and read again answers as the original.
TEST(Cumulative, BuiltInSnapshotAndItsCopyKeepCumulativeRules) {
    const KnowledgeBase builtin = KnowledgeBase::builtin();
    ASSERT_EQ(builtin.cumulative_rules().size(), 3u);
    EXPECT_EQ(cumulative_rules(builtin.check({"oxycodone", "alprazolam", "gabapentin"})),
              (std::vector<std::string>{"cumulative-opioid-cns-depressants"}));
    const KnowledgeBase copy = KnowledgeBase::from_snapshot(builtin.to_snapshot(), "copy.rxpack");
    EXPECT_EQ(copy.to_json(), builtin.to_json());
    CheckContext qt;
    qt.conditions = {"hypokalemia"};
    for (const auto& meds : std::vector<std::vector<std::string>>{{"oxycodone", "alprazolam", "gabapentin"},
                                                                   {"methadone 120 mg daily", "citalopram 60 mg daily"},
                                                                   {"phenelzine", "sertraline", "tramadol"}}) {
        const Report a = builtin.check(meds, qt), b = copy.check(meds, qt);
        EXPECT_EQ(to_json(a), to_json(b));
        EXPECT_EQ(to_text(a), to_text(b));
    }
}

// A regimen none of whose ingredients can count towards a cumulative rule is not looked at; one
// that can but does not meet a rule gives nothing; the screen gives the same as check.
TEST(Cumulative, ScreenRowsCarryCumulativeWarnings) {
    const std::vector<std::vector<std::string>> regimens = {
        {"oxycodone", "alprazolam", "gabapentin", "Gabapentin"}, {"naltrexone"}, {"oxycodone", "alprazolam"}};
    const ScreenResult res = kb().screen(regimens);
    std::vector<const ScreenRow*> cumulative;
    for (const auto& row : res.rows)
        if (row.kind == ScreenRowKind::Cumulative) cumulative.push_back(&row);
    ASSERT_EQ(cumulative.size(), 1u);
    const ScreenRow& row = *cumulative[0];
    EXPECT_EQ(row.regimen, 0u);
    EXPECT_EQ(to_string(row.kind), "cumulative");
    EXPECT_EQ(row.implicated_count, 3u);  // the repeated entry is one medication
    EXPECT_EQ(row.input_a, 0u);
    EXPECT_EQ(row.input_b, 1u);
    EXPECT_EQ(kb().cumulative_rules()[row.rule].id, "cumulative-opioid-cns-depressants");
    const OwnedScreenBatch batch(regimens);
    const WarningDetails w = explain(kb(), batch.batch(), row);
    EXPECT_EQ(w.kind, WarningKind::Cumulative);
    EXPECT_EQ(w.inputs, (std::vector<std::string>{"oxycodone", "alprazolam", "gabapentin"}));
    // The kinds filter: only cumulative rows (and the never-dropped unresolved ones).
    ScreenOptions only;
    only.kinds = {WarningKind::Cumulative};
    const ScreenResult filtered = kb().screen(OwnedScreenBatch(regimens).batch(), only);
    ASSERT_EQ(filtered.rows.size(), 1u);
    EXPECT_EQ(filtered.rows[0].kind, ScreenRowKind::Cumulative);
    ScreenOptions none;
    none.kinds = {WarningKind::DrugDrug};
    for (const auto& r : kb().screen(OwnedScreenBatch(regimens).batch(), none).rows)
        EXPECT_EQ(r.kind, ScreenRowKind::DrugDrug);
}

// A snapshot's cumulative rules are not checked by the pack loader: their compiled tables are
// rebuilt when it is read, and a rule that names nothing (possible only in crafted bytes) is
// refused, not indexed out of range.
TEST(Cumulative, RebuildingFromDamagedRulesNamesTheProblem) {
    const auto impl = rxcaution::detail::read_snapshot(kb().to_snapshot(), "test.rxpack");
    auto& kbi = const_cast<rxcaution::detail::KnowledgeBaseImpl&>(*impl);
    EXPECT_EQ(rxcaution::detail::compile_cumulative(kbi), "");
    EXPECT_EQ(kbi.cumulative_facts.size(), 3u);
    auto& rule = kbi.pack.cumulative_rules[0];
    const std::string id = rule.id;
    rule.requirements[0].member.id = "no-such-class";
    EXPECT_EQ(rxcaution::detail::compile_cumulative(kbi),
              "cumulative rule '" + id + "' names an unknown class 'no-such-class'");
    rule.requirements.resize(9, rule.requirements[1]);
    EXPECT_EQ(rxcaution::detail::compile_cumulative(kbi), "cumulative rule '" + id + "' has 9 requirements (1 to 8)");
    rule.requirements.resize(1);
    rule.requirements[0] = {{EntityKind::Substance, "oxycodone"}, 17};
    EXPECT_EQ(rxcaution::detail::compile_cumulative(kbi),
              "cumulative rule '" + id + "' has a requirement that needs 1 to 16 medications");
    rule.requirements[0].min = 1;
    rule.conditions = {"no-such-condition"};
    EXPECT_EQ(rxcaution::detail::compile_cumulative(kbi),
              "cumulative rule '" + id + "' names an unknown condition 'no-such-condition'");
}
