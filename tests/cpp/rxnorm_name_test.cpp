// RxNorm-style names (SCD, SBD, SCDF, SBDF, GPCK, BPCK) as EHRs and CDS Hooks clients send them:
// a table of real strings (RxNorm display names seen in public FHIR examples, RxNav outputs and
// the issue), parsed into ingredients and brand, and resolved through the pack and the vocabulary.

#include "detail/rxnorm_name.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>

using namespace rxcaution;
using rxcaution::detail::parse_rxnorm_name;
using rxtest::kb;

namespace {
struct Row {
    std::string text;
    std::vector<std::string> ingredients;
    std::string brand;
    bool pack;
};

std::vector<std::string> strings(const std::vector<std::string_view>& v) { return {v.begin(), v.end()}; }
}  // namespace

TEST(RxnormName, RealNamesParseIntoIngredientsAndBrand) {
    const std::vector<Row> table = {
        {"alprazolam 0.5 MG Oral Tablet [Xanax]", {"alprazolam"}, "Xanax", false},
        {"naltrexone hydrochloride 50 MG Oral Tablet [Revia]", {"naltrexone hydrochloride"}, "Revia", false},
        {"acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet", {"acetaminophen", "oxycodone hydrochloride"}, "", false},
        {"72 HR fentanyl 0.025 MG/HR Transdermal System", {"fentanyl"}, "", false},
        {"72 HR Fentanyl 0.075 MG/HR Transdermal System", {"Fentanyl"}, "", false},
        {"12 HR clonidine hydrochloride 0.1 MG Extended Release Oral Tablet", {"clonidine hydrochloride"}, "", false},
        {"{30 (buprenorphine 8 MG / naloxone 2 MG Sublingual Tablet) } Pack", {"buprenorphine", "naloxone"}, "", true},
        {"Methadone Hydrochloride 10 MG Oral Tablet", {"Methadone Hydrochloride"}, "", false},
        {"{2 (dasabuvir 250 MG Oral Tablet) / 2 (ombitasvir 12.5 MG / paritaprevir 75 MG / ritonavir 50 MG Oral Tablet) } "
         "Pack [Viekira Pak]",
         {"dasabuvir", "ombitasvir", "paritaprevir", "ritonavir"}, "Viekira Pak", true},
        {"{14 (estrogens, conjugated (USP) 0.625 MG / medroxyprogesterone acetate 5 MG Oral Tablet) / 14 (estrogens, "
         "conjugated (USP) 0.625 MG Oral Tablet) } Pack [Premphase 28 Day]",
         {"estrogens, conjugated (USP)", "medroxyprogesterone acetate"}, "Premphase 28 Day", true},
        {"{21 (ETHINYL ESTRADIOL 0.035 MG / NORGESTIMATE 0.25 MG ORAL TABLET) / 7 (INERT INGREDIENTS 1 MG ORAL TABLET) } "
         "PACK [MONO-LINYAH 28 DAY]",
         {"ETHINYL ESTRADIOL", "NORGESTIMATE"}, "MONO-LINYAH 28 DAY", true},
        {"{7 (Inert Ingredients 1 MG Oral Tablet) / 21 (Mestranol 0.05 MG / Norethindrone 1 MG Oral Tablet) } Pack "
         "[Norinyl 1+50 28 Day]",
         {"Mestranol", "Norethindrone"}, "Norinyl 1+50 28 Day", true},
        {"{100 (Acetaminophen 250 MG / Aspirin 250 MG / Caffeine 65 MG Oral Tablet [Excedrin]) / 24 (Acetaminophen 250 MG "
         "/ Aspirin 250 MG / Diphenhydramine Citrate 38 MG Oral Tablet [Excedrin PM Triple Action]) } Pack [Excedrin PM "
         "Triple Action Caplets and Excedrin Extra Strength Pain Reliever]",
         {"Acetaminophen", "Aspirin", "Caffeine", "Diphenhydramine Citrate"},
         "Excedrin PM Triple Action Caplets and Excedrin Extra Strength Pain Reliever", true},
        {"{28 (norethindrone 0.35 MG) } Pack [Jolivette]", {"norethindrone"}, "Jolivette", true},
        {"1 ML Morphine Sulfate 15 MG/ML Cartridge", {"Morphine Sulfate"}, "", false},
        {"200 ACTUAT albuterol 90 MCG/ACTUAT Inhaler", {"albuterol"}, "", false},
        {"120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler", {"Fluticasone propionate"}, "", false},
        {"Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler", {"Albuterol"}, "", false},
        {"Nitroglycerin 0.4 MG/ACTUAT Sublingual Spray", {"Nitroglycerin"}, "", false},
        {"sodium fluoride 0.0272 MG/MG Oral Gel", {"sodium fluoride"}, "", false},
        {"Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet", {"Amoxicillin", "Clavulanate"}, "", false},
        {"Warfarin Sodium 4 MG Oral Tablet", {"Warfarin Sodium"}, "", false},
        {"Ibuprofen 800 MG Extended Release Oral Tablet", {"Ibuprofen"}, "", false},
        {"insulin glargine 100 UNT/ML Injectable Solution", {"insulin glargine"}, "", false},
        {"hydrocortisone 1 % Topical Cream", {"hydrocortisone"}, "", false},
        // SCDF / SBDF: no strength.
        {"acetaminophen / oxycodone Oral Tablet", {"acetaminophen", "oxycodone"}, "", false},
        {"oxycodone Oral Tablet [Roxicodone]", {"oxycodone"}, "Roxicodone", false},
        {"Metformin / pioglitazone", {"Metformin", "pioglitazone"}, "", false},
    };
    for (const auto& row : table) {
        const auto parsed = parse_rxnorm_name(row.text);
        ASSERT_TRUE(parsed.has_value()) << row.text;
        EXPECT_EQ(strings(parsed->ingredients), row.ingredients) << row.text;
        EXPECT_EQ(parsed->brand, row.brand) << row.text;
        EXPECT_EQ(parsed->pack, row.pack) << row.text;
    }
}

