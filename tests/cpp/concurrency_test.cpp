#include "test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

using namespace rxcaution;

namespace {

// Runs body(t) on `count` threads released together, so that their first calls collide.
template <class Body>
void run_together(int count, Body body) {
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < count; ++t) {
        threads.emplace_back([&, t] {
            ++ready;
            while (ready.load() < count) std::this_thread::yield();
            body(t);
        });
    }
    for (auto& th : threads) th.join();
}

}  // namespace

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

// A snapshot keeps its rules encoded and decodes each on first use: threads racing to read the
// same rules for the first time must all get the same, complete rule (one copy kept per rule).
TEST(KnowledgeBase, ConcurrentFirstReadsOfSnapshotRulesAgree) {
    const KnowledgeBase kb = KnowledgeBase::from_snapshot(KnowledgeBase::builtin().to_snapshot());
    const KnowledgeBase& reference = KnowledgeBase::builtin();
    std::vector<std::string> ids;
    for (const auto& rule : reference.interactions()) ids.push_back(rule.id);
    constexpr int kThreads = 8;
    std::vector<std::vector<const InteractionRule*>> seen(kThreads);
    run_together(kThreads, [&](int t) {
        // Half the threads walk forwards, half backwards, so first reads collide.
        for (std::size_t k = 0; k < ids.size(); ++k) {
            const std::size_t i = t % 2 ? ids.size() - 1 - k : k;
            seen[t].push_back(&kb.interaction(ids[i]));
        }
        (void)to_json(kb.check({"ketamine", "Suboxone", "methadone", "clarithromycin"}));
    });
    for (int t = 1; t < kThreads; ++t) {
        auto mine = seen[t];
        if (t % 2) std::reverse(mine.begin(), mine.end());
        EXPECT_EQ(mine, seen[0]) << "thread " << t << " got other copies of the rules";
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const InteractionRule& got = *seen[0][i];
        const InteractionRule& want = reference.interaction(ids[i]);
        EXPECT_EQ(got.id, want.id);
        EXPECT_EQ(got.summary, want.summary);
        EXPECT_EQ(got.management, want.management);
        EXPECT_EQ(got.sources.size(), want.sources.size());
    }
    // interactions() decodes every rule once, in pack order.
    ASSERT_EQ(kb.interactions().size(), ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(kb.interactions()[i].id, ids[i]);
}

// The condition code and word indexes are built on the first condition resolved: threads that
// race to resolve conditions for the first time (by name, by ICD-10-CM code, by reordered words)
// must all get the report that one thread gets from another fresh copy.
TEST(KnowledgeBase, ConcurrentFirstConditionResolutionsAgree) {
    const KnowledgeBase warm = KnowledgeBase::from_snapshot(KnowledgeBase::builtin().to_snapshot());
    CheckContext context;
    context.conditions = {"hypertension", "icd10:I45.81", "asthma, severe", "hepatic impairment"};
    const std::vector<std::string> meds = {"ketamine", "methadone", "naltrexone", "ondansetron"};
    const std::string want = to_json(warm.check(meds, context));
    ASSERT_NE(want.find("\"matched_by\": \"code\""), std::string::npos);
    ASSERT_NE(want.find("\"matched_by\": \"words\""), std::string::npos);
    const KnowledgeBase cold = KnowledgeBase::from_snapshot(KnowledgeBase::builtin().to_snapshot());
    constexpr int kThreads = 8;
    std::vector<std::string> got(kThreads);
    run_together(kThreads, [&](int t) { got[t] = to_json(cold.check(meds, context)); });
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(got[t], want) << "thread " << t;
}

// Condition names (and the pool suggestions are ranked from) are indexed on the first condition
// resolved or suggested: threads racing to do either first must all get what a warm copy gives.
TEST(KnowledgeBase, ConcurrentFirstConditionSuggestionsAgree) {
    const KnowledgeBase warm = KnowledgeBase::from_snapshot(KnowledgeBase::builtin().to_snapshot());
    const std::vector<std::string> texts = {"hypertensoin", "asthma", "hepatic impairment", "QT prolongation"};
    std::vector<std::string> want;
    for (const auto& text : texts) {
        const auto r = warm.resolve_condition(text);
        std::string line = text + " -> " + (r.resolved ? r.id + " by " + r.matched_by : "unresolved") + ":";
        for (const auto& s : r.suggestions) line += " " + s;
        want.push_back(line);
    }
    ASSERT_EQ(want[0], "hypertensoin -> unresolved: Hypertension Hypotension");  // suggestions, ranked from the pool
    const KnowledgeBase cold = KnowledgeBase::from_snapshot(KnowledgeBase::builtin().to_snapshot());
    constexpr int kThreads = 8;
    std::vector<std::vector<std::string>> got(kThreads);
    run_together(kThreads, [&](int t) {
        // Each thread starts at another text, so that both kinds of first call collide.
        for (std::size_t k = 0; k < texts.size(); ++k) {
            const std::size_t i = (k + static_cast<std::size_t>(t)) % texts.size();
            const auto r = cold.resolve_condition(texts[i]);
            std::string line = texts[i] + " -> " + (r.resolved ? r.id + " by " + r.matched_by : "unresolved") + ":";
            for (const auto& s : r.suggestions) line += " " + s;
            got[t].push_back(line);
        }
        std::rotate(got[t].begin(), got[t].end() - static_cast<std::ptrdiff_t>(t % texts.size()), got[t].end());
    });
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(got[t], want) << "thread " << t;
}
