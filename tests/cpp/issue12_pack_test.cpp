// Issue 12 pack content: QT risk tiers, the opioid family, anorectic sympathomimetics and the
// naltrexone / hepatotoxicity rule. The tables are the curation record of issue 12 (each member was
// placed from its own label or a public source, see data/sources-issue12.json); the tests check that
// the compiled pack puts every member in its tier and that the severity-by-tier matrix holds.

#include "test_support.hpp"

#include <gtest/gtest.h>

using namespace rxcaution;
using rxtest::cites;
using rxtest::contains;
using rxtest::find_warning;
using rxtest::kb;

namespace {

struct Membership {
    const char* substance;
    const char* cls;
};

std::ostream& operator<<(std::ostream& os, const Membership& m) { return os << m.substance << " in " << m.cls; }

// clang-format off
const Membership kMemberships[] = {
    {"hydroxychloroquine", "qt-torsades-risk-drugs"},
    {"chloroquine", "qt-torsades-risk-drugs"},
    {"quinine", "qt-torsades-risk-drugs"},
    {"halofantrine", "qt-torsades-risk-drugs"},
    {"vandetanib", "qt-torsades-risk-drugs"},
    {"nilotinib", "qt-torsades-risk-drugs"},
    {"quizartinib", "qt-torsades-risk-drugs"},
    {"sunitinib", "qt-torsades-risk-drugs"},
    {"toremifene", "qt-torsades-risk-drugs"},
    {"panobinostat", "qt-torsades-risk-drugs"},
    {"oxaliplatin", "qt-torsades-risk-drugs"},
    {"fingolimod", "qt-torsades-risk-drugs"},
    {"azithromycin", "qt-torsades-risk-drugs"},
    {"clarithromycin", "qt-torsades-risk-drugs"},
    {"ondansetron", "qt-torsades-risk-drugs"},
    {"haloperidol", "qt-torsades-risk-drugs"},
    {"citalopram", "qt-torsades-risk-drugs"},
    {"anagrelide", "qt-torsades-risk-drugs"},
    {"macimorelin", "qt-torsades-risk-drugs"},
    {"tacrolimus", "qt-torsades-risk-drugs"},
    {"quinidine", "qt-torsades-risk-drugs"},
    {"sotalol", "qt-torsades-risk-drugs"},
    {"dofetilide", "qt-torsades-risk-drugs"},
    {"methadone", "qt-torsades-risk-drugs"},
    {"droperidol", "qt-torsades-risk-drugs"},
    {"pimozide", "qt-torsades-risk-drugs"},
    {"voriconazole", "qt-torsades-risk-drugs"},
    {"fluconazole", "qt-torsades-risk-drugs"},
    {"dolasetron", "qt-torsades-risk-drugs"},
    {"levofloxacin", "qt-torsades-risk-drugs"},
    {"moxifloxacin", "qt-torsades-risk-drugs"},
    {"itraconazole", "qt-torsades-risk-drugs"},
    {"ketoconazole", "qt-torsades-risk-drugs"},
    {"thioridazine", "qt-torsades-risk-drugs"},
    {"amiodarone", "qt-torsades-risk-drugs"},
    {"lumefantrine", "qt-torsades-risk-drugs"},
    {"mefloquine", "qt-labelled-prolongation-drugs"},
    {"primaquine", "qt-labelled-prolongation-drugs"},
    {"ribociclib", "qt-labelled-prolongation-drugs"},
    {"crizotinib", "qt-labelled-prolongation-drugs"},
    {"osimertinib", "qt-labelled-prolongation-drugs"},
    {"vemurafenib", "qt-labelled-prolongation-drugs"},
    {"gilteritinib", "qt-labelled-prolongation-drugs"},
    {"ceritinib", "qt-labelled-prolongation-drugs"},
    {"dasatinib", "qt-labelled-prolongation-drugs"},
    {"lapatinib", "qt-labelled-prolongation-drugs"},
    {"lenvatinib", "qt-labelled-prolongation-drugs"},
    {"entrectinib", "qt-labelled-prolongation-drugs"},
    {"ivosidenib", "qt-labelled-prolongation-drugs"},
    {"arsenic-trioxide", "qt-labelled-prolongation-drugs"},
    {"degarelix", "qt-labelled-prolongation-drugs"},
    {"bicalutamide", "qt-labelled-prolongation-drugs"},
    {"siponimod", "qt-labelled-prolongation-drugs"},
    {"pasireotide", "qt-labelled-prolongation-drugs"},
    {"granisetron", "qt-labelled-prolongation-drugs"},
    {"osilodrostat", "qt-labelled-prolongation-drugs"},
    {"gemifloxacin", "qt-labelled-prolongation-drugs"},
    {"disopyramide", "qt-labelled-prolongation-drugs"},
    {"ziprasidone", "qt-labelled-prolongation-drugs"},
    {"lofexidine", "qt-labelled-prolongation-drugs"},
    {"erythromycin", "qt-labelled-prolongation-drugs"},
    {"bosutinib", "qt-review-listed-drugs"},
    {"cabozantinib", "qt-review-listed-drugs"},
    {"encorafenib", "qt-review-listed-drugs"},
    {"glasdegib", "qt-review-listed-drugs"},
    {"midostaurin", "qt-review-listed-drugs"},
    {"sevoflurane", "qt-review-listed-drugs"},
    {"isoflurane", "qt-review-listed-drugs"},
    {"desflurane", "qt-review-listed-drugs"},
    {"leuprolide", "qt-review-listed-drugs"},
    // opioid agonists added in issue 12 (anaesthesia and newer agonists)
    {"remifentanil", "opioid-agonists"},
    {"benzhydrocodone", "opioid-agonists"},
    {"oliceridine", "opioid-agonists"},
    {"sufentanil", "opioid-agonists"},
    {"alfentanil", "opioid-agonists"},
    // anorectic sympathomimetic amines: psychostimulants (SPRAVATO) and sympathomimetics (KETALAR)
    {"phentermine", "psychostimulants"},
    {"phentermine", "sympathomimetics"},
    {"diethylpropion", "psychostimulants"},
    {"diethylpropion", "sympathomimetics"},
    {"benzphetamine", "psychostimulants"},
    {"benzphetamine", "sympathomimetics"},
    // boxed hepatotoxicity warnings
    {"leflunomide", "boxed-hepatotoxicity-drugs"},
    {"teriflunomide", "boxed-hepatotoxicity-drugs"},
    {"lomitapide", "boxed-hepatotoxicity-drugs"},
    {"pexidartinib", "boxed-hepatotoxicity-drugs"},
    {"pazopanib", "boxed-hepatotoxicity-drugs"},
    {"ketoconazole", "boxed-hepatotoxicity-drugs"},
    // issue 12 round 3 (data/sources-issue12c.json): moved out of review-listed once label text was read
    {"cisapride", "qt-torsades-risk-drugs"},
    {"ibutilide", "qt-torsades-risk-drugs"},
    {"mesoridazine", "qt-torsades-risk-drugs"},
    {"gatifloxacin", "qt-torsades-risk-drugs"},
    {"grepafloxacin", "qt-torsades-risk-drugs"},
    {"sparfloxacin", "qt-torsades-risk-drugs"},
    {"procainamide", "qt-labelled-prolongation-drugs"},
    // ... and added (new substances except pazopanib)
    {"terfenadine", "qt-torsades-risk-drugs"},
    {"astemizole", "qt-torsades-risk-drugs"},
    {"pazopanib", "qt-torsades-risk-drugs"},
    {"inotuzumab-ozogamicin", "qt-torsades-risk-drugs"},
    {"papaverine", "qt-review-listed-drugs"},
    // an anorexiant with amphetamine-like CNS stimulation (Canadian SANOREX monograph)
    {"mazindol", "psychostimulants"},
    {"mazindol", "sympathomimetics"},
    // BESPONSA's boxed warning: hepatotoxicity including veno-occlusive disease
    {"inotuzumab-ozogamicin", "boxed-hepatotoxicity-drugs"},
};
// clang-format on

class Issue12Membership : public testing::TestWithParam<Membership> {};

TEST_P(Issue12Membership, MemberIsInItsClassAndTheClassHierarchy) {
    const Membership& m = GetParam();
    const auto classes = kb().classes_of(m.substance);
    EXPECT_TRUE(contains(classes, m.cls)) << m;
    if (std::string(m.cls).rfind("qt-", 0) == 0) {
        EXPECT_TRUE(contains(classes, "qt-prolonging-drugs")) << m;
    }
    if (std::string(m.cls) == "opioid-agonists") {
        EXPECT_TRUE(contains(classes, "opioids")) << m;
        EXPECT_TRUE(contains(classes, "cns-depressants")) << m;
    }
}

INSTANTIATE_TEST_SUITE_P(Issue12, Issue12Membership, testing::ValuesIn(kMemberships));

// A representative warning for each member: the rule its class drives, at its severity.
TEST_P(Issue12Membership, RepresentativeWarningFires) {
    const Membership& m = GetParam();
    const std::string cls = m.cls;
    const std::string s = m.substance;
    std::string partner, rule;
    Severity severity = Severity::Minor;
    if (s == "methadone") {
        partner = "ondansetron", rule = "methadone-qt-prolonging-drugs", severity = Severity::Major;
    } else if (cls == "qt-torsades-risk-drugs" || cls == "qt-labelled-prolongation-drugs") {
        // sertraline is review-listed: a label-documented drug with it is major
        partner = "sertraline", rule = "qt-prolonging-drugs-combination", severity = Severity::Major;
    } else if (cls == "qt-review-listed-drugs") {
        partner = "sumatriptan", rule = "qt-prolonging-drugs-any-combination", severity = Severity::Moderate;
    } else if (cls == "opioid-agonists") {
        partner = "naltrexone", rule = "naltrexone-opioids", severity = Severity::Contraindicated;
    } else if (cls == "psychostimulants") {
        partner = "esketamine", rule = "esketamine-psychostimulants", severity = Severity::Moderate;
    } else if (cls == "sympathomimetics") {
        partner = "ketamine", rule = "ketamine-sympathomimetics", severity = Severity::Moderate;
    } else if (cls == "boxed-hepatotoxicity-drugs") {
        partner = "naltrexone", rule = "naltrexone-boxed-hepatotoxicity-drugs", severity = Severity::Major;
    }
    ASSERT_FALSE(rule.empty()) << m;
    const Report r = kb().check({s, partner});
    const auto w = find_warning(r, rule);
    ASSERT_TRUE(w.has_value()) << m << " with " << partner;
    EXPECT_EQ(w->severity, severity) << m;
    EXPECT_FALSE(w->sources.empty());
}

// Severity by tier. Tier 1: vandetanib, ondansetron; tier 2: osimertinib, granisetron, lofexidine;
// review-listed: sertraline, sumatriptan, sevoflurane.
struct TierPair {
    const char* a;
    const char* b;
    const char* rule;
    Severity severity;
};

std::ostream& operator<<(std::ostream& os, const TierPair& p) { return os << p.a << " + " << p.b << " -> " << p.rule; }

// clang-format off
const TierPair kTierMatrix[] = {
    // tier x tier
    {"vandetanib", "ondansetron", "qt-prolonging-drugs-combination", Severity::Major},      // 1 x 1
    {"vandetanib", "osimertinib", "qt-prolonging-drugs-combination", Severity::Major},      // 1 x 2
    {"osimertinib", "granisetron", "qt-prolonging-drugs-combination", Severity::Major},     // 2 x 2
    {"granisetron", "sevoflurane", "qt-prolonging-drugs-combination", Severity::Major},     // 2 x review
    {"sertraline", "sumatriptan", "qt-prolonging-drugs-any-combination", Severity::Moderate},  // review x review
    {"sevoflurane", "sumatriptan", "qt-prolonging-drugs-any-combination", Severity::Moderate},
    // methadone x each tier: boxed warning, major everywhere
    {"methadone", "vandetanib", "methadone-qt-prolonging-drugs", Severity::Major},
    {"methadone", "osimertinib", "methadone-qt-prolonging-drugs", Severity::Major},
    {"methadone", "sevoflurane", "methadone-qt-prolonging-drugs", Severity::Major},
    // lofexidine (tier 2 by its own W&P) x each tier
    {"lofexidine", "vandetanib", "qt-prolonging-drugs-combination", Severity::Major},
    {"lofexidine", "osimertinib", "qt-prolonging-drugs-combination", Severity::Major},
    {"lofexidine", "sevoflurane", "qt-prolonging-drugs-combination", Severity::Major},
    {"lofexidine", "sevoflurane", "lofexidine-qt-prolonging-drugs", Severity::Moderate},
    // depot buprenorphine x each tier
    {"Sublocade", "vandetanib", "sublocade-qt-torsades-risk-drugs", Severity::Major},
    {"Sublocade", "vandetanib", "sublocade-qt-prolonging-drugs", Severity::Moderate},
    {"Sublocade", "osimertinib", "sublocade-qt-prolonging-drugs", Severity::Moderate},
    {"Sublocade", "sevoflurane", "sublocade-qt-prolonging-drugs", Severity::Moderate},
};
// clang-format on

class QtTierMatrix : public testing::TestWithParam<TierPair> {};

TEST_P(QtTierMatrix, PairFiresAtTheTierSeverity) {
    const TierPair& p = GetParam();
    const Report r = kb().check({p.a, p.b});
    const auto w = find_warning(r, p.rule);
    ASSERT_TRUE(w.has_value()) << p;
    EXPECT_EQ(w->severity, p.severity) << p;
}

INSTANTIATE_TEST_SUITE_P(Issue12, QtTierMatrix, testing::ValuesIn(kTierMatrix));

TEST(QtTiers, SpecificRulesReplaceTheGeneralQtPairs) {
    // methadone's boxed rule replaces the general label-documented pair, and says so
    const Report m = kb().check({"methadone", "vandetanib"});
    EXPECT_FALSE(find_warning(m, "qt-prolonging-drugs-combination").has_value());
    const auto w = find_warning(m, "methadone-qt-prolonging-drugs");
    ASSERT_TRUE(w.has_value());
    EXPECT_TRUE(contains(w->explanation, "supersedes the more general rule qt-prolonging-drugs-combination for this pair"));
    // two review-listed drugs never reach the major pair rule
    EXPECT_FALSE(find_warning(kb().check({"sertraline", "sumatriptan"}), "qt-prolonging-drugs-combination").has_value());
    // the tier-1 SUBLOCADE rule is product-level: sublingual buprenorphine does not get it
    EXPECT_FALSE(find_warning(kb().check({"Suboxone", "vandetanib"}), "sublocade-qt-torsades-risk-drugs").has_value());
    // a drug outside the QT classes gets no QT warning
    const Report none = kb().check({"vandetanib", "acetaminophen"});
    EXPECT_FALSE(find_warning(none, "qt-prolonging-drugs-combination").has_value());
    EXPECT_FALSE(find_warning(none, "qt-prolonging-drugs-any-combination").has_value());
}

TEST(QtTiers, TierClassesAreDisjointAndLabelBased) {
    for (const auto& s : kb().members_of("qt-torsades-risk-drugs")) {
        EXPECT_FALSE(contains(kb().members_of("qt-review-listed-drugs"), s)) << s;
        EXPECT_FALSE(contains(kb().members_of("qt-labelled-prolongation-drugs"), s)) << s;
    }
    for (const auto& s : kb().members_of("qt-labelled-prolongation-drugs")) {
        EXPECT_FALSE(contains(kb().members_of("qt-review-listed-drugs"), s)) << s;
    }
    // every QT-prolonging drug is in exactly one tier
    for (const auto& s : kb().members_of("qt-prolonging-drugs")) {
        const int tiers = contains(kb().members_of("qt-torsades-risk-drugs"), s) +
                          contains(kb().members_of("qt-labelled-prolongation-drugs"), s) +
                          contains(kb().members_of("qt-review-listed-drugs"), s);
        EXPECT_EQ(tiers, 1) << s;
    }
}

TEST(Issue12Rules, NaltrexoneAlvimopanAndBremelanotide) {
    const Report hep = kb().check({"naltrexone", "Arava"});
    const auto h = find_warning(hep, "naltrexone-boxed-hepatotoxicity-drugs");
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->severity, Severity::Major);
    EXPECT_TRUE(cites(*h, "lf-s65"));
    const Report brem = kb().check({"naltrexone", "bremelanotide"});
    const auto b = find_warning(brem, "naltrexone-bremelanotide");
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->severity, Severity::Major);
    EXPECT_TRUE(cites(*b, "i12-vyleesi-mpr"));
    for (const char* opioid : {"methadone", "buprenorphine"}) {
        const Report r = kb().check({"alvimopan", opioid});
        const auto w = find_warning(r, std::string("alvimopan-") + opioid);
        ASSERT_TRUE(w.has_value()) << opioid;
        EXPECT_EQ(w->severity, Severity::Contraindicated);
        EXPECT_TRUE(cites(*w, "i12-entereg-mpr"));
    }
    // a product resolves to its ingredients: Apadaz carries benzhydrocodone
    EXPECT_TRUE(find_warning(kb().check({"Apadaz", "naltrexone"}), "naltrexone-opioids").has_value());
    EXPECT_TRUE(find_warning(kb().check({"Ultiva", "Suboxone"}), "buprenorphine-opioid-agonists").has_value());
}

