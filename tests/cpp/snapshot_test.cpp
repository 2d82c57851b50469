// The binary snapshot: a snapshot answers exactly as the knowledge base it was written from, and
// bytes that are not a whole, intact snapshot of this format are refused with a DataError that
// names the file and says what is wrong.

#include "test_support.hpp"

#include "detail/embedded_snapshot.hpp"
#include "detail/impl.hpp"
#include "detail/snapshot.hpp"

#include "cli.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <unistd.h>

using rxcaution::DataError;
using rxcaution::KnowledgeBase;
namespace fs = std::filesystem;

namespace {

const std::vector<std::vector<std::string>> kRegimens = {
    {"methadone", "ketamine"},
    {"Suboxone", "alprazolam", "gabapentin"},
    {"naltrexone", "oxycodone", "ondansetron"},
    {"esketamine", "phentermine", "sertraline", "linezolid"},
    {"Sublocade", "vandetanib", "buprenorphine hydrochloride", "ketamin"},
};

std::string reports_json(const KnowledgeBase& kb) {
    std::string out;
    for (const auto& meds : kRegimens) {
        rxcaution::CheckContext ctx;
        ctx.conditions = {"hypokalemia", "asthma"};
        out += rxcaution::to_json(kb.check(meds, ctx));
        out += rxcaution::to_text(kb.check(meds));
    }
    return out;
}

std::string error_of(std::string_view bytes, const std::string& origin = "test.rxpack") {
    try {
        (void)KnowledgeBase::from_snapshot(bytes, origin);
    } catch (const DataError& e) {
        EXPECT_EQ(e.file(), origin);
        return e.what();
    }
    return "no error";
}

// Rewrites the header's length and checksum so that a change inside the data reaches the reader's
// own checks (as a deliberately crafted file would).
std::string reseal(std::string bytes) {
    const std::string_view payload = std::string_view(bytes).substr(rxcaution::detail::kSnapshotHeaderBytes);
    const std::uint64_t size = payload.size(), sum = rxcaution::detail::snapshot_checksum(payload);
    std::memcpy(bytes.data() + 16, &size, 8);
    std::memcpy(bytes.data() + 24, &sum, 8);
    return bytes;
}

struct TempDir {
    fs::path path = fs::temp_directory_path() / ("rxcaution-snapshot-test-" + std::to_string(::getpid()));
    TempDir() { fs::create_directories(path); }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

}  // namespace

TEST(Snapshot, RoundTripAnswersExactlyAsTheOriginal) {
    const KnowledgeBase& original = rxtest::kb();
    const std::string bytes = original.to_snapshot();
    const KnowledgeBase copy = KnowledgeBase::from_snapshot(bytes, "copy.rxpack");
    EXPECT_EQ(copy.info().origin, "copy.rxpack");
    EXPECT_EQ(copy.info().name, original.info().name);
    EXPECT_EQ(copy.info().interactions, original.info().interactions);
    EXPECT_EQ(copy.info().compiled_pairs, original.info().compiled_pairs);
    EXPECT_EQ(reports_json(copy), reports_json(original));
    EXPECT_EQ(copy.to_json(), original.to_json());
    EXPECT_EQ(copy.rules_for("methadone").size(), original.rules_for("methadone").size());
    EXPECT_EQ(copy.classes_of("methadone"), original.classes_of("methadone"));
    EXPECT_EQ(copy.resolve("ketamin").suggestions, original.resolve("ketamin").suggestions);
    EXPECT_EQ(copy.regimen_dot({"methadone", "ondansetron"}), original.regimen_dot({"methadone", "ondansetron"}));
    // Written twice, the same bytes: snapshots can be compared and cached by content.
    EXPECT_EQ(copy.to_snapshot(), bytes);
}

TEST(Snapshot, JsonPackAndItsSnapshotAgree) {
    const KnowledgeBase json = KnowledgeBase::load(RXCAUTION_PACK_DIR);
    const KnowledgeBase snap = KnowledgeBase::from_snapshot(json.to_snapshot());
    EXPECT_EQ(reports_json(snap), reports_json(json));
    // The built-in pack is the same pack, compiled at build time.
    EXPECT_EQ(rxtest::kb().to_snapshot(), json.to_snapshot());
}

TEST(Snapshot, SaveAndLoadByPath) {
    TempDir dir;
    const fs::path file = dir.path / "builtin.rxpack";
    rxtest::kb().save(file);
    EXPECT_FALSE(fs::exists(dir.path / "builtin.rxpack.tmp"));
    const KnowledgeBase kb = KnowledgeBase::load(file);
    EXPECT_EQ(kb.info().origin, file.generic_string());
    EXPECT_EQ(reports_json(kb), reports_json(rxtest::kb()));
    // The signature decides, not the name.
    const fs::path renamed = dir.path / "pack.json";
    fs::copy_file(file, renamed);
    EXPECT_EQ(KnowledgeBase::load(renamed).info().interactions, rxtest::kb().info().interactions);
    // The size limit applies to snapshots as to JSON packs.
    rxcaution::LoadOptions small;
    small.max_file_bytes = 1000;
    try {
        (void)KnowledgeBase::load(file, small);
        FAIL() << "expected a DataError";
    } catch (const DataError& e) {
        EXPECT_EQ(std::string(e.what()), file.generic_string() + ": file is " + std::to_string(fs::file_size(file)) +
                                             " bytes, over the limit of 1000 bytes");
    }
}

TEST(Snapshot, SaveToAnUnwritablePlaceIsADataError) {
    const fs::path file = "/nonexistent-directory/x.rxpack";
    try {
        rxtest::kb().save(file);
        FAIL() << "expected a DataError";
    } catch (const DataError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("/nonexistent-directory/x.rxpack: cannot write the snapshot (", 0), 0u)
            << e.what();
    }
}

