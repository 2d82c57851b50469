// The fast JSON tokenizer (src/detail/json_tokenizer.hpp) against nlohmann's SAX parser: the same
// verdict (accept/reject) and the same events for every input — hand-written edge cases, the
// test packs, and many deterministic mutations of them — read whole or in chunks of every small
// size; and through the pack reader's plumbing (stream_json), the same consumer events or the
// same ParseError (message, line, column, byte) as the nlohmann-only reader.
#include "detail/json_reader.hpp"
#include "detail/json_tokenizer.hpp"
#include "../fuzz/json_event_recorder.hpp"
#include "test_support.hpp"

#include <rxcaution/errors.hpp>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace rxcaution;
using namespace rxcaution::detail;
using rxtest::read_file;

namespace {


using Recorder = rxcaution_fuzz::JsonEventRecorder;

struct Verdict {
    bool accepted;
    std::vector<std::string> events;
};

Verdict by_nlohmann(std::string_view text) {
    Recorder r;
    const bool ok = rxcaution_fuzz::record_with_nlohmann(text, r);
    return {ok, std::move(r.events)};
}

Verdict by_tokenizer(std::string_view text) {
    Recorder r;
    JsonTokenizer t(text);
    const bool ok = t.parse(r);
    return {ok, std::move(r.events)};
}

Verdict by_tokenizer_chunks(std::string_view text, std::size_t chunk, std::size_t buffer) {
    std::size_t at = 0;
    const JsonTokenizer::Read read = [&](char* out, std::size_t capacity) {
        const std::size_t n = std::min({capacity, chunk, text.size() - at});
        std::memcpy(out, text.data() + at, n);
        at += n;
        return n;
    };
    Recorder r;
    JsonTokenizer t(read, buffer);
    const bool ok = t.parse(r);
    return {ok, std::move(r.events)};
}

// The input as ASCII with every other byte as \xNN, cut at 300 characters: for failure messages.
std::string escaped(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        if (c >= 0x20 && c < 0x7F) out += static_cast<char>(c);
        else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
        }
    }
    return out.size() > 300 ? out.substr(0, 300) + "..." : out;
}

// Same verdict; same events when accepted.
void expect_agreement(std::string_view text, bool chunked = true) {
    const Verdict reference = by_nlohmann(text);
    const Verdict fast = by_tokenizer(text);
    ASSERT_EQ(fast.accepted, reference.accepted) << "input: " << escaped(text);
    if (reference.accepted) {
        ASSERT_EQ(fast.events, reference.events) << "input: " << escaped(text);
    }
    if (!chunked) return;
    for (std::size_t chunk : {1, 2, 3, 5, 7, 64}) {
        const Verdict pieces = by_tokenizer_chunks(text, chunk, chunk < 8 ? 8 : chunk);
        ASSERT_EQ(pieces.accepted, reference.accepted) << "chunk " << chunk << ", input: " << escaped(text);
        if (reference.accepted) {
            ASSERT_EQ(pieces.events, reference.events) << "chunk " << chunk;
        }
    }
}

std::vector<std::string> corpus() {
    std::vector<std::string> out;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(RXCAUTION_TEST_DATA_DIR))
        if (entry.is_regular_file() && entry.path().extension() == ".json") out.push_back(read_file(entry.path()));
    return out;
}

// Records what a pack consumer is told: pointer and value of every event.
class ConsumerLog final : public JsonConsumer {
public:
    std::vector<std::string> log;
    void null(const std::string& p) override { log.push_back(p + " null"); }
    void boolean(const std::string& p, bool v) override { log.push_back(p + (v ? " true" : " false")); }
    void integer(const std::string& p, long long v) override { log.push_back(p + " int " + std::to_string(v)); }
    void number(const std::string& p, double, const std::string& text) override { log.push_back(p + " num " + text); }
    void string(const std::string& p, std::string& v) override { log.push_back(p + " str " + v); }
    void start_object(const std::string& p) override { log.push_back(p + " {"); }
    void key(const std::string& p, std::string& k) override { log.push_back(p + " key " + k); }
    void end_object(const std::string& p) override { log.push_back(p + " }"); }
    void start_array(const std::string& p) override { log.push_back(p + " ["); }
    void end_array(const std::string& p) override { log.push_back(p + " ]"); }
};