// Issue 12, data round 2 (rules at the end of data/interactions.json, classes in data/classes-issue12b.json,
// sources in data/sources-issue12b.json): buprenorphine with tier-1 and tier-2 QT drugs, the cannabinoid CNS
// depressants, mipomersen's boxed hepatotoxicity and ozanimod's fall in heart rate.

// One tier-1 partner per family: kinase inhibitor, antimalarial, S1P modulator, SERM, PDE3 inhibitor,
// 5-HT3 antagonist, macrolide, antipsychotic, class III antiarrhythmic.
const char* const kBuprenorphineTier1Partners[] = {"vandetanib",   "hydroxychloroquine", "fingolimod",
                                                   "toremifene",   "anagrelide",         "ondansetron",
                                                   "azithromycin", "haloperidol",        "amiodarone"};

class BuprenorphineTier1 : public testing::TestWithParam<const char*> {};

TEST_P(BuprenorphineTier1, SubstanceAndSublingualProductAreMajor) {
    for (const char* bup : {"buprenorphine", "Suboxone"}) {
        const Report r = kb().check({bup, GetParam()});
        const auto w = find_warning(r, "buprenorphine-qt-torsades-risk-drugs");
        ASSERT_TRUE(w.has_value()) << bup << " + " << GetParam();
        EXPECT_EQ(w->severity, Severity::Major) << GetParam();
        EXPECT_EQ(w->evidence, EvidenceGrade::Secondary);
        EXPECT_TRUE(cites(*w, "lf-s47"));
        EXPECT_TRUE(cites(*w, "i12b-buprenorphine-qt-droracle"));
    }
}