TEST(Snapshot, ForeignBytesAreNotASnapshot) {
    EXPECT_EQ(error_of("{\"manifest\": {}}"),
              "test.rxpack: not an rxcaution snapshot (it does not start with the .rxpack signature)");
    EXPECT_EQ(error_of(""), "test.rxpack: not an rxcaution snapshot (it does not start with the .rxpack signature)");
    EXPECT_EQ(error_of(std::string("\x89PNG\r\n\x1a\n", 8) + std::string(100, '\0')),
              "test.rxpack: not an rxcaution snapshot (it does not start with the .rxpack signature)");
}

TEST(Snapshot, TruncatedSnapshotsSayHowMuchIsMissing) {
    const std::string bytes = rxtest::kb().to_snapshot();
    EXPECT_EQ(error_of(bytes.substr(0, 20)),
              "test.rxpack: truncated snapshot: 20 bytes, shorter than the 32-byte header");
    const std::size_t payload = bytes.size() - 32;
    EXPECT_EQ(error_of(bytes.substr(0, bytes.size() - 1)),
              "test.rxpack: truncated snapshot: the header promises " + std::to_string(payload) +
                  " bytes of data, the file has " + std::to_string(payload - 1));
    EXPECT_EQ(error_of(bytes.substr(0, 32)), "test.rxpack: truncated snapshot: the header promises " +
                                                  std::to_string(payload) + " bytes of data, the file has 0");
    EXPECT_EQ(error_of(bytes + "xyz"), "test.rxpack: damaged snapshot: 3 bytes after the end of the data");
}

TEST(Snapshot, ChangedBytesFailTheChecksum) {
    std::string bytes = rxtest::kb().to_snapshot();
    for (std::size_t at : {std::size_t{32}, bytes.size() / 2, bytes.size() - 1}) {
        std::string damaged = bytes;
        damaged[at] = static_cast<char>(damaged[at] ^ 0x20);
        EXPECT_EQ(error_of(damaged), "test.rxpack: damaged snapshot: checksum mismatch (the file was changed or "
                                     "corrupted after it was written)");
    }
}

TEST(Snapshot, OtherFormatVersionsAndByteOrdersAreNamed) {
    std::string bytes = rxtest::kb().to_snapshot();
    std::string v4 = bytes;
    const std::uint32_t four = 4;
    std::memcpy(v4.data() + 8, &four, 4);
    EXPECT_EQ(error_of(v4), "test.rxpack: snapshot format version 4 is not supported (this library reads version 3); "
                            "compile the pack again (rxcaution compile)");
    // Snapshots of format 1 (before cumulative rules were a pack section) and 2 (before the name
    // table was stored) are refused by name, not misread.
    for (const std::uint32_t old : {1u, 2u}) {
        std::string older = bytes;
        std::memcpy(older.data() + 8, &old, 4);
        EXPECT_EQ(error_of(older), "test.rxpack: snapshot format version " + std::to_string(old) +
                                       " is not supported (this library reads version 3); "
                                       "compile the pack again (rxcaution compile)");
    }
    std::string swapped = bytes;
    std::swap(swapped[12], swapped[15]);
    std::swap(swapped[13], swapped[14]);
    EXPECT_EQ(error_of(swapped), "test.rxpack: snapshot written on a machine of the other byte order; compile the "
                                 "pack again on this one (rxcaution compile)");
    std::string mark = bytes;
    mark[12] = 'x';
    EXPECT_EQ(error_of(mark), "test.rxpack: damaged snapshot: invalid byte-order mark");
}