// What the pack reader's plumbing makes of a text: the consumer's log, or the ParseError.
std::string through_reader(std::string_view text, bool fast) {
    ConsumerLog log;
    try {
        if (fast) stream_json("f.json", text, std::size_t{1} << 30, log);
        else stream_json_nlohmann("f.json", text, log);
    } catch (const ParseError& e) {
        return "ParseError " + std::string(e.what()) + " @" + std::to_string(e.line()) + ":" +
               std::to_string(e.column()) + ":" + std::to_string(e.byte_offset());
    }
    std::string out;
    for (const auto& l : log.log) out += l + "\n";
    return out;
}

}  // namespace

TEST(JsonTokenizer, AgreesWithNlohmannOnEdgeCases) {
    const std::vector<std::string> cases = {
        "", " ", "{}", "[]", "{} ", " \t\r\n{}\n", "{}x", "{},", "{}{}", "[1,]", "[,1]", "{\"a\":1,}", "{,}",
        "{\"a\"}", "{\"a\" 1}", "{\"a\":}", "{1:2}", "[1 2]", "[", "]", "{", "}", "\"", "\"abc", "\"abc\"",
        "true", "false", "null", "tru", "nul", "truex", "[true,false,null]", "True", "NaN", "Infinity", "-Infinity",
        "0", "-0", "00", "01", "-01", "1.", ".5", "1.5", "-1.5e10", "1e5", "1E+5", "1e-5", "1e", "1e+", "-", "+1",
        "1.5.5", "0x10", "123456789012345678901234567890", "-123456789012345678901234567890",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "18446744073709551616", "1e308", "1e309", "-1e400", "1e-400", "2.5e-320",
        "[1e999]", "0.000000000000000000000000000001", "[-]", "[1,2,3]",
        "\"\\u0000\"", "\"\\u00e9\"", "\"\\uD83D\\uDE00\"", "\"\\uD83D\"", "\"\\uDE00\"", "\"\\uD83Dx\"",
        "\"\\uD83D\\u0041\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\x\"", "\"\\'\"", "\"\\/\\b\\f\\n\\r\\t\\\\\\\"\"",
        "\"a\tb\"", "\"a\nb\"", "\"\x7F\"", "\"\xC3\xA9\"", "\"\xC3\"", "\"\xC3(\"", "\"\xC0\x80\"", "\"\xC1\xBF\"",
        "\"\xE0\x9F\x80\"", "\"\xE0\xA0\x80\"", "\"\xED\x9F\xBF\"", "\"\xED\xA0\x80\"", "\"\xEF\xBF\xBF\"",
        "\"\xF0\x8F\xBF\xBF\"", "\"\xF0\x90\x80\x80\"", "\"\xF4\x8F\xBF\xBF\"", "\"\xF4\x90\x80\x80\"",
        "\"\xF5\x80\x80\x80\"", "\"\xFF\"", "\"\x80\"", "\"\xE2\x82\"", "\"\xE2\x82\xAC\"",
        "\xEF\xBB\xBF{}", "\xEF\xBB{}", "\xEF{}", "\xEF\xBB\xBF", "\xEF\xBB\xBF \"x\"",
        std::string("{}\0", 3), std::string("{} \0 x", 6), std::string("\0", 1), std::string("[\0]", 3),
        std::string("{\"a\":\0}", 7), std::string("\"a\0\"", 4), std::string("1\0", 2), std::string("tr\0e", 4),
        "{\"a\":{\"b\":[1,{\"c\":null}]},\"d\":\"e\"}", "{\"a\":1,\"a\":2}", "{\"\":\"\"}", "{\"a/b~c\":[]}",
        "/* c */{}", "{}// c", "'a'", "[\"a\",\"b\"]  \n  ", "\f{}", "\v{}", "\xA0{}",
    };
    for (const auto& text : cases) {
        SCOPED_TRACE(escaped(text));
        expect_agreement(text);
    }
}

TEST(JsonTokenizer, DeepNestingNeedsNoRecursion) {
    // nlohmann has no nesting limit and no recursion; neither has the tokenizer.
    const std::size_t depth = 200000;
    expect_agreement(std::string(depth, '[') + std::string(depth, ']'), false);
    expect_agreement(std::string(depth, '['), false);
    std::string objects;
    for (std::size_t i = 0; i < depth / 10; ++i) objects += "{\"a\":";
    objects += '1';
    objects.append(depth / 10, '}');
    expect_agreement(objects, false);
}

TEST(JsonTokenizer, HugeStringsAcrossChunks) {
    std::string s(1, '"');
    s.append(300000, 'x');
    s += "\xC3\xA9\\u00e9";
    s.append(70000, 'y');
    s += '"';
    expect_agreement(s, false);
    for (std::size_t chunk : {1, 3, 4096, 65536}) {
        const Verdict pieces = by_tokenizer_chunks(s, chunk, 16);
        EXPECT_TRUE(pieces.accepted);
        EXPECT_EQ(pieces.events, by_nlohmann(s).events);
    }
}