INSTANTIATE_TEST_SUITE_P(Issue12b, BuprenorphineTier1, testing::ValuesIn(kBuprenorphineTier1Partners));

TEST(Issue12bRules, BuprenorphineQtRuleStopsAtTierOne) {
    // tier 2 (osimertinib) and review-listed (sertraline) partners get no buprenorphine QT warning
    for (const char* partner : {"osimertinib", "sertraline", "sevoflurane"}) {
        const Report r = kb().check({"buprenorphine", partner});
        EXPECT_FALSE(find_warning(r, "buprenorphine-qt-torsades-risk-drugs").has_value()) << partner;
        EXPECT_FALSE(find_warning(r, "qt-prolonging-drugs-combination").has_value()) << partner;
    }
    // for the depot its own product rule replaces the substance rule, and says so
    const Report depot = kb().check({"Sublocade", "vandetanib"});
    const auto d = find_warning(depot, "sublocade-qt-torsades-risk-drugs");
    ASSERT_TRUE(d.has_value());
    EXPECT_TRUE(contains(d->explanation,
                         "supersedes the more general rule buprenorphine-qt-torsades-risk-drugs for this pair"));
    EXPECT_FALSE(find_warning(depot, "buprenorphine-qt-torsades-risk-drugs").has_value());
    // buprenorphine is not itself made a QT-prolonging drug
    EXPECT_FALSE(contains(kb().classes_of("buprenorphine"), "qt-prolonging-drugs"));
}

