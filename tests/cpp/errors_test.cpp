#include "test_support.hpp"

#include <gtest/gtest.h>

using namespace rxcaution;

TEST(Errors, HierarchyLetsCallersCatchByCause) {
    try {
        (void)KnowledgeBase::load(rxtest::data_path("invalid_parse.json"));
        FAIL() << "expected a ParseError";
    } catch (const DataError& e) {
        EXPECT_NE(dynamic_cast<const ParseError*>(&e), nullptr);
        EXPECT_NE(dynamic_cast<const Error*>(&e), nullptr);
        EXPECT_EQ(e.file(), rxtest::data_path("invalid_parse.json"));
    }
}

TEST(Errors, NotFoundErrorListsSuggestions) {
    try {
        (void)rxtest::kb().interactions_between("ketamin", "methadone");
        FAIL() << "expected NotFoundError";
    } catch (const NotFoundError& e) {
        EXPECT_EQ(e.key(), "ketamin");
        ASSERT_FALSE(e.suggestions().empty());
        EXPECT_EQ(e.suggestions().front(), "ketamine");
        EXPECT_EQ(std::string(e.what()).rfind("unknown medication \"ketamin\"; did you mean \"ketamine\"", 0), 0u)
            << e.what();
    }
}

TEST(Errors, NotFoundErrorForUnknownIdHasPlainMessage) {
    try {
        (void)rxtest::kb().substance("no-such-drug");
        FAIL();
    } catch (const NotFoundError& e) {
        EXPECT_STREQ(e.what(), "unknown substance \"no-such-drug\"");
        EXPECT_TRUE(e.suggestions().empty());
    }
}

TEST(Errors, MessageFormats) {
    EXPECT_STREQ(SchemaError("f.json", "/a/0", "a string", "number 3").what(), "f.json:/a/0: expected a string, got number 3");
    EXPECT_STREQ(UnsupportedFormatVersion("m.json", 2, 1).what(),
                 "m.json: format_version 2 is not supported (this library reads 1)");
    EXPECT_STREQ(IntegrityError("m.json", {"a.json:/x: bad"}).what(), "m.json: 1 problem in the pack:\n  a.json:/x: bad");
    EXPECT_STREQ(ParseError("p.json", 3, 7, 40, "boom").what(), "p.json:3:7: invalid JSON at byte 40: boom");
}
