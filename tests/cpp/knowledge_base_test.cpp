#include "detail/huge_pages.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

using namespace rxcaution;
using rxtest::contains;
using rxtest::kb;

TEST(KnowledgeBase, BuiltinPackInfo) {
    const PackInfo& info = kb().info();
    EXPECT_EQ(info.name, "rxcaution-curated");
    EXPECT_EQ(info.format_version, 1);
    EXPECT_EQ(info.origin, "<builtin>");
    EXPECT_GE(info.substances, 300u);
    EXPECT_GE(info.products, 150u);
    EXPECT_GE(info.classes, 50u);
    EXPECT_GE(info.interactions, 60u);
    EXPECT_GE(info.contraindications, 80u);
    EXPECT_GT(info.compiled_pairs, info.interactions);
}

TEST(KnowledgeBase, BuiltinReturnsTheSameSharedInstance) {
    const auto a = KnowledgeBase::builtin();
    const auto b = KnowledgeBase::builtin();
    EXPECT_EQ(&a.info(), &b.info());
}

TEST(KnowledgeBase, SubstanceIdentifiersAreTheVerifiedOnes) {
    const Substance& m = kb().substance("methadone");
    EXPECT_EQ(m.identifiers.rxcui, "6813");
    EXPECT_EQ(m.identifiers.atc, std::vector<std::string>{"N07BC02"});
    EXPECT_EQ(m.identifiers.drugbank, "DB00333");
    EXPECT_EQ(m.identifiers.salt_unii.at("hydrochloride"), "229809935B");
    EXPECT_FALSE(m.identifier_sources.empty());
    EXPECT_EQ(kb().substance("naltrexone").identifiers.rxcui, "7243");
    EXPECT_EQ(kb().substance("naloxone").identifiers.rxcui, "7242");
    // Unverified identifiers stay empty rather than guessed (label-facts §11).
    EXPECT_EQ(kb().substance("ketamine").identifiers.rxcui, "");
    EXPECT_EQ(kb().substance("lofexidine").identifiers.drugbank, "");
}

TEST(KnowledgeBase, ProductsResolveToIngredients) {
    EXPECT_EQ(kb().product("suboxone").ingredients, (std::vector<std::string>{"buprenorphine", "naloxone"}));
    EXPECT_EQ(kb().product("suboxone").inactive_ingredients.at(0).substance, "naloxone");
    EXPECT_EQ(kb().product("sublocade").ingredients, std::vector<std::string>{"buprenorphine"});
    EXPECT_EQ(kb().product("vivitrol").ingredients, std::vector<std::string>{"naltrexone"});
    for (const char* brand : {"subutex", "zubsolv", "brixadi", "revia", "dolophine", "methadose", "ketalar", "spravato",
                              "narcan", "lucemyra", "xanax", "klonopin", "neurontin", "zofran", "biaxin", "sustiva"})
        EXPECT_NE(kb().find_product(brand), nullptr) << brand;
}

TEST(KnowledgeBase, ClassMembershipIsTransitive) {
    const auto classes = kb().classes_of("alprazolam");
    EXPECT_TRUE(contains(classes, "benzodiazepines"));
    EXPECT_TRUE(contains(classes, "cns-depressants"));
    const auto opioids = kb().members_of("opioids");
    EXPECT_TRUE(contains(opioids, "methadone"));
    EXPECT_TRUE(contains(opioids, "buprenorphine"));
    EXPECT_TRUE(contains(opioids, "heroin"));
    EXPECT_FALSE(contains(opioids, "naltrexone"));
    EXPECT_TRUE(contains(kb().members_of("cyp3a-inhibitors"), "clarithromycin"));
    EXPECT_THROW((void)kb().members_of("no-such-class"), NotFoundError);
}

TEST(KnowledgeBase, LookupsFindAndThrow) {
    EXPECT_EQ(kb().find_substance("nope"), nullptr);
    EXPECT_THROW((void)kb().substance("nope"), NotFoundError);
    EXPECT_THROW((void)kb().product("nope"), NotFoundError);
    EXPECT_THROW((void)kb().drug_class("nope"), NotFoundError);
    EXPECT_THROW((void)kb().condition("nope"), NotFoundError);
    EXPECT_THROW((void)kb().source("nope"), NotFoundError);
    EXPECT_THROW((void)kb().interaction("nope"), NotFoundError);
    EXPECT_EQ(kb().interaction("methadone-cyp3a-inhibitors").severity, Severity::Major);
    EXPECT_EQ(kb().contraindication("naltrexone-current-opioid-dependence").severity, Severity::Contraindicated);
    EXPECT_EQ(kb().source("haven-ketamine-opioid-withdrawal").title, "Ketamine For Opioid Withdrawal");
    EXPECT_EQ(kb().source("haven-ketamine-opioid-withdrawal").url, "");  // never seen, so never invented
    EXPECT_EQ(kb().drug_class("benzodiazepines").parents, std::vector<std::string>{"cns-depressants"});
}