TEST(Snapshot, CraftedDataIsCheckedBeyondTheChecksum) {
    const std::string bytes = rxtest::kb().to_snapshot();
    // Cut the data short and seal it again: the reader runs out inside the pack.
    const std::string cut = reseal(bytes.substr(0, bytes.size() / 2));
    EXPECT_EQ(error_of(cut).rfind("test.rxpack: damaged snapshot: ", 0), 0u) << error_of(cut);
    // A huge count must be refused before anything is allocated for it.
    std::string huge = bytes;
    // The first field after the manifest's texts is a count somewhere in the data; overwrite every
    // 8-byte window in turn near the start and require a clean error or a clean load each time.
    for (std::size_t at = 32; at < 32 + 400; at += 7) {
        std::string crafted = bytes;
        const std::uint64_t big = 0x00FFFFFFFFFFFFFFull;
        std::memcpy(crafted.data() + at, &big, 8);
        crafted = reseal(crafted);
        const std::string e = error_of(crafted);
        EXPECT_TRUE(e == "no error" || e.rfind("test.rxpack: damaged snapshot: ", 0) == 0) << at << ": " << e;
    }
    // Trailing data after the compiled engine, sealed.
    const std::string extra = reseal(bytes + std::string(16, '\0'));
    EXPECT_EQ(error_of(extra).rfind("test.rxpack: damaged snapshot: unread bytes after the compiled engine", 0), 0u)
        << error_of(extra);
}

TEST(Snapshot, PairBitsMustSetExactlyThePairsWithInteractionEdges) {
    // The check's rank index is rebuilt on reading from the pair bits and the interaction edges,
    // and is indexed through the bits: a sealed file whose bits name a pair without interaction
    // edges, or miss a pair that has them, is refused rather than read out of bounds.
    const std::string bytes = rxtest::kb().to_snapshot();
    const auto impl = rxcaution::detail::read_snapshot(bytes, "x.rxpack");
    ASSERT_FALSE(impl->pair_bits.empty());
    EXPECT_EQ(impl->pair_hot.size(), impl->pack.info.compiled_pairs);  // one record per pair (a < b)
    const std::string words(reinterpret_cast<const char*>(impl->pair_bits.data()), impl->pair_bits.size() * 8);
    const std::size_t at = bytes.find(words);
    ASSERT_NE(at, std::string::npos);
    ASSERT_EQ(bytes.find(words, at + 1), std::string::npos);
    ASSERT_EQ(impl->pair_bits[0] & 1u, 0u);  // (substance 0, substance 0): never a pair
    std::size_t set = 0;  // a set bit
    while (!((impl->pair_bits[set / 64] >> (set % 64)) & 1u)) ++set;
    for (const std::size_t bit : {std::size_t{0}, set}) {
        std::string crafted = bytes;
        crafted[at + bit / 8] = static_cast<char>(crafted[at + bit / 8] ^ (1 << (bit % 8)));
        const std::string e = error_of(reseal(crafted));
        EXPECT_EQ(e.rfind("test.rxpack: damaged snapshot: pair bits disagree with the interaction edges", 0), 0u)
            << bit << ": " << e;
    }
}

TEST(Snapshot, PairIndexGivesEveryPairTheRulesOfItsInteractionEdge) {
    // The check's pair index (rebuilt on reading) answers for a pair a < b what the graph's edge
    // holds: nothing for a pair without rules, the rule itself for a pair with one, the span of
    // the rule pool for a pair with several.
    const auto impl = rxcaution::detail::read_snapshot(rxtest::kb().to_snapshot(), "x.rxpack");
    using Impl = rxcaution::detail::KnowledgeBaseImpl;
    ASSERT_FALSE(impl->pair_rows.empty());
    const auto n = static_cast<std::uint32_t>(impl->pack.substances.size());
    std::size_t pairs = 0, several = 0;
    for (std::uint32_t a = 0; a < n; ++a)
        for (std::uint32_t b = a + 1; b < n; ++b) {
            std::size_t count = 0;
            const Impl::PoolRule* rules = impl->rules_for_pair(a, b, count);
            const Impl::PairHot* hot = impl->pair_hot_of(a, b);
            ASSERT_EQ(hot != nullptr, rules != nullptr) << a << " " << b;
            if (!hot) continue;
            ++pairs;
            if (count == 1) {
                EXPECT_EQ(hot->word, rules[0].rule);
                EXPECT_EQ(hot->meta, static_cast<std::uint32_t>(rules[0].severity) |
                                         static_cast<std::uint32_t>(rules[0].evidence) << 8 |
                                         static_cast<std::uint32_t>(rules[0].filter_severity) << 16 |
                                         static_cast<std::uint32_t>(rules[0].supersedes) << 24);
            } else {
                ++several;
                EXPECT_EQ(hot->meta, Impl::PairHot::kSpan | count);
                EXPECT_EQ(impl->pair_rule_pool.data() + hot->word, rules);
            }
        }
    EXPECT_EQ(pairs, impl->pack.info.compiled_pairs);
    EXPECT_GT(several, 0u);  // both kinds of record are exercised
}

