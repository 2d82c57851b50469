#include "test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

using namespace rxcaution;

// One knowledge base, many threads: every thread must get exactly the single-threaded answers.
TEST(KnowledgeBase, ConcurrentChecksGiveIdenticalResults) {
    const KnowledgeBase kb = KnowledgeBase::builtin();
    const std::vector<std::vector<std::string>> regimens = {
        {"ketamine", "Suboxone"},
        {"methadone", "clarithromycin", "alprazolam"},
        {"naltrexone", "methadone", "ondansetron"},
        {"Sublocade", "sotalol", "ketamin"},
        {"Catapres", "Kapvay", "amitriptyline"}};
    std::vector<std::string> expected;
    for (const auto& r : regimens) expected.push_back(to_json(kb.check(r, {{"hypertension"}})));

    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            const KnowledgeBase copy = kb;  // copies share the implementation
            for (int i = 0; i < 200; ++i) {
                const std::size_t k = static_cast<std::size_t>(t + i) % regimens.size();
                if (to_json(copy.check(regimens[k], {{"hypertension"}})) != expected[k]) ++mismatches;
                if (!copy.resolve("methadone hcl").resolved) ++mismatches;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(mismatches.load(), 0);
}

TEST(KnowledgeBase, ConcurrentFirstCallsToBuiltinAgree) {
    std::vector<const PackInfo*> infos(8);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < infos.size(); ++t)
        threads.emplace_back([&, t] { infos[t] = &KnowledgeBase::builtin().info(); });
    for (auto& th : threads) th.join();
    for (const auto* i : infos) EXPECT_EQ(i, infos[0]);
}
