// Every label fact from ../shared/reference/label-facts.md that the pack encodes, checked end to
// end: the regimen below must produce exactly this rule, at this severity, citing this source.
// The expectations are written from the fact sheet, not read back from the pack.

#include "test_support.hpp"

#include <gtest/gtest.h>

using namespace rxcaution;
using rxtest::cites;
using rxtest::find_warning;
using rxtest::kb;

namespace {

struct Fact {
    const char* a;
    const char* b;
    const char* rule;
    Severity severity;
    const char* source;
};

std::ostream& operator<<(std::ostream& os, const Fact& f) { return os << f.a << " + " << f.b << " -> " << f.rule; }

class LabelInteraction : public testing::TestWithParam<Fact> {};

TEST_P(LabelInteraction, FiresWithSeverityAndSource) {
    const Fact& f = GetParam();
    const Report r = kb().check({f.a, f.b});
    ASSERT_TRUE(r.complete()) << f;
    const auto w = find_warning(r, f.rule);
    ASSERT_TRUE(w.has_value()) << f;
    EXPECT_EQ(w->kind, WarningKind::DrugDrug);
    EXPECT_EQ(w->severity, f.severity) << f;
    EXPECT_TRUE(cites(*w, f.source)) << f << " should cite " << f.source;
    EXPECT_EQ(w->inputs, (std::vector<std::string>{f.a, f.b}));
    EXPECT_FALSE(w->management.empty());
    EXPECT_FALSE(w->explanation.empty());
}

// clang-format off
const Fact kInteractions[] = {
    // §1 Ketalar
    {"ketamine", "theophylline", "ketamine-methylxanthines", Severity::Major, "lf-s1"},
    {"Ketalar", "aminophylline", "ketamine-methylxanthines", Severity::Major, "lf-s1"},
    {"ketamine", "epinephrine", "ketamine-sympathomimetics", Severity::Moderate, "lf-s1"},
    {"ketamine", "vasopressin", "ketamine-vasopressin", Severity::Moderate, "lf-s1"},
    {"ketamine", "alprazolam", "ketamine-cns-depressants", Severity::Major, "lf-s1"},
    {"ketamine", "alcohol", "ketamine-cns-depressants", Severity::Major, "lf-s1"},
    {"ketamine", "oxycodone", "ketamine-cns-depressants", Severity::Major, "lf-s1"},
    // §2 Spravato
    {"Spravato", "lorazepam", "esketamine-cns-depressants", Severity::Major, "lf-s2"},
    {"esketamine", "methylphenidate", "esketamine-psychostimulants", Severity::Moderate, "lf-s2"},
    {"esketamine", "modafinil", "esketamine-psychostimulants", Severity::Moderate, "lf-s2"},
    {"esketamine", "phenelzine", "esketamine-maois", Severity::Moderate, "lf-s2"},
    // §3 methadone
    {"methadone", "alprazolam", "methadone-cns-depressants", Severity::Major, "lf-s21"},
    {"methadone", "gabapentin", "methadone-cns-depressants", Severity::Major, "lf-s2"},
    {"Dolophine", "alcohol", "methadone-cns-depressants", Severity::Major, "lf-s24"},
    {"methadone", "ketoconazole", "methadone-cyp3a-inhibitors", Severity::Major, "lf-s2"},
    {"methadone", "ritonavir", "methadone-cyp3a-inhibitors", Severity::Major, "lf-s2"},
    {"methadone", "fluconazole", "methadone-cyp2c19-inhibitors", Severity::Major, "lf-s2"},
    {"methadone", "fluvoxamine", "methadone-cyp2c19-inhibitors", Severity::Major, "lf-s2"},
    {"methadone", "paroxetine", "methadone-cyp2d6-inhibitors", Severity::Major, "lf-s2"},
    {"methadone", "clopidogrel", "methadone-cyp2b6-inhibitors", Severity::Major, "lf-s2"},
    {"methadone", "amiodarone", "methadone-cyp2c9-inhibitors", Severity::Major, "lf-s2"},
    {"methadone", "rifampin", "methadone-cyp3a-inducers", Severity::Moderate, "lf-s2"},
    {"methadone", "carbamazepine", "methadone-cyp3a-inducers", Severity::Moderate, "lf-s2"},
    {"methadone", "phenytoin", "methadone-cyp3a-inducers", Severity::Moderate, "lf-s2"},
    {"methadone", "efavirenz", "methadone-efavirenz", Severity::Moderate, "lf-s28"},
    {"methadone", "nevirapine", "methadone-nevirapine", Severity::Moderate, "lf-s29"},
    {"methadone", "nelfinavir", "methadone-nelfinavir", Severity::Moderate, "lf-s29"},
    {"methadone", "zidovudine", "methadone-zidovudine", Severity::Moderate, "lf-s2"},
    {"methadone", "buprenorphine", "methadone-opioid-partial-agonists", Severity::Major, "lf-s2"},
    {"methadone", "pentazocine", "methadone-opioid-mixed-agonist-antagonists", Severity::Major, "lf-s2"},
    {"methadone", "butorphanol", "methadone-opioid-mixed-agonist-antagonists", Severity::Major, "lf-s2"},
    {"methadone", "quinidine", "methadone-qt-prolonging-drugs", Severity::Major, "lf-s26"},
    {"methadone", "ondansetron", "methadone-qt-prolonging-drugs", Severity::Major, "lf-s26"},
    {"methadone", "sertraline", "methadone-serotonergic-drugs", Severity::Moderate, "lf-s23"},
    {"methadone", "linezolid", "methadone-serotonergic-drugs", Severity::Moderate, "lf-s23"},
    {"methadone", "naltrexone", "methadone-naltrexone", Severity::Contraindicated, "lf-s63"},
    // §4 buprenorphine
    {"Suboxone", "alprazolam", "buprenorphine-cns-depressants", Severity::Major, "lf-s40"},
    {"Zubsolv", "pregabalin", "buprenorphine-cns-depressants", Severity::Major, "lf-s2"},
    {"Belbuca", "diazepam", "buprenorphine-cns-depressants", Severity::Major, "lf-s49"},
    {"Suboxone", "ketoconazole", "buprenorphine-cyp3a-inhibitors", Severity::Moderate, "lf-s40"},
    {"Subutex", "rifampin", "buprenorphine-cyp3a-inducers", Severity::Moderate, "lf-s41"},
    {"Suboxone", "efavirenz", "buprenorphine-nnrtis", Severity::Moderate, "lf-s41"},
    {"Suboxone", "atazanavir", "buprenorphine-atazanavir", Severity::Moderate, "lf-s41"},
    {"Suboxone", "sertraline", "buprenorphine-serotonergic-drugs", Severity::Moderate, "lf-s41"},
    {"Suboxone", "phenelzine", "buprenorphine-maois", Severity::Major, "lf-s2"},
    {"Subutex", "methadone", "buprenorphine-opioid-agonists", Severity::Moderate, "lf-s45"},
    {"Suboxone", "naltrexone", "buprenorphine-naltrexone", Severity::Contraindicated, "lf-s63"},
    {"Sublocade", "sotalol", "sublocade-qt-prolonging-drugs", Severity::Moderate, "lf-s47"},
    // §5 naltrexone
    {"naltrexone", "oxycodone", "naltrexone-opioids", Severity::Contraindicated, "lf-s63"},
    {"Vivitrol", "heroin", "naltrexone-opioids", Severity::Contraindicated, "lf-s63"},
    {"Revia", "thioridazine", "naltrexone-thioridazine", Severity::Moderate, "lf-s65"},
    {"naltrexone", "disulfiram", "naltrexone-disulfiram", Severity::Major, "lf-s65"},
    // §6 naloxone
    {"Narcan", "buprenorphine", "naloxone-opioid-partial-agonists", Severity::Moderate, "lf-s71"},
    {"naloxone", "pentazocine", "naloxone-opioid-mixed-agonist-antagonists", Severity::Moderate, "lf-s71"},
    {"Narcan", "methadone", "naloxone-methadone", Severity::Moderate, "lf-s71"},
    {"naloxone", "fentanyl", "naloxone-opioids-precipitated-withdrawal", Severity::Moderate, "lf-s71"},
    // §7 lofexidine (secondary sources only: the label §7 was not read)
    {"Lucemyra", "methadone", "lofexidine-qt-prolonging-drugs", Severity::Moderate, "lf-s80"},
    {"lofexidine", "paroxetine", "lofexidine-cyp2d6-inhibitors", Severity::Moderate, "lf-s81"},
    // §8 clonidine
    {"clonidine", "alcohol", "clonidine-cns-depressants", Severity::Moderate, "lf-s90"},
    {"Catapres", "amitriptyline", "clonidine-tricyclic-antidepressants", Severity::Moderate, "lf-s90"},
    {"clonidine", "digoxin", "clonidine-sinus-node-av-conduction-drugs", Severity::Moderate, "lf-s90"},
    {"clonidine", "atenolol", "clonidine-beta-blockers-withdrawal-rebound", Severity::Moderate, "lf-s91"},
    // §9 ONC high-priority pairs, at the list's seriousness
    {"methadone", "phenelzine", "onc-opioids-maois", Severity::Contraindicated, "lf-s100"},
    {"tramadol", "selegiline", "onc-opioids-maois", Severity::Contraindicated, "lf-s101"},
    {"methadone", "dofetilide", "onc-qt-high-risk-drugs", Severity::Contraindicated, "lf-s100"},
    {"sertraline", "tranylcypromine", "onc-ssris-maois", Severity::Contraindicated, "lf-s100"},
    {"Adderall", "phenelzine", "onc-amphetamines-maois", Severity::Contraindicated, "lf-s100"},
    {"rifampin", "ritonavir", "onc-strong-cyp3a-inducers-protease-inhibitors", Severity::Contraindicated, "lf-s100"},
    {"haloperidol", "erythromycin", "qt-prolonging-drugs-combination", Severity::Major, "lf-s100"},
    // FDA 2016 boxed class warning (drug-classes F1)
    {"oxycodone", "alprazolam", "opioid-agonists-benzodiazepines", Severity::Major, "dc-f1"},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(LabelFacts, LabelInteraction, testing::ValuesIn(kInteractions));

struct ConditionFact {
    const char* med;
    const char* condition;
    const char* rule;
    Severity severity;
    const char* source;
};
std::ostream& operator<<(std::ostream& os, const ConditionFact& f) { return os << f.med << " with " << f.condition; }

class LabelContraindication : public testing::TestWithParam<ConditionFact> {};

TEST_P(LabelContraindication, FiresWithSeverityAndSource) {
    const ConditionFact& f = GetParam();
    const Report r = kb().check({f.med}, {{f.condition}});
    ASSERT_TRUE(r.complete()) << f;
    const auto w = find_warning(r, f.rule);
    ASSERT_TRUE(w.has_value()) << f;
    EXPECT_EQ(w->kind, WarningKind::DrugCondition);
    EXPECT_EQ(w->severity, f.severity) << f;
    EXPECT_TRUE(cites(*w, f.source)) << f;
}

// clang-format off
const ConditionFact kConditions[] = {
    {"ketamine", "significant hypertension", "ketamine-significant-hypertension", Severity::Contraindicated, "lf-s8"},
    {"Spravato", "aneurysmal vascular disease", "esketamine-aneurysmal-vascular-disease", Severity::Contraindicated, "lf-s9"},
    {"esketamine", "intracerebral hemorrhage", "esketamine-intracerebral-hemorrhage", Severity::Contraindicated, "lf-s9"},
    {"methadone", "acute or severe asthma", "methadone-acute-or-severe-asthma", Severity::Contraindicated, "lf-s20"},
    {"Methadose", "paralytic ileus", "methadone-paralytic-ileus", Severity::Contraindicated, "lf-s20"},
    {"methadone", "long QT syndrome", "methadone-qt-prolongation-risk", Severity::Major, "lf-s26"},
    {"methadone", "hypokalemia", "methadone-qt-prolongation-risk", Severity::Major, "lf-s26"},
    {"Suboxone", "severe hepatic impairment", "suboxone-severe-hepatic-impairment", Severity::Major, "lf-s41"},
    {"Sublocade", "injection drug use", "sublocade-injection-drug-use", Severity::Major, "lf-s46"},
    {"naltrexone", "current opioid dependence", "naltrexone-current-opioid-dependence", Severity::Contraindicated, "lf-s63"},
    {"Vivitrol", "methadone maintenance", "naltrexone-current-opioid-dependence", Severity::Contraindicated, "lf-s63"},
    {"Revia", "opioid withdrawal", "naltrexone-opioid-withdrawal", Severity::Contraindicated, "lf-s63"},
    {"naltrexone", "acute hepatitis", "naltrexone-acute-hepatitis", Severity::Contraindicated, "lf-s64"},
    {"lofexidine", "congenital long QT syndrome", "lofexidine-congenital-long-qt-syndrome", Severity::Contraindicated, "lf-s82"},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(LabelFacts, LabelContraindication, testing::ValuesIn(kConditions));

}  // namespace

// Where sources disagree, the pack keeps the conservative reading and says so (label-facts §12).
TEST(LabelFacts, DisagreementsAreCarriedIntoWarnings) {
    const Report theo = kb().check({"ketamine", "theophylline"});
    const auto w = find_warning(theo, "ketamine-methylxanthines");
    ASSERT_TRUE(w.has_value());
    EXPECT_FALSE(w->disagreement.empty());
    const Report hep = kb().check({"naltrexone"}, {{"acute hepatitis"}});
    EXPECT_FALSE(find_warning(hep, "naltrexone-acute-hepatitis")->disagreement.empty());
    const Report lof = kb().check({"lofexidine", "atenolol"});
    const auto lw = find_warning(lof, "lofexidine-bp-or-pulse-lowering-drugs");
    ASSERT_TRUE(lw.has_value());
    EXPECT_FALSE(lw->disagreement.empty());
}

// Every rule in the pack is reachable: for each rule, a regimen made of one member of each
// participant must produce it. This catches rules that the compiled index loses.
TEST(LabelFacts, EveryRuleInThePackFiresForItsParticipants) {
    const auto& k = kb();
    auto pick = [&](const Participant& p) -> std::string {
        if (p.kind == EntityKind::Substance) return p.id;
        if (p.kind == EntityKind::Product) return k.product(p.id).name;
        return k.members_of(p.id).at(0);
    };
    std::size_t checked = 0;
    for (const auto& rule : k.interactions()) {
        std::string a = pick(rule.first);
        std::string b = pick(rule.second);
        if (a == b) {  // a class rule with itself (QT x QT): take a second member
            const auto members = k.members_of(rule.second.id);
            ASSERT_GE(members.size(), 2u) << rule.id;
            b = members.at(1);
        }
        const Report r = k.check({a, b});
        EXPECT_TRUE(find_warning(r, rule.id).has_value()) << rule.id << " did not fire for " << a << " + " << b;
        ++checked;
    }
    for (const auto& rule : k.contraindications()) {
        const std::string med = rule.subject.kind == EntityKind::Product ? k.product(rule.subject.id).name
                                : rule.subject.kind == EntityKind::Substance ? rule.subject.id
                                                                             : k.members_of(rule.subject.id).at(0);
        const Report r = k.check({med}, {{rule.condition}});
        EXPECT_TRUE(find_warning(r, rule.id).has_value()) << rule.id;
        ++checked;
    }
    EXPECT_EQ(checked, k.interactions().size() + k.contraindications().size());
}