TEST(Issue12bRules, CannabinoidsAreCnsDepressants) {
    for (const char* s : {"dronabinol", "nabilone"}) {
        const auto classes = kb().classes_of(s);
        EXPECT_TRUE(contains(classes, "cannabinoid-cns-depressants")) << s;
        EXPECT_TRUE(contains(classes, "cns-depressants")) << s;
        const auto b = find_warning(kb().check({"buprenorphine", s}), "buprenorphine-cns-depressants");
        ASSERT_TRUE(b.has_value()) << s;
        EXPECT_EQ(b->severity, Severity::Major) << s;
        EXPECT_TRUE(cites(*b, "lf-s40")) << s;
        const auto m = find_warning(kb().check({"methadone", s}), "methadone-cns-depressants");
        ASSERT_TRUE(m.has_value()) << s;
        EXPECT_EQ(m->severity, Severity::Major) << s;
        // an opioid antagonist has no CNS-depressant rule
        EXPECT_TRUE(kb().check({"naloxone", s}).warnings().empty()) << s;
    }
}

TEST(Issue12bRules, MipomersenCarriesBoxedHepatotoxicity) {
    EXPECT_TRUE(contains(kb().classes_of("mipomersen"), "boxed-hepatotoxicity-drugs"));
    const auto w = find_warning(kb().check({"naltrexone", "mipomersen"}), "naltrexone-boxed-hepatotoxicity-drugs");
    ASSERT_TRUE(w.has_value());
    EXPECT_EQ(w->severity, Severity::Major);
    EXPECT_TRUE(cites(*w, "lf-s65"));
}