TEST(JsonTokenizer, AgreesOnTheTestPacksAndTheirMutations) {
    const auto packs = corpus();
    ASSERT_GE(packs.size(), 10u);
    std::mt19937_64 rng(20261130);
    const std::vector<std::string> tokens = {"{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\uD800", "\\uDC00",
                                             "1e999", "-", "0", "00", "1.5", "true", "null", " ", "\n", std::string(1, '\0'),
                                             "\xC3", "\xED\xA0\x80", "\xF4\x90", "\xEF\xBB\xBF", "e", "."};
    std::size_t accepted = 0, total = 0;
    for (const auto& pack : packs) {
        expect_agreement(pack);
        for (int i = 0; i < 400; ++i) {
            std::string text = pack;
            const int edits = 1 + static_cast<int>(rng() % 3);
            for (int e = 0; e < edits && !text.empty(); ++e) {
                const std::size_t at = rng() % text.size();
                switch (rng() % 4) {
                    case 0: text[at] = static_cast<char>(rng() % 256); break;
                    case 1: text.erase(at, 1 + rng() % 4); break;
                    case 2: text.insert(at, tokens[rng() % tokens.size()]); break;
                    default: text.resize(at); break;  // truncated
                }
            }
            const bool chunked = i % 20 == 0;  // every size of chunk is slow on whole packs
            expect_agreement(text, chunked);
            if (::testing::Test::HasFatalFailure()) return;
            accepted += by_nlohmann(text).accepted;
            ++total;
        }
    }
    // Both kinds of input were exercised.
    EXPECT_GT(accepted, total / 20);
    EXPECT_LT(accepted, total);
}

TEST(JsonTokenizer, RandomShortInputs) {
    std::mt19937_64 rng(7);
    const std::string alphabet = "{}[],:\"\\ 0123456789.-+eEtrufalsn\x01\x7F\xC3\xA9\xED\xF0\x90u";
    for (int i = 0; i < 30000; ++i) {
        std::string text;
        const std::size_t n = rng() % 24;
        for (std::size_t k = 0; k < n; ++k) text += alphabet[rng() % alphabet.size()];
        expect_agreement(text, i % 10 == 0);
        if (::testing::Test::HasFatalFailure()) return;
    }
}

TEST(JsonTokenizer, ThePackReaderGivesTheSameEventsOrTheSameParseError) {
    // stream_json (fast path, nlohmann only to explain) against stream_json_nlohmann: consumer
    // events with their pointers, or ParseError message, line, column and byte, all equal.
    const auto packs = corpus();
    std::mt19937_64 rng(99);
    for (const auto& pack : packs) {
        EXPECT_EQ(through_reader(pack, true), through_reader(pack, false));
        for (int i = 0; i < 100; ++i) {
            std::string text = pack;
            const std::size_t at = rng() % text.size();
            if (i % 2) text[at] = static_cast<char>(rng() % 256);
            else text.insert(at, i % 4 ? "\xC3" : "1e999");
            ASSERT_EQ(through_reader(text, true), through_reader(text, false)) << escaped(text);
        }
    }
}

namespace {

// stream_json_chunks over `text` served as a file serves it (every read filled up to its capacity),
// the reader throwing a DataError at the first read that starts at or after `fail_at`: the
// consumer's log, or the error.
std::string through_chunks(const std::string& text, std::size_t fail_at = std::string::npos) {
    const OpenChunks open = [&]() -> ReadChunk {
        auto at = std::make_shared<std::size_t>(0);
        return [&text, at, fail_at](char* out, std::size_t capacity) -> std::size_t {
            if (*at >= fail_at) throw DataError("f.json", "f.json: cannot read (test)");
            const std::size_t n = std::min(capacity, text.size() - *at);
            std::memcpy(out, text.data() + *at, n);
            *at += n;
            return n;
        };
    };
    ConsumerLog log;
    try {
        stream_json_chunks("f.json", open, log);
    } catch (const ParseError& e) {
        return "ParseError " + std::string(e.what()) + " @" + std::to_string(e.line()) + ":" +
               std::to_string(e.column()) + ":" + std::to_string(e.byte_offset());
    } catch (const DataError& e) {
        return "DataError " + std::string(e.what());
    }
    std::string out;
    for (const auto& l : log.log) out += l + "\n";
    return out;
}

}  // namespace