TEST(Snapshot, PairIndexRefusesAPairWhoseTwoDirectionsCarryDifferentRules) {
    // A check probes a pair in one direction only: a file whose edge (b, a) names another rule
    // span than (a, b) is damage, refused rather than answered differently by input order.
    const auto impl = rxcaution::detail::read_snapshot(rxtest::kb().to_snapshot(), "x.rxpack");
    auto& kb = const_cast<rxcaution::detail::KnowledgeBaseImpl&>(*impl);
    auto& fwd = kb.graph.m_forward;
    std::size_t edge = fwd.m_column.size();
    for (std::uint32_t a = 0; a < kb.interacts_end.size() && edge == fwd.m_column.size(); ++a)
        for (std::uint32_t e = fwd.m_rowstart[a]; e < kb.interacts_end[a]; ++e)
            if (fwd.m_column[e] < a) {
                edge = e;
                break;
            }
    ASSERT_LT(edge, fwd.m_column.size());
    ASSERT_GT(kb.pair_rule_pool.size(), 1u);
    auto& props = fwd.m_edge_properties[edge];
    const auto kept = props;
    props.offset = props.offset == 0 ? 1 : props.offset - 1;
    props.count = 1;
    EXPECT_FALSE(rxcaution::detail::build_check_index(kb));
    EXPECT_TRUE(kb.pair_rows.empty());
    EXPECT_TRUE(kb.pair_hot.empty());
    props = kept;
    EXPECT_TRUE(rxcaution::detail::build_check_index(kb));
    EXPECT_FALSE(kb.pair_hot.empty());
}

TEST(Snapshot, GraphEdgesMustJoinTheVertexKindsTheirKindJoins) {
    // Readers index tables by (edge target - base of its kind): a sealed file with a rule edge
    // (Participates) that leads to a substance instead of a rule is refused rather than read
    // far out of bounds (a fuzzing finding, kept in tests/fuzz/regressions/snapshot).
    const std::string bytes = rxtest::kb().to_snapshot();
    const auto impl = rxcaution::detail::read_snapshot(bytes, "x.rxpack");
    const auto& fwd = impl->graph.m_forward;
    const std::string column(reinterpret_cast<const char*>(fwd.m_column.data()), fwd.m_column.size() * 4);
    const std::size_t at = bytes.find(column);
    ASSERT_NE(at, std::string::npos);
    ASSERT_EQ(bytes.find(column, at + 1), std::string::npos);
    std::size_t edge = 0;
    while (edge < fwd.m_column.size() && fwd.m_edge_properties[edge].kind != rxcaution::detail::EdgeKind::Participates) ++edge;
    ASSERT_LT(edge, fwd.m_column.size());
    std::string crafted = bytes;
    const std::uint32_t substance = 0;
    std::memcpy(crafted.data() + at + 4 * edge, &substance, 4);
    const std::string e = error_of(reseal(crafted));
    EXPECT_EQ(e.rfind("test.rxpack: damaged snapshot: graph edge joins the wrong kinds of vertex (at payload byte ", 0), 0u) << e;
}

TEST(Snapshot, EveryTruncationIsAnErrorNeverACrash) {
    // Sealed truncations at many lengths: each must fail cleanly inside the reader.
    const std::string bytes = rxtest::kb().to_snapshot();
    const std::size_t step = std::max<std::size_t>(1, (bytes.size() - 32) / 300);
    for (std::size_t n = 32; n < bytes.size(); n += step) {
        const std::string e = error_of(reseal(bytes.substr(0, n)));
        EXPECT_EQ(e.rfind("test.rxpack: damaged snapshot: ", 0), 0u) << n << ": " << e;
    }
}