// Tier-2 partners (label: caution or ECG monitoring with QT-prolonging drugs) get the moderate rule;
// one per family: kinase inhibitor, androgen deprivation, S1P modulator, somatostatin analogue, 5-HT3
// antagonist, arsenic trioxide.
TEST(Issue12bRules, BuprenorphineWithTierTwoIsModerate) {
    for (const char* partner : {"osimertinib", "degarelix", "siponimod", "pasireotide", "granisetron", "arsenic-trioxide"}) {
        const Report r = kb().check({"buprenorphine", partner});
        const auto w = find_warning(r, "buprenorphine-qt-labelled-prolongation-drugs");
        ASSERT_TRUE(w.has_value()) << partner;
        EXPECT_EQ(w->severity, Severity::Moderate) << partner;
        EXPECT_TRUE(cites(*w, "lf-s47"));
        EXPECT_TRUE(cites(*w, "i12-tagrisso-us-mirror"));
        EXPECT_FALSE(find_warning(r, "buprenorphine-qt-torsades-risk-drugs").has_value()) << partner;
    }
    // for the depot the product rule (same severity) replaces the substance rule
    const Report depot = kb().check({"Sublocade", "osimertinib"});
    EXPECT_TRUE(find_warning(depot, "sublocade-qt-prolonging-drugs").has_value());
    EXPECT_FALSE(find_warning(depot, "buprenorphine-qt-labelled-prolongation-drugs").has_value());
    // a tier-1 partner gets the major rule only, a review-listed partner neither
    EXPECT_FALSE(find_warning(kb().check({"buprenorphine", "vandetanib"}), "buprenorphine-qt-labelled-prolongation-drugs")
                     .has_value());
    EXPECT_FALSE(find_warning(kb().check({"buprenorphine", "sertraline"}), "buprenorphine-qt-labelled-prolongation-drugs")
                     .has_value());
}