TEST(JsonTokenizer, AFileReadAheadOnASecondThreadGivesTheSameEventsAndErrors) {
    // A file of more than one 256 KiB block is read ahead on a second thread (json_reader.cpp,
    // ReadAhead): the same events, the same ParseError, and a read error where it happened.
    std::string big = "{\"rules\": [";
    for (int r = 0; big.size() < (std::size_t{3} << 20) / 2; ++r)  // 1.5 MB: six blocks
        big += (r ? ",\n  " : "\n  ") + std::string("{\"id\": \"rule-") + std::to_string(r) +
               "\", \"severity\": \"major\", \"n\": " + std::to_string(r * 7) + ", \"ok\": true}";
    big += "\n]}";
    const std::string whole = through_reader(big, true);
    ASSERT_EQ(whole.rfind("/rules/", 0), std::string::npos);
    ASSERT_GT(whole.size(), big.size());  // every event arrived
    EXPECT_EQ(through_chunks(big), whole);

    // Malformed text early (the reading thread is stopped in mid-file), in the middle, at the end.
    for (const std::size_t at : {big.find(',', 100), big.find(',', big.size() / 2), big.size() - 2}) {
        SCOPED_TRACE(at);
        std::string bad = big;
        bad[at] = '#';  // a comma between members, or the closing bracket
        const std::string expected = through_reader(bad, true);
        ASSERT_EQ(expected.rfind("ParseError f.json:", 0), 0u) << expected;
        EXPECT_EQ(through_chunks(bad), expected);
    }

    // A read that fails past the first blocks: its error, once the text before it was parsed.
    EXPECT_EQ(through_chunks(big, std::size_t{600} << 10), "DataError f.json: cannot read (test)");
    // Malformed text before the failing read still wins, as when the text was read on one thread.
    std::string bad = big;
    bad[big.find(',', std::size_t{300} << 10)] = '#';
    EXPECT_EQ(through_chunks(bad, std::size_t{600} << 10), through_reader(bad, true));

    // A file within the first block is read without a thread: the same events.
    const std::string small = "{\"a\": [1, 2.5, \"x\", null, {\"b\": false}]}";
    EXPECT_EQ(through_chunks(small), through_reader(small, true));
}

TEST(JsonTokenizer, ReadAheadHandsOverEveryByteInOrderWhateverTheCallerAsksFor) {
    // Bytes whose value is their position mod 251: a byte skipped, repeated or reordered shows.
    std::string text((std::size_t{5} << 18) + 12345, '\0');
    for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>(i % 251);
    for (const std::size_t block : {std::size_t{1} << 18, std::size_t{4096}, text.size(), text.size() + 1}) {
        SCOPED_TRACE(block);
        std::size_t at = 0, reads = 0;
        std::vector<std::thread::id> readers;  // who called read(), each time
        const ReadChunk source = [&](char* out, std::size_t capacity) {
            ++reads;
            readers.push_back(std::this_thread::get_id());
            const std::size_t n = std::min(capacity, text.size() - at);
            std::memcpy(out, text.data() + at, n);
            at += n;
            return n;
        };
        std::mt19937 rng(static_cast<unsigned>(block));
        ReadAhead ahead(source, block);
        std::string got;
        std::vector<char> buffer(3 * block);
        bool first_filled = false;  // whether the first read filled the room it was given
        for (bool first = true;; first = false) {
            // Part of a block, or more; for the largest blocks a first read with room for the whole
            // file, as a small pack file gets.
            const std::size_t capacity =
                first && block > text.size() ? 3 * block : 1 + rng() % (rng() % 2 ? 64 : 3 * block);
            const std::size_t n = ahead(buffer.data(), capacity);
            ASSERT_LE(n, capacity);
            if (first) first_filled = n == capacity;
            if (n == 0) break;
            got.append(buffer.data(), n);
        }
        // A file the first read does not fill is read once more (to see its end), on this thread;
        // otherwise the rest is read on the second thread.
        const auto elsewhere = std::count_if(readers.begin(), readers.end(),
                                             [](std::thread::id id) { return id != std::this_thread::get_id(); });
        if (block > text.size()) {
            EXPECT_FALSE(first_filled);
        }
        if (!first_filled) {
            EXPECT_EQ(reads, 2u);
            EXPECT_EQ(elsewhere, 0);
        } else {
            EXPECT_EQ(readers.front(), std::this_thread::get_id());
            EXPECT_EQ(elsewhere, static_cast<std::ptrdiff_t>(readers.size()) - 1);
        }
        EXPECT_EQ(ahead(buffer.data(), 10), 0u);  // the end stays the end
        ASSERT_EQ(got.size(), text.size());
        EXPECT_TRUE(got == text);
    }
}