TEST(Snapshot, CliCompileWritesASnapshotThatPackAccepts) {
    TempDir dir;
    const std::string out_file = (dir.path / "curated.rxpack").generic_string();
    std::ostringstream out, err;
    ASSERT_EQ(rxcaution::cli::run({"compile", RXCAUTION_PACK_DIR, "-o", out_file}, out, err), 0) << err.str();
    const KnowledgeBase& kb = rxtest::kb();
    EXPECT_EQ(out.str(), out_file + ": snapshot of " + kb.info().name + " " + kb.info().version + " (" +
                             std::to_string(kb.info().substances) + " substances, " +
                             std::to_string(kb.info().interactions) + " interaction rules, " +
                             std::to_string(kb.info().compiled_pairs) + " compiled pairs; " +
                             std::to_string(fs::file_size(out_file)) + " bytes)\n");
    std::ostringstream a, b, e1, e2;
    EXPECT_EQ(rxcaution::cli::run({"check", "--pack", out_file, "methadone", "ondansetron"}, a, e1), 0);
    EXPECT_EQ(rxcaution::cli::run({"check", "methadone", "ondansetron"}, b, e2), 0);
    // Only the origin in the header line differs.
    EXPECT_EQ(a.str().substr(a.str().find('\n')), b.str().substr(b.str().find('\n')));
    std::ostringstream o2, e3;
    EXPECT_EQ(rxcaution::cli::run({"compile", RXCAUTION_PACK_DIR}, o2, e3), 1);
    EXPECT_EQ(e3.str(), "rxcaution: compile: give the snapshot to write with -o OUT.rxpack\n(rxcaution --help shows the usage)\n");
}

TEST(Snapshot, FuzzSeedsAreSnapshotsOfTheCurrentFormat) {
    // tests/fuzz/corpus/snapshot: one mode byte, then a snapshot. Seeds of an older format would
    // only exercise the version check; `tools/fuzz.sh seeds-snapshot` rewrites them.
    const fs::path dir = fs::path(RXCAUTION_SOURCE_DIR) / "tests/fuzz/corpus/snapshot";
    int seeds = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        std::ifstream in(entry.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        ASSERT_FALSE(bytes.empty());
        const KnowledgeBase kb = KnowledgeBase::from_snapshot(std::string_view(bytes).substr(1), entry.path().string());
        EXPECT_EQ(kb.info().name, "mini") << entry.path();
        ++seeds;
    }
    EXPECT_EQ(seeds, 3);
}

TEST(Snapshot, LayeredKnowledgeBaseKeepsItsLayersAndAnnotations) {
    // The curated pack over a small second pack: the snapshot keeps every layer, each rule's
    // layer and the annotations, and answers as the layered original does.
    const KnowledgeBase layered =
        KnowledgeBase::load(std::vector<fs::path>{"builtin", fs::path(RXCAUTION_TEST_DATA_DIR) / "mini_bundled.json"});
    ASSERT_EQ(layered.info().layers.size(), 2u);
    const KnowledgeBase copy = KnowledgeBase::from_snapshot(layered.to_snapshot(), "layered.rxpack");
    ASSERT_EQ(copy.info().layers.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(copy.info().layers[i].name, layered.info().layers[i].name);
        EXPECT_EQ(copy.info().layers[i].origin, layered.info().layers[i].origin);
        EXPECT_EQ(copy.info().layers[i].annotating_rules, layered.info().layers[i].annotating_rules);
    }
    for (const auto& meds : std::vector<std::vector<std::string>>{{"alpha", "beta", "methadone"}, {"alpha", "gamma"}})
        EXPECT_EQ(rxcaution::to_json(copy.check(meds)), rxcaution::to_json(layered.check(meds)));
    EXPECT_EQ(reports_json(copy), reports_json(layered));
    EXPECT_EQ(copy.to_snapshot(), layered.to_snapshot());
    // A snapshot is a layer like any pack.
    TempDir dir;
    const fs::path file = dir.path / "mini.rxpack";
    KnowledgeBase::load(fs::path(RXCAUTION_TEST_DATA_DIR) / "mini_bundled.json").save(file);
    const KnowledgeBase again = KnowledgeBase::load(std::vector<fs::path>{"builtin", file});
    EXPECT_EQ(again.info().layers[1].origin, file.generic_string());
    // The same warnings (the JSON differs only in the second layer's origin).
    const auto a = again.check({"alpha", "beta", "methadone"}), b = layered.check({"alpha", "beta", "methadone"});
    EXPECT_EQ(rxtest::rule_ids(a), rxtest::rule_ids(b));
    EXPECT_EQ(rxtest::rule_ids(a), std::vector<std::string>{"alpha-beta"});
}

TEST(Snapshot, TextExpansionIsLimited) {
    // A string of the table may be named many times; what the names expand to is limited, so a
    // small crafted file cannot ask for gigabytes. Shown with a small limit on the real snapshot.
    const std::string bytes = rxtest::kb().to_snapshot();
    try {
        (void)rxcaution::detail::read_snapshot(bytes, "small.rxpack", 1000);
        FAIL() << "expected a DataError";
    } catch (const DataError& e) {
        const std::string what = e.what();
        EXPECT_EQ(what.rfind("small.rxpack: damaged snapshot: its texts expand to more than 1000 bytes (at payload byte ", 0), 0u)
            << what;
    }
    // The default limit admits the real pack with room to spare.
    EXPECT_NO_THROW((void)rxcaution::detail::read_snapshot(bytes, "builtin.rxpack"));
}