TEST(Issue12bRules, OzanimodLowersPulseWithLofexidine) {
    const auto classes = kb().classes_of("ozanimod");
    EXPECT_TRUE(contains(classes, "s1p-modulators-heart-rate-lowering"));
    EXPECT_TRUE(contains(classes, "bp-or-pulse-lowering-drugs"));
    EXPECT_FALSE(contains(classes, "qt-prolonging-drugs"));
    const auto w = find_warning(kb().check({"lofexidine", "ozanimod"}), "lofexidine-bp-or-pulse-lowering-drugs");
    ASSERT_TRUE(w.has_value());
    EXPECT_EQ(w->severity, Severity::Contraindicated);
    EXPECT_TRUE(cites(*w, "lf-s80"));
    // no QT or opioid rule reaches ozanimod
    EXPECT_TRUE(kb().check({"methadone", "ozanimod"}).warnings().empty());
}

// Issue 12, data round 3 (sources in data/sources-issue12c.json, new substances in
// data/substances-issue12c.json, tiers in data/qt-tiers.json): QT tiers placed from label text that was
// read in this round, and two dose-form names (liposomal morphine, topical doxepin).

const char* const kPromotedFromReviewListed[] = {"cisapride",     "ibutilide",    "mesoridazine", "gatifloxacin",
                                                 "grepafloxacin", "sparfloxacin", "procainamide"};