TEST(RxnormName, PlainNamesAreNotRxnormNames) {
    for (const char* text : {"warfarin", "naltrexone oral tablet", "severe", "", "   ", "[Xanax]", "{ } Pack", "{30 (x"})
        EXPECT_FALSE(parse_rxnorm_name(text).has_value()) << text;
}

TEST(RxnormName, HostileInputCostsLinearTime) {
    // Each shape would be quadratic for a parser that rescans: separators, nesting, brackets,
    // numbers. Quadratic work on 100 kB is ~10^10 steps (many seconds); linear work is a few
    // milliseconds (tens under sanitizers). The bound sits far between, so that it holds on a
    // loaded machine and under TSan; a ratio of sizes is not used because cache effects alone
    // make 10x the text cost up to 40x the time.
    auto shape = [](int which, std::size_t size) {
        std::string text;
        switch (which) {
            case 0:
                for (int k = 0; text.size() < size; ++k) {
                    text += 'x';
                    text += std::to_string(k);
                    text += " 1 MG / ";
                }
                break;
            case 1:
                text.append(size / 2, '{');
                text.append(size / 2, '}');
                break;
            case 2:
                text.append(size / 2, '[');
                text += 'x';
                text.append(size / 2, ']');
                break;
            case 3:
                text += '{';
                text.append(size, '(');
                text += "} Pack";
                break;
            default:
                while (text.size() < size) text += "1 ";
        }
        return text;
    };
    (void)kb().resolve("warfarin");  // the vocabulary is parsed on first use: not part of the timing
    auto cost = [](const std::string& text) {
        double best = 1e9;
        for (int run = 0; run < 3; ++run) {
            const auto start = std::chrono::steady_clock::now();
            (void)parse_rxnorm_name(text);
            const Resolution r = kb().resolve(text);
            best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
            EXPECT_FALSE(r.resolved) << text.substr(0, 40);
        }
        return best;
    };
    for (int which = 0; which < 5; ++which) {
        const double ms = cost(shape(which, 100000));
        EXPECT_LT(ms, 2000.0) << "shape " << which;
    }
    // More ingredients than kMaxRxnormIngredients: not taken as a name at all.
    EXPECT_FALSE(parse_rxnorm_name(shape(0, 100000)).has_value());
}