TEST(Snapshot, BuiltinReadInPlaceEqualsAFullyCheckedRead) {
    // builtin() reads the embedded snapshot without the checks rxcaution_packc made when the
    // library was built (checksum, table shapes, pair bits against the interaction edges). The
    // same bytes read as any file is, with every check, must give the same pair index and tables.
    const std::string_view bytes = rxcaution::detail::embedded_snapshot();
    ASSERT_FALSE(bytes.empty());
    const auto trusted = rxcaution::detail::read_snapshot(bytes, "<builtin>", 0, true);
    const auto checked = rxcaution::detail::read_snapshot(bytes, "builtin.rxpack");
    ASSERT_FALSE(checked->pair_rows.empty());
    EXPECT_EQ(trusted->pair_row_words, checked->pair_row_words);
    EXPECT_EQ(trusted->pair_rows, checked->pair_rows);
    EXPECT_EQ(trusted->pair_row_base, checked->pair_row_base);
    ASSERT_EQ(trusted->pair_hot.size(), checked->pair_hot.size());
    for (std::size_t i = 0; i < checked->pair_hot.size(); ++i) {
        EXPECT_EQ(trusted->pair_hot[i].word, checked->pair_hot[i].word) << i;
        EXPECT_EQ(trusted->pair_hot[i].meta, checked->pair_hot[i].meta) << i;
    }
    EXPECT_EQ(trusted->duplicate_starts_mask, checked->duplicate_starts_mask);
    EXPECT_EQ(trusted->duplicate_member_mask, checked->duplicate_member_mask);
    EXPECT_EQ(trusted->names.size(), checked->names.size());
    EXPECT_EQ(KnowledgeBase::builtin().to_snapshot(), std::string(bytes));
}

TEST(Snapshot, UncheckedPairIndexEqualsTheCheckedOne) {
    // The same for a knowledge base compiled from JSON: build_check_index without its checks
    // (what the built-in pack's read uses) builds exactly what it builds with them.
    auto impl = std::const_pointer_cast<rxcaution::detail::KnowledgeBaseImpl>(
        rxcaution::detail::read_snapshot(KnowledgeBase::load(RXCAUTION_PACK_DIR).to_snapshot(), "x.rxpack"));
    const auto rows = impl->pair_rows;
    const auto bases = impl->pair_row_base;
    const auto hot = impl->pair_hot;
    ASSERT_FALSE(rows.empty());
    ASSERT_TRUE(rxcaution::detail::build_check_index(*impl, false));
    EXPECT_EQ(impl->pair_rows, rows);
    EXPECT_EQ(impl->pair_row_base, bases);
    ASSERT_EQ(impl->pair_hot.size(), hot.size());
    for (std::size_t i = 0; i < hot.size(); ++i) {
        EXPECT_EQ(impl->pair_hot[i].word, hot[i].word) << i;
        EXPECT_EQ(impl->pair_hot[i].meta, hot[i].meta) << i;
    }
}