TEST(KnowledgeBase, RulesForASubstanceIncludeClassRules) {
    std::vector<std::string> ids;
    for (const auto& r : kb().rules_for("clarithromycin")) ids.push_back(r.id);
    EXPECT_TRUE(contains(ids, "methadone-cyp3a-inhibitors"));
    EXPECT_TRUE(contains(ids, "buprenorphine-cyp3a-inhibitors"));
    std::vector<std::string> cids;
    for (const auto& r : kb().contraindications_for("vivitrol")) cids.push_back(r.id);
    EXPECT_TRUE(contains(cids, "naltrexone-current-opioid-dependence"));
    EXPECT_TRUE(contains(cids, "vivitrol-plg-cmc-hypersensitivity"));
}

TEST(KnowledgeBase, InteractionsBetweenMostSevereFirst) {
    const auto rules = kb().interactions_between("methadone", "sotalol");
    ASSERT_GE(rules.size(), 2u);
    EXPECT_EQ(rules.front().id, "onc-qt-high-risk-drugs");
    EXPECT_EQ(rules.front().severity, Severity::Contraindicated);
    for (std::size_t i = 1; i < rules.size(); ++i) EXPECT_GE(rules[i - 1].severity, rules[i].severity);
    // Product-level rules and inactive ingredients count here exactly as in check().
    std::vector<std::string> ids;
    for (const auto& r : kb().interactions_between("Sublocade", "ondansetron")) ids.push_back(r.id);
    EXPECT_TRUE(contains(ids, "sublocade-qt-prolonging-drugs"));
    for (const auto& r : kb().interactions_between("Suboxone", "methadone")) EXPECT_NE(r.id, "naloxone-methadone");
    EXPECT_TRUE(kb().interactions_between("Suboxone", "Subutex").empty());
}

TEST(KnowledgeBase, SeedContentIsQueryable) {
    const Profile* p = kb().find_profile("ketamine");
    ASSERT_NE(p, nullptr);
    std::vector<std::string> mechanisms, risks;
    for (const auto& m : p->mechanisms) mechanisms.push_back(m.name);
    for (const auto& r : p->risks) risks.push_back(r.id);
    EXPECT_EQ(p->mechanisms.size(), 5u);
    EXPECT_GE(p->risks.size(), 6u);
    for (const auto& item : p->mechanisms) {
        ASSERT_FALSE(item.sources.empty());
        bool seed = false;
        for (const auto& s : item.sources) seed = seed || s.source == "haven-ketamine-opioid-withdrawal";
        EXPECT_TRUE(seed) << item.id;
    }
    std::vector<std::string> treatment_ids;
    for (const auto& t : kb().treatments()) treatment_ids.push_back(t.id);
    for (const char* t : {"cognitive-behavioral-therapy", "contingency-management", "motivational-interviewing",
                          "acupuncture", "massage-therapy", "aromatherapy", "mindfulness"})
        EXPECT_TRUE(contains(treatment_ids, t)) << t;
    const Condition& withdrawal = kb().condition("opioid-withdrawal");
    EXPECT_FALSE(withdrawal.symptoms.empty());
}

#if defined(__linux__) && !defined(RXCAUTION_NO_HUGE_PAGES)
// The VmFlags line of the mapping of this process that holds `address` ("" when none does).
std::string flags_at(const void* address) {
    std::ifstream smaps("/proc/self/smaps");
    const auto want = reinterpret_cast<std::uintptr_t>(address);
    bool in = false;
    for (std::string line; std::getline(smaps, line);) {
        const std::size_t dash = line.find('-'), space = line.find(' ');
        if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) && dash < space &&
            space != std::string::npos && line.find(':') > space) {  // "start-end perms ...", not "Size: ..."
            in = std::stoull(line.substr(0, dash), nullptr, 16) <= want &&
                 want < std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
            continue;
        }
        if (in && line.rfind("VmFlags:", 0) == 0) return line + " ";
    }
    return "";
}
#endif