TEST(Issue12cRules, PromotedDrugsLeaveTheReviewTierAndItsModeratePairs) {
    for (const char* s : kPromotedFromReviewListed) {
        EXPECT_FALSE(contains(kb().members_of("qt-review-listed-drugs"), s)) << s;
        // with a review-listed partner the pair is now the label-documented major rule, not the moderate one
        const Report r = kb().check({s, "sumatriptan"});
        const auto w = find_warning(r, "qt-prolonging-drugs-combination");
        ASSERT_TRUE(w.has_value()) << s;
        EXPECT_EQ(w->severity, Severity::Major) << s;
        EXPECT_FALSE(find_warning(r, "qt-prolonging-drugs-any-combination").has_value()) << s;
    }
    // the tier decides what buprenorphine gets: tier 1 major, tier 2 moderate
    const auto cis = find_warning(kb().check({"buprenorphine", "cisapride"}), "buprenorphine-qt-torsades-risk-drugs");
    ASSERT_TRUE(cis.has_value());
    EXPECT_EQ(cis->severity, Severity::Major);
    const Report pro = kb().check({"buprenorphine", "procainamide"});
    const auto p = find_warning(pro, "buprenorphine-qt-labelled-prolongation-drugs");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->severity, Severity::Moderate);
    EXPECT_FALSE(find_warning(pro, "buprenorphine-qt-torsades-risk-drugs").has_value());
    // cabozantinib stays review-listed (its label states a QTcF increase but asks for no caution):
    // no buprenorphine QT rule
    EXPECT_TRUE(contains(kb().members_of("qt-review-listed-drugs"), "cabozantinib"));
    EXPECT_FALSE(find_warning(kb().check({"buprenorphine", "cabozantinib"}), "buprenorphine-qt-torsades-risk-drugs")
                     .has_value());
}

TEST(Issue12cRules, NewTierOneDrugsMeetMethadoneBuprenorphineAndLofexidine) {
    for (const char* s : {"terfenadine", "astemizole", "pazopanib", "inotuzumab ozogamicin"}) {
        const auto m = find_warning(kb().check({"methadone", s}), "methadone-qt-prolonging-drugs");
        ASSERT_TRUE(m.has_value()) << s;
        EXPECT_EQ(m->severity, Severity::Major) << s;
        const auto b = find_warning(kb().check({"buprenorphine", s}), "buprenorphine-qt-torsades-risk-drugs");
        ASSERT_TRUE(b.has_value()) << s;
        EXPECT_EQ(b->severity, Severity::Major) << s;
        const auto l = find_warning(kb().check({"lofexidine", s}), "qt-prolonging-drugs-combination");
        ASSERT_TRUE(l.has_value()) << s;
        EXPECT_EQ(l->severity, Severity::Major) << s;
    }
    // pazopanib keeps its boxed-hepatotoxicity membership next to the QT tier
    EXPECT_TRUE(contains(kb().classes_of("pazopanib"), "boxed-hepatotoxicity-drugs"));
    // the new substances carry the identifiers of the DrugBank open vocabulary
    const Resolution t = kb().resolve("DB00342");
    EXPECT_TRUE(t.resolved);
    EXPECT_EQ(t.id, "terfenadine");
}

TEST(Issue12cRules, PapaverineIsReviewListed) {
    const auto m = find_warning(kb().check({"methadone", "papaverine hydrochloride"}), "methadone-qt-prolonging-drugs");
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->severity, Severity::Major);
    const auto l = find_warning(kb().check({"lofexidine", "papaverine"}), "qt-prolonging-drugs-combination");
    ASSERT_TRUE(l.has_value());
    EXPECT_EQ(l->severity, Severity::Major);
    const auto s = find_warning(kb().check({"papaverine", "sumatriptan"}), "qt-prolonging-drugs-any-combination");
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->severity, Severity::Moderate);
    // neither buprenorphine label asks for a warning with a review-listed drug
    EXPECT_TRUE(kb().check({"buprenorphine", "papaverine"}).warnings().empty());
}

TEST(Issue12cRules, DoseFormNamesResolveToTheirSubstance) {
    for (const char* name : {"Morphine (liposomal)", "liposomal morphine"}) {
        const Resolution r = kb().resolve(name);
        EXPECT_TRUE(r.resolved) << name;
        EXPECT_EQ(r.id, "morphine") << name;
        const auto w = find_warning(kb().check({"naltrexone", name}), "naltrexone-opioids");
        ASSERT_TRUE(w.has_value()) << name;
        EXPECT_EQ(w->severity, Severity::Contraindicated) << name;
    }
    const Resolution d = kb().resolve("Doxepin (topical)");
    EXPECT_TRUE(d.resolved);
    EXPECT_EQ(d.id, "doxepin");
    const auto c = find_warning(kb().check({"clonidine", "topical doxepin"}), "clonidine-tricyclic-antidepressants");
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->severity, Severity::Moderate);
}

}  // namespace