// The built-in pack leaves its sources, classes, conditions, contraindications and treatments
// encoded at load and decodes them on first use (pack.hpp, Section); everything else reads them as
// if they had been there from the start.
TEST(Snapshot, BuiltinSectionsAreDecodedOnFirstUseAndEqualAnEagerRead) {
    using rxcaution::detail::read_snapshot;
    const std::string_view bytes = rxcaution::detail::embedded_snapshot();
    const auto lazy = read_snapshot(bytes, "<builtin>", 0, true);
    const auto eager = read_snapshot(bytes, "<builtin>", 0, false);  // a file's read: every section built
    ASSERT_TRUE(lazy->pending_sections);
    EXPECT_FALSE(eager->pending_sections);
    EXPECT_FALSE(lazy->pending_sections->decoded());
    const auto& info = lazy->pack.info;
    // Sizes, the id indexes and the compiled tables are there without decoding.
    EXPECT_EQ(lazy->pack.sources.size(), info.sources);
    EXPECT_EQ(lazy->pack.classes.size(), info.classes);
    EXPECT_EQ(lazy->pack.conditions.size(), info.conditions);
    EXPECT_EQ(lazy->pack.contraindications.size(), info.contraindications);
    EXPECT_EQ(lazy->pack.treatments.size(), info.treatments);
    EXPECT_GT(info.sources, 0u);
    EXPECT_GT(info.treatments, 0u);
    // Classes and conditions are walked for their ids at load (the cumulative rules look them up);
    // the other deferred sections are skipped by their length and indexed when decoded.
    EXPECT_EQ(lazy->class_index.size(), info.classes);
    EXPECT_EQ(lazy->condition_index.size(), info.conditions);
    EXPECT_EQ(lazy->source_index.size(), 0u);
    EXPECT_EQ(lazy->profile_index.size(), 0u);
    EXPECT_EQ(lazy->pack.profiles.size(), eager->pack.profiles.size());
    EXPECT_EQ(lazy->substance_has_rules, eager->substance_has_rules);
    EXPECT_EQ(lazy->product_has_rules, eager->product_has_rules);
    EXPECT_EQ(lazy->duplicate_starts_mask, eager->duplicate_starts_mask);
    EXPECT_EQ(lazy->duplicate_member_mask, eager->duplicate_member_mask);
    EXPECT_TRUE(lazy->any_duplicate_starts);
    EXPECT_FALSE(lazy->pending_sections->decoded());

    // The first read decodes every pending section; each index names its entity's position.
    const rxcaution::DrugClass& first = lazy->pack.classes[0];
    EXPECT_TRUE(lazy->pending_sections->decoded());
    EXPECT_EQ(first.id, eager->pack.classes[0].id);
    auto positions = [](const auto& section, const rxcaution::detail::IdIndex& index) {
        for (std::uint32_t i = 0; i < section.size(); ++i) {
            const auto* hit = index.find(section[i].id);
            if (!hit || hit->second != i) return std::string(section[i].id);
        }
        return std::string();
    };
    EXPECT_EQ(positions(lazy->pack.sources, lazy->source_index), "");
    EXPECT_EQ(positions(lazy->pack.classes, lazy->class_index), "");
    EXPECT_EQ(positions(lazy->pack.conditions, lazy->condition_index), "");
    EXPECT_EQ(positions(lazy->pack.contraindications, lazy->contraindication_index), "");
    EXPECT_EQ(positions(lazy->pack.treatments, lazy->treatment_index), "");
    EXPECT_EQ(lazy->profile_index.size(), eager->profile_index.size());
    for (std::uint32_t i = 0; i < lazy->pack.profiles.size(); ++i) {
        const auto* hit = lazy->profile_index.find(lazy->pack.profiles[i].substance);
        ASSERT_TRUE(hit != nullptr);
        EXPECT_EQ(hit->second, i);
    }
    // Field for field: the bundled JSON written from each.
    EXPECT_EQ(rxcaution::detail::write_bundled_json(lazy->pack),
              rxcaution::detail::write_bundled_json(eager->pack));
}

TEST(Snapshot, BuiltinSectionsWrittenWithoutBeingReadFirst) {
    // The writers read the sections through the pack tables (the vectors as they are): they
    // decode first, or a snapshot or JSON of the built-in pack would lose its sources.
    const std::string_view bytes = rxcaution::detail::embedded_snapshot();
    const auto lazy = rxcaution::detail::read_snapshot(bytes, "<builtin>", 0, true);
    const auto eager = rxcaution::detail::read_snapshot(bytes, "<builtin>", 0, false);
    ASSERT_FALSE(lazy->pending_sections->decoded());
    EXPECT_EQ(rxcaution::detail::write_snapshot(*lazy), rxcaution::detail::write_snapshot(*eager));
    EXPECT_TRUE(lazy->pending_sections->decoded());
    const auto lazy2 = rxcaution::detail::read_snapshot(bytes, "<builtin>", 0, true);
    EXPECT_EQ(rxcaution::detail::write_bundled_json(lazy2->pack),
              rxcaution::detail::write_bundled_json(eager->pack));
}

TEST(Snapshot, BuiltinSectionsDecodedOnceUnderConcurrentFirstReads) {
    // Checks on several threads may be the first to read a section (a duplicate-therapy warning
    // reads its class): one decodes, the others wait, all see the same entities (TSan runs this).
    const auto lazy = rxcaution::detail::read_snapshot(rxcaution::detail::embedded_snapshot(), "<builtin>", 0, true);
    std::vector<const rxcaution::Source*> seen(4, nullptr);
    std::vector<std::size_t> classes(4, 0);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < seen.size(); ++t)
        threads.emplace_back([&, t] {
            seen[t] = &lazy->pack.sources[0];
            classes[t] = lazy->pack.classes.all().size();
        });
    for (auto& th : threads) th.join();
    for (std::size_t t = 0; t < seen.size(); ++t) {
        EXPECT_EQ(seen[t], seen[0]);
        EXPECT_EQ(classes[t], lazy->pack.info.classes);
    }
    EXPECT_FALSE(seen[0]->id.empty());
}