TEST(AdvisedAllocator, LargeBlocksGetHugePagesWhereTheyFillThemAndKeepTheirContents) {
    using rxcaution::detail::AdvisedAllocator;
    using rxcaution::detail::kHugePage;
    std::vector<std::uint32_t, AdvisedAllocator<std::uint32_t>> v;
    const std::size_t n = (kHugePage + kHugePage / 4) / sizeof(std::uint32_t);  // 2.5 MiB: one huge page and a tail
    for (std::size_t i = 0; i < n; ++i) v.push_back(static_cast<std::uint32_t>(i * 2654435761u));
    for (std::size_t i = 0; i < n; i += 4097) ASSERT_EQ(v[i], static_cast<std::uint32_t>(i * 2654435761u)) << i;
    std::vector<std::uint32_t, AdvisedAllocator<std::uint32_t>> exact;
    exact.reserve(n);  // a block of exactly 2.5 MiB
    exact.assign(v.begin(), v.end());
    EXPECT_TRUE(std::equal(exact.begin(), exact.end(), v.begin(), v.end()));
#if defined(__linux__) && !defined(RXCAUTION_NO_HUGE_PAGES)
    ASSERT_EQ(reinterpret_cast<std::uintptr_t>(exact.data()) % kHugePage, 0u);
    // The filled 2 MiB is advised; the tail, a quarter of a huge page, keeps small pages (had it
    // been advised, touching it would make a whole huge page resident for half a MiB of data).
    const char* const block = reinterpret_cast<const char*>(exact.data());
    const std::string head = flags_at(block + kHugePage - 1), tail = flags_at(block + kHugePage);
    EXPECT_NE(head.find(" hg "), std::string::npos) << head;
    ASSERT_FALSE(tail.empty());
    EXPECT_EQ(tail.find(" hg "), std::string::npos) << tail;
    // Three quarters of a huge page is worth one.
    std::vector<std::uint8_t, AdvisedAllocator<std::uint8_t>> most;
    most.reserve(kHugePage + 3 * kHugePage / 4);
    const std::string whole = flags_at(most.data() + 2 * kHugePage - 1);
    EXPECT_NE(whole.find(" hg "), std::string::npos) << whole;
#endif
    // Small blocks come from the heap, as with std::allocator.
    std::vector<std::uint32_t, AdvisedAllocator<std::uint32_t>> small(100, 7);
    EXPECT_EQ(small[99], 7u);
}

