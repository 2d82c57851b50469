#include "test_support.hpp"

#include "detail/impl.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace rxcaution;
using rxtest::kb;

namespace {
void expect_resolves(const std::string& text, const std::string& id, const std::string& by) {
    const Resolution r = kb().resolve(text);
    EXPECT_TRUE(r.resolved) << text;
    EXPECT_EQ(r.id, id) << text;
    EXPECT_EQ(r.matched_by, by) << text;
    EXPECT_EQ(r.input, text);
}
}  // namespace

TEST(Resolve, NamesAreCaseAndSpaceInsensitive) {
    expect_resolves("methadone", "methadone", "name");
    expect_resolves("  METHADONE ", "methadone", "name");
    expect_resolves("Ketamine", "ketamine", "name");
    expect_resolves("st-johns-wort", "st-johns-wort", "name");
}

TEST(Resolve, BrandsResolveToProductsWithIngredients) {
    const Resolution r = kb().resolve("Suboxone");
    EXPECT_TRUE(r.resolved);
    EXPECT_EQ(r.kind, EntityKind::Product);
    EXPECT_EQ(r.id, "suboxone");
    EXPECT_EQ(r.matched_by, "brand");
    EXPECT_EQ(r.ingredients, (std::vector<std::string>{"buprenorphine", "naloxone"}));
    ASSERT_EQ(r.not_checked.size(), 1u);
    EXPECT_EQ(r.not_checked[0].rfind("naloxone: ", 0), 0u);
    expect_resolves("Subutex", "subutex", "brand");
    expect_resolves("vivitrol", "vivitrol", "brand");
    expect_resolves("Xanax", "xanax", "brand");
}

TEST(Resolve, SaltFormsResolveToTheIngredient) {
    expect_resolves("methadone hydrochloride", "methadone", "salt");
    expect_resolves("Methadone HCl", "methadone", "salt");
    expect_resolves("morphine sulfate", "morphine", "salt");
    // A salt the pack does not list still resolves by stripping the salt word.
    expect_resolves("ketamine hydrobromide", "ketamine", "salt");
}

TEST(Resolve, DoseAndFormWordsAreIgnored) {
    expect_resolves("methadone 10 mg tablet", "methadone", "normalized");
    expect_resolves("Suboxone 8mg/2mg sublingual film", "suboxone", "normalized");
}

TEST(Resolve, SynonymsAndIdentifiers) {
    expect_resolves("ethanol", "alcohol", "synonym");
    expect_resolves("St. John's wort", "st-johns-wort", "name");
    expect_resolves("6813", "methadone", "rxcui");
    expect_resolves("RxCUI:6813", "methadone", "rxcui");
    expect_resolves("DB00333", "methadone", "drugbank");
    expect_resolves("1996189", "sublocade", "rxcui");
}

TEST(Resolve, MisspellingsStayUnresolvedWithRankedSuggestions) {
    Resolution r = kb().resolve("ketamin");
    EXPECT_FALSE(r.resolved);
    EXPECT_EQ(r.id, "");
    ASSERT_FALSE(r.suggestions.empty());
    EXPECT_LE(r.suggestions.size(), 3u);
    EXPECT_EQ(r.suggestions[0], "ketamine");
    r = kb().resolve("suboxon");
    ASSERT_FALSE(r.suggestions.empty());
    EXPECT_EQ(r.suggestions[0], "Suboxone");
    r = kb().resolve("methadon");
    ASSERT_FALSE(r.suggestions.empty());
    EXPECT_EQ(r.suggestions[0], "methadone");
    r = kb().resolve("qwertyuiop");
    EXPECT_FALSE(r.resolved);
    EXPECT_TRUE(r.suggestions.empty());
    EXPECT_FALSE(kb().resolve("").resolved);
}

TEST(Resolve, ConditionsBySynonym) {
    ConditionResolution c = kb().resolve_condition("high blood pressure");
    EXPECT_TRUE(c.resolved);
    EXPECT_EQ(c.id, "hypertension");
    EXPECT_EQ(kb().resolve_condition("Long QT syndrome").id, "long-qt-syndrome");
    EXPECT_EQ(kb().resolve_condition("current opioid dependence").id, "current-opioid-dependence");
    EXPECT_EQ(kb().resolve_condition("severe hepatic impairment").id, "severe-hepatic-impairment");
    c = kb().resolve_condition("hypertensoin");
    EXPECT_FALSE(c.resolved);
    ASSERT_FALSE(c.suggestions.empty());
    EXPECT_EQ(c.suggestions[0], kb().condition("hypertension").name);
}

// Loading adds a pack name without normalising it when it is normalised already: the test that
// decides this must agree with normalize_name on every text, or a name would be indexed under a
// key no lookup produces.
TEST(Resolve, AlreadyNormalisedNamesAreRecognisedExactly) {
    using rxcaution::detail::is_normalized_name;
    using rxcaution::detail::normalize_name;
    for (const std::string text : {"methadone", "st johns wort", "st-johns-wort", "St John's wort", "methadone ",
                                   " methadone", "a  b", "a b", "", " ", "5 htp", "caf\xc3\xa9ine", "'", "x'y", "A",
                                   "buprenorphine hydrochloride", "rxcui 1819", "DB00333"}) {
        EXPECT_EQ(is_normalized_name(text), !text.empty() && normalize_name(text) == text) << '"' << text << '"';
    }
    // Random texts over the bytes that matter (letters of both cases, digits, separators, an
    // apostrophe, a non-ASCII byte), short enough that every shape occurs.
    const std::string alphabet = "aZ09 -'.\xc3";
    std::mt19937 rng(20261130);
    for (int i = 0; i < 20000; ++i) {
        std::string text(rng() % 6, ' ');
        for (char& c : text) c = alphabet[rng() % alphabet.size()];
        ASSERT_EQ(is_normalized_name(text), !text.empty() && normalize_name(text) == text) << '"' << text << '"';
    }
}