TEST(Snapshot, StoredNameTableEqualsTheOneBuiltFromThePack) {
    // Format 3 stores the name table and its suggestion pool: read back, they are the table a JSON
    // load builds, entry for entry (key, entity, how it matched) and in the same order.
    const auto file = rxcaution::detail::read_snapshot(rxtest::kb().to_snapshot(), "x.rxpack");
    const auto embedded = rxcaution::detail::read_snapshot(rxcaution::detail::embedded_snapshot(), "<builtin>", 0, true);
    // Built from the entities, as a JSON load builds it.
    const auto from_json = rxcaution::detail::build_impl(rxcaution::detail::pack_of(*embedded));
    for (const auto* impl : {file.get(), embedded.get()}) {
        ASSERT_EQ(impl->names.size(), from_json->names.size());
        ASSERT_GT(impl->names.size(), 1000u);
        for (std::size_t e = 0; e < impl->names.size(); ++e) {
            const auto& [key, target] = impl->names.entry(e);
            const auto& [key2, target2] = from_json->names.entry(e);
            ASSERT_EQ(key, key2) << e;
            ASSERT_EQ(target.kind, target2.kind) << key;
            ASSERT_EQ(target.index, target2.index) << key;
            ASSERT_EQ(target.matched_by, target2.matched_by) << key;
            ASSERT_EQ(impl->names.find(key), &impl->names.entry(e)) << key;
        }
        ASSERT_EQ(impl->suggestion_pool.size(), from_json->suggestion_pool.size());
        for (std::size_t k = 0; k < impl->suggestion_pool.size(); ++k) {
            EXPECT_EQ(impl->suggestion_pool[k].first, from_json->suggestion_pool[k].first);
            EXPECT_EQ(impl->suggestion_pool[k].second.index, from_json->suggestion_pool[k].second.index);
        }
    }
}

TEST(Snapshot, DamagedNameTableIsRefusedByName) {
    // The suggestion pool ends the data: its last record is entry u32, kind u8, index u32, match u8.
    const std::string bytes = rxtest::kb().to_snapshot();
    const std::size_t last = bytes.size() - 10;
    auto with = [&](std::size_t at, std::string_view patch) {
        std::string crafted = bytes;
        crafted.replace(at, patch.size(), patch);
        return error_of(reseal(crafted));
    };
    EXPECT_EQ(with(last, std::string(4, '\xff')), "test.rxpack: damaged snapshot: suggestion out of range (at payload byte " +
                                                      std::to_string(last + 4 - 32) + ")");
    EXPECT_EQ(with(last + 4, "\x09").rfind("test.rxpack: damaged snapshot: name target is neither a substance nor a product", 0), 0u);
    EXPECT_EQ(with(last + 5, std::string(4, '\xff')).rfind("test.rxpack: damaged snapshot: name target out of range", 0), 0u);
    EXPECT_EQ(with(last + 9, "\xc8").rfind("test.rxpack: damaged snapshot: invalid name match kind", 0), 0u);
}

TEST(Snapshot, SectionLengthsAreChecked) {
    // Format 3 writes each pack section after its length in bytes (u64), then the section (for
    // sources: the u32 count first); a file whose length disagrees with its section is refused,
    // naming the section, and so is one whose length runs past the end.
    const std::string bytes = rxtest::kb().to_snapshot();
    const auto sources = static_cast<std::uint32_t>(rxtest::kb().info().sources);
    std::vector<std::size_t> candidates;
    for (std::size_t at = 32; at + 12 <= bytes.size(); ++at) {
        std::uint64_t length;
        std::uint32_t count;
        std::memcpy(&length, bytes.data() + at, 8);
        std::memcpy(&count, bytes.data() + at + 8, 4);
        if (count == sources && length > 4 * std::uint64_t{sources} && length <= bytes.size() - at - 8)
            candidates.push_back(at);
    }
    std::vector<std::string> errors;
    for (const std::size_t at : candidates) {
        std::uint64_t length;
        std::memcpy(&length, bytes.data() + at, 8);
        for (const std::uint64_t patched : {length - 1, std::uint64_t{1} << 40}) {
            std::string crafted = bytes;
            std::memcpy(crafted.data() + at, &patched, 8);
            errors.push_back(error_of(reseal(crafted)));
        }
    }
    auto has = [&](std::string_view what) {
        return std::any_of(errors.begin(), errors.end(), [&](const std::string& e) {
            return e.rfind(std::string("test.rxpack: damaged snapshot: section sources ") + std::string(what), 0) == 0;
        });
    };
    EXPECT_TRUE(has("disagrees with its length")) << candidates.size();
    EXPECT_TRUE(has("longer than the file")) << candidates.size();
}