// Written-once blocks of 256 KiB and more are mappings of their own, shaped by size (a power of
// two of small pages up to 1 MiB, whole huge pages beyond), and a freed one is kept for the next
// block of its shape: the same memory comes back (most recently freed first), never to a block of
// another shape; the cache holds at most its limit and kBlockCacheMaxBlocks blocks, evicting the
// oldest; release_cached_blocks() empties it.
TEST(AdvisedAllocator, FreedBlocksAreKeptForTheNextBlockOfTheirShape) {
#if defined(__linux__) && !defined(RXCAUTION_NO_HUGE_PAGES)
    using rxcaution::detail::AdvisedAllocator;
    using rxcaution::detail::block_shape;
    using rxcaution::detail::cached_block_bytes;
    using rxcaution::detail::kBlockCacheDefaultBytes;
    using rxcaution::detail::kBlockCacheMaxBlocks;
    using rxcaution::detail::kHugePage;
    using rxcaution::detail::release_cached_blocks;
    using Col = std::vector<std::uint32_t, AdvisedAllocator<std::uint32_t>>;
    EXPECT_EQ(block_shape(100).length, 256u << 10);
    EXPECT_EQ(block_shape(300u << 10).length, 512u << 10);
    EXPECT_EQ(block_shape(1u << 20).length, 1u << 20);
    EXPECT_EQ(block_shape(1u << 20).advised, 0u);
    EXPECT_EQ(block_shape((1u << 20) + 1).length, kHugePage);
    EXPECT_EQ(block_shape((1u << 20) + 1).advised, kHugePage);
    EXPECT_EQ(block_shape(kHugePage + kHugePage / 4).length, 2 * kHugePage);
    EXPECT_EQ(block_shape(kHugePage + kHugePage / 4).advised, kHugePage);
    release_cached_blocks();
    ASSERT_EQ(cached_block_bytes(), 0u);
    const void* first = nullptr;
    {
        Col a(150'000, 1);  // 600,000 bytes: a 1 MiB mapping
        first = a.data();
        EXPECT_EQ(a[149'999], 1u);
    }
    EXPECT_EQ(cached_block_bytes(), 1u << 20);
    {
        Col other(70'000, 2);  // 280,000 bytes: another shape (512 KiB): not the cached block
        EXPECT_NE(static_cast<const void*>(other.data()), first);
        Col b(200'000, 3);  // 800,000 bytes: the 1 MiB shape again, the same memory
        EXPECT_EQ(static_cast<const void*>(b.data()), first);
        EXPECT_EQ(b[0], 3u);
        EXPECT_EQ(b[199'999], 3u);
        EXPECT_EQ(cached_block_bytes(), 0u);
    }
    EXPECT_EQ(cached_block_bytes(), (1u << 20) + (512u << 10));
    // At most kBlockCacheMaxBlocks blocks and kBlockCacheDefaultBytes: the oldest go.
    {
        std::vector<Col> many;
        for (std::size_t i = 0; i < kBlockCacheMaxBlocks + 8; ++i) many.emplace_back(70'000, static_cast<std::uint32_t>(i));
    }
    EXPECT_EQ(cached_block_bytes(), kBlockCacheMaxBlocks * (512u << 10));
    {
        std::vector<Col> big;
        for (int i = 0; i < 20; ++i) big.emplace_back(2 * kHugePage / sizeof(std::uint32_t), 5u);  // 4 MiB each
    }
    EXPECT_LE(cached_block_bytes(), kBlockCacheDefaultBytes);
    EXPECT_GE(cached_block_bytes(), kBlockCacheDefaultBytes - 2 * kHugePage);
    release_cached_blocks();
    EXPECT_EQ(cached_block_bytes(), 0u);
#else
    GTEST_SKIP() << "written-once blocks come from the heap in this build";
#endif
}

// Threads taking and freeing blocks of a few shapes at once: every block keeps what its thread
// wrote (no block is handed to two threads), and the cache stays within its limits.
TEST(AdvisedAllocator, ThreadsShareTheCacheOfFreedBlocksSafely) {
    using rxcaution::detail::AdvisedAllocator;
    using Col = std::vector<std::uint32_t, AdvisedAllocator<std::uint32_t>>;
    std::atomic<int> wrong{0};
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < 4; ++t)
        pool.emplace_back([t, &wrong] {
            for (unsigned round = 0; round < 60; ++round) {
                const std::size_t n = (70'000 + 130'000 * ((t + round) % 3)) + round;
                Col a(n, t * 1000 + round), b(n / 2, t * 1000 + round + 1);
                if (a.front() != t * 1000 + round || a.back() != t * 1000 + round ||
                    b.back() != t * 1000 + round + 1)
                    ++wrong;
            }
        });
    for (auto& th : pool) th.join();
    EXPECT_EQ(wrong.load(), 0);
#if defined(__linux__) && !defined(RXCAUTION_NO_HUGE_PAGES)
    EXPECT_LE(rxcaution::detail::cached_block_bytes(), rxcaution::detail::kBlockCacheDefaultBytes);
#endif
}

TEST(HugePageAllocator, LargeBlocksAreTheirOwnAlignedMappingAndKeepTheirContents) {
    using rxcaution::detail::HugeVector;
    using rxcaution::detail::kHugePage;
    using rxcaution::detail::kHugePageMinBlock;
    // Grown past the threshold by push_back: every reallocation crosses from the heap to a mapping
    // and between mappings of different sizes, and the contents must follow.
    HugeVector<std::uint64_t> v;
    const std::size_t n = 3 * kHugePage / sizeof(std::uint64_t) + 12345;  // 6 MiB and a bit: several huge pages
    for (std::size_t i = 0; i < n; ++i) v.push_back(i * 2654435761u);
    for (std::size_t i = 0; i < n; i += 4097) ASSERT_EQ(v[i], i * 2654435761u) << i;
    ASSERT_EQ(v.back(), (n - 1) * 2654435761u);
#if defined(__linux__) && !defined(RXCAUTION_NO_HUGE_PAGES)
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(v.data()) % kHugePage, 0u);
#endif
    // Copies, moves, shrinking and small blocks (the heap) all work as with std::allocator.
    HugeVector<std::uint64_t> copy = v;
    EXPECT_TRUE(copy == v);
    HugeVector<std::uint64_t> moved = std::move(copy);
    EXPECT_EQ(moved.size(), n);
    moved.resize(kHugePageMinBlock / sizeof(std::uint64_t) - 1);  // below the threshold once shrunk
    moved.shrink_to_fit();
    EXPECT_EQ(moved[1], 2654435761u);
    HugeVector<std::uint32_t> small(100, 7);
    EXPECT_EQ(small[99], 7u);
}