TEST(RxnormName, IssueStringsResolveToTheirIngredients) {
    auto check = [](const std::string& text, EntityKind kind, const std::string& id, const std::string& by,
                    const std::vector<std::string>& ingredients) {
        const Resolution r = kb().resolve(text);
        EXPECT_TRUE(r.resolved) << text;
        EXPECT_EQ(r.kind, kind) << text;
        EXPECT_EQ(r.id, id) << text;
        EXPECT_EQ(r.matched_by, by) << text;
        EXPECT_EQ(r.ingredients, ingredients) << text;
        EXPECT_EQ(r.coverage, Coverage::Covered) << text;
    };
    check("alprazolam 0.5 MG Oral Tablet [Xanax]", EntityKind::Product, "xanax", "rxnorm-brand", {"alprazolam"});
    check("naltrexone hydrochloride 50 MG Oral Tablet [Revia]", EntityKind::Product, "revia", "rxnorm-brand", {"naltrexone"});
    check("acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet", EntityKind::Product, "", "rxnorm-name",
          {"acetaminophen", "oxycodone"});
    check("72 HR fentanyl 0.025 MG/HR Transdermal System", EntityKind::Substance, "fentanyl", "rxnorm-name", {"fentanyl"});
    check("12 HR clonidine hydrochloride 0.1 MG Extended Release Oral Tablet", EntityKind::Substance, "clonidine",
          "rxnorm-name", {"clonidine"});
    check("{30 (buprenorphine 8 MG / naloxone 2 MG Sublingual Tablet) } Pack", EntityKind::Product, "", "rxnorm-name",
          {"buprenorphine", "naloxone"});
    // Still resolved as before, by the pack's own rewrites.
    check("Methadone Hydrochloride 10 MG Oral Tablet", EntityKind::Substance, "methadone", "normalized", {"methadone"});
}

TEST(RxnormName, IngredientsOutsideThePackAreListedAsNotChecked) {
    const Resolution r = kb().resolve(
        "{100 (Acetaminophen 250 MG / Aspirin 250 MG / Caffeine 65 MG Oral Tablet [Excedrin]) / 24 (Acetaminophen 250 MG "
        "/ Aspirin 250 MG / Diphenhydramine Citrate 38 MG Oral Tablet [Excedrin PM Triple Action]) } Pack [Excedrin PM "
        "Triple Action Caplets and Excedrin Extra Strength Pain Reliever]");
    ASSERT_TRUE(r.resolved);
    EXPECT_EQ(r.matched_by, "rxnorm-name");
    EXPECT_EQ(r.ingredients, (std::vector<std::string>{"acetaminophen", "diphenhydramine"}));
    EXPECT_EQ(r.name, "acetaminophen / Acetylsalicylic acid / Caffeine / diphenhydramine");
    ASSERT_EQ(r.not_checked_ingredients.size(), 2u);
    EXPECT_EQ(r.not_checked_ingredients[0].substance, "Aspirin");
    EXPECT_EQ(r.not_checked_ingredients[0].reason,
              "recognised as Acetylsalicylic acid (DrugBank DB00945), but this pack has no rules for it");
    EXPECT_EQ(r.coverage, Coverage::Covered);
    // An ingredient nobody knows is said so; the others are still checked.
    const Resolution u = kb().resolve("zzqx 5 MG / oxycodone 5 MG Oral Tablet");
    ASSERT_TRUE(u.resolved);
    EXPECT_EQ(u.ingredients, std::vector<std::string>{"oxycodone"});
    EXPECT_EQ(u.not_checked, std::vector<std::string>{"zzqx: not recognised by the pack or its vocabulary, so not checked"});
    // An ingredient whose name several vocabulary drugs share is not guessed.
    const Resolution a = kb().resolve("salbutamol 0.1 MG/ACTUAT / oxycodone 5 MG Oral Tablet");
    ASSERT_TRUE(a.resolved);
    EXPECT_EQ(a.not_checked,
              std::vector<std::string>{"salbutamol: names several drugs of the vocabulary, so it was not guessed and not checked"});
    // Every ingredient outside the pack: recognised, no rules.
    const Resolution n = kb().resolve("Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet");
    EXPECT_TRUE(n.resolved);
    EXPECT_EQ(n.coverage, Coverage::NoRules);
    EXPECT_TRUE(n.ingredients.empty());
}

TEST(RxnormName, MultiIngredientStringsAreCheckedThroughEveryIngredient) {
    const Report report = kb().check({"ketamine", "acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet"});
    const auto w = rxtest::find_warning(report, "ketamine-cns-depressants");
    ASSERT_TRUE(w.has_value());
    EXPECT_EQ(w->substances, (std::vector<std::string>{"ketamine", "oxycodone"}));
    EXPECT_TRUE(rxtest::contains(w->explanation,
                                 "'acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet' resolved by its "
                                 "RxNorm-style name to acetaminophen / oxycodone, whose checked ingredients are "
                                 "acetaminophen and oxycodone"));
    // The same ingredient twice, once through a pack: a duplicate-ingredient warning, as for products.
    const Report dup = kb().check({"{30 (buprenorphine 8 MG / naloxone 2 MG Sublingual Tablet) } Pack", "buprenorphine"});
    EXPECT_TRUE(rxtest::contains(rxtest::rule_ids(dup), "duplicate-ingredient"));
}
