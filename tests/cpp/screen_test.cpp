// KnowledgeBase::screen: exact rows for known regimens of the built-in pack, unresolved inputs as
// rows, options, limits, malformed batches, and the same rows as check() on any number of threads.

#include "detail/huge_pages.hpp"  // RXCAUTION_NO_HUGE_PAGES
#include "test_support.hpp"

#include <rxcaution/screen.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <mutex>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

using namespace rxcaution;
using rxtest::kb;

namespace {

// A row as text, so that a failing comparison prints something readable.
std::string row_text(const ScreenRow& r) {
    const auto& k = kb();
    std::string s = std::to_string(r.regimen) + " " + std::string(to_string(r.kind));
    auto idx = [](std::uint32_t v) { return v == kNone ? std::string("-") : std::to_string(v); };
    s += " " + idx(r.input_a) + "," + idx(r.input_b);
    if (r.kind == ScreenRowKind::UnresolvedMedication || r.kind == ScreenRowKind::UnresolvedCondition)
        return s + " c" + idx(r.condition_input);
    s += " " + std::string(to_string(r.severity));
    std::string rule = "duplicate-ingredient";
    if (r.rule != kNone) {
        if (r.kind == ScreenRowKind::DrugDrug) rule = k.interactions()[r.rule].id;
        else if (r.kind == ScreenRowKind::DrugCondition) rule = k.contraindications()[r.rule].id;
        else rule = k.classes()[r.rule].id;
    }
    s += " " + rule;
    s += " " + (r.substance_a == kNone ? std::string("-") : k.substances()[r.substance_a].id);
    s += "/" + (r.substance_b == kNone ? std::string("-") : k.substances()[r.substance_b].id);
    if (r.condition_input != kNone) s += " c" + std::to_string(r.condition_input);
    return s;
}

std::vector<std::string> rows_text(const ScreenResult& res) {
    std::vector<std::string> out;
    for (const auto& r : res.rows) out.push_back(row_text(r));
    return out;
}

ScreenOptions threads(unsigned n) {
    ScreenOptions o;
    o.threads = n;
    return o;
}

// `count` regimens of min_size + (0 .. spread-1) names drawn from `names`, seeded.
std::vector<std::vector<std::string>> random_regimens(const std::vector<std::string>& names, int count, unsigned seed,
                                                      int min_size, int spread) {
    std::mt19937 rng(seed);
    std::vector<std::vector<std::string>> regs;
    for (int r = 0; r < count; ++r) {
        std::vector<std::string> meds;
        const int n = min_size + static_cast<int>(rng() % static_cast<unsigned>(spread));
        for (int i = 0; i < n; ++i) meds.push_back(names[rng() % names.size()]);
        regs.push_back(std::move(meds));
    }
    return regs;
}

// A row sink that keeps the rows it is given, counts its calls and notes whether two ever
// overlapped; `pause` (if set) runs inside each call.
struct RecordingSink {
    std::vector<ScreenRow> rows;
    std::size_t calls = 0;
    std::atomic<int> inside{0};
    bool overlapped = false;
    const ScreenRuleIds* ids_seen = nullptr;
    std::function<void(std::size_t)> pause;

    std::function<void(std::span<const ScreenRow>, const ScreenRuleIds&)> sink() {
        return [this](std::span<const ScreenRow> got, const ScreenRuleIds& ids) {
            if (inside.fetch_add(1) != 0) overlapped = true;
            ++calls;
            ids_seen = &ids;
            if (pause) pause(calls);
            rows.insert(rows.end(), got.begin(), got.end());
            inside.fetch_sub(1);
        };
    }
    [[nodiscard]] std::vector<std::string> text() const {
        ScreenResult as_stored;
        as_stored.rows = rows;
        return rows_text(as_stored);
    }
};

}  // namespace

TEST(Screen, KnownRegimensGiveExactRows) {
    const auto res = kb().screen({{"methadone", "ketamine"}, {"Suboxone", "alprazolam"}, {"sertraline"}}, {}, threads(1));
    EXPECT_EQ(rows_text(res), (std::vector<std::string>{
                                  "0 drug-drug 0,1 major ketamine-methadone methadone/ketamine",
                                  "0 drug-drug 0,1 major methadone-cns-depressants methadone/ketamine",
                                  "1 drug-drug 0,1 major buprenorphine-cns-depressants buprenorphine/alprazolam",
                              }));
    ASSERT_EQ(res.summaries.size(), 3u);
    EXPECT_EQ(res.summaries[0].warnings, 2u);
    EXPECT_EQ(res.summaries[0].by_severity[static_cast<int>(Severity::Major)], 2u);
    EXPECT_EQ(res.summaries[0].max_severity, static_cast<int>(Severity::Major));
    EXPECT_EQ(res.summaries[2].warnings, 0u);
    EXPECT_EQ(res.summaries[2].max_severity, -1);
    EXPECT_EQ(res.pairs_evaluated, 2u);  // 1 + 1 + 0
}

TEST(Screen, UnresolvedInputsAndConditionsAreRowsOfTheirOwn) {
    const auto res = kb().screen(
        {{"ketamine", "methadone", "blah"}, {"zzz", "zzz"}},
        {{"significant-hypertension", "blorp", "cardiovascular-disease"}, {}}, threads(1));
    EXPECT_EQ(rows_text(res), (std::vector<std::string>{
                                  "0 drug-condition 0,- contraindicated ketamine-significant-hypertension ketamine/- c0",
                                  "0 drug-drug 0,1 major ketamine-methadone ketamine/methadone",
                                  "0 drug-drug 0,1 major methadone-cns-depressants ketamine/methadone",
                                  "0 drug-condition 0,- moderate ketamine-cardiovascular-disease ketamine/- c0",  // reached through significant-hypertension
                                  "0 unresolved-medication 2,- c-",
                                  "0 unresolved-condition -,- c1",
                                  "1 unresolved-medication 0,- c-",
                                  "1 unresolved-medication 1,- c-",
                              }));
    EXPECT_EQ(res.summaries[0].unresolved_medications, 1u);
    EXPECT_EQ(res.summaries[0].unresolved_conditions, 1u);
    EXPECT_EQ(res.summaries[0].max_severity, static_cast<int>(Severity::Contraindicated));
    EXPECT_EQ(res.summaries[1].unresolved_medications, 2u);
    EXPECT_EQ(res.summaries[1].warnings, 0u);
}

TEST(Screen, RepeatsAreCheckedOnceAsCheckDoes) {
    // "Methadone" repeats "methadone" (same normalised text): no warning; Dolophine is methadone again.
    const auto res = kb().screen({{"methadone", "Methadone", "Dolophine"}}, {}, threads(1));
    EXPECT_EQ(rows_text(res), (std::vector<std::string>{
                                  "0 duplicate-therapy 0,2 moderate duplicate-ingredient methadone/-"}));
}

TEST(Screen, OptionsFilterSeverityKindsAndDuplicates) {
    const std::vector<std::vector<std::string>> regs{{"ketamine", "methadone", "Dolophine"}};
    const std::vector<std::vector<std::string>> conds{{"cardiovascular-disease"}};
    ScreenOptions major;
    major.min_severity = Severity::Major;
    major.threads = 1;
    for (const auto& row : kb().screen(regs, conds, major).rows) EXPECT_GE(row.severity, Severity::Major) << row_text(row);
    EXPECT_EQ(kb().screen(regs, conds, major).rows.size(), 4u);  // 2 drugs x 2 rules, no moderate rows

    ScreenOptions only_condition;
    only_condition.kinds = {WarningKind::DrugCondition};
    only_condition.threads = 1;
    EXPECT_EQ(rows_text(kb().screen(regs, conds, only_condition)),
              (std::vector<std::string>{"0 drug-condition 0,- moderate ketamine-cardiovascular-disease ketamine/- c0"}));

    ScreenOptions no_dup;
    no_dup.duplicate_therapy = false;
    no_dup.threads = 1;
    for (const auto& row : kb().screen(regs, conds, no_dup).rows)
        EXPECT_NE(row.kind, ScreenRowKind::DuplicateTherapy) << row_text(row);
    ScreenOptions all;
    all.threads = 1;
    const auto full = kb().screen(regs, conds, all);
    EXPECT_EQ(std::count_if(full.rows.begin(), full.rows.end(),
                            [](const ScreenRow& r) { return r.kind == ScreenRowKind::DuplicateTherapy; }),
              1);
}

TEST(Screen, ExplainAndReportGiveTheCheckOfTheRegimen) {
    const OwnedScreenBatch owned({{"sertraline"}, {"ketamine", "Suboxone"}});
    const auto res = kb().screen(owned.batch(), threads(1));
    ASSERT_FALSE(res.rows.empty());
    const auto details = explain(kb(), owned.batch(), res.rows[0]);
    const Report check = kb().check({"ketamine", "Suboxone"});
    EXPECT_EQ(details.id, check.details(check.warnings()[0]).id);
    EXPECT_EQ(details.explanation, check.details(check.warnings()[0]).explanation);
    EXPECT_EQ(screen_report(kb(), owned.batch(), 1).input_count(), 2u);
    EXPECT_THROW((void)screen_report(kb(), owned.batch(), 2), std::out_of_range);

    const OwnedScreenBatch unknown({{"zzz"}});
    const auto ures = kb().screen(unknown.batch());
    ASSERT_EQ(ures.rows.size(), 1u);
    try {
        (void)explain(kb(), unknown.batch(), ures.rows[0]);
        FAIL() << "explained an unresolved row";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "screen: an unresolved-medication row has no warning to explain (the input was not checked)");
    }
}

TEST(Screen, MalformedBatchesAndLimitsThrow) {
    const std::vector<std::string> texts{"methadone", "ketamine"};
    const std::vector<std::int32_t> codes{0, 1};
    const std::vector<std::int64_t> bad_start{1, 2};
    ScreenBatch b;
    b.medication_texts = texts;
    b.medication_codes = codes;
    b.regimen_offsets = bad_start;
    try {
        (void)kb().screen(b);
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "screen: medications offsets must start at 0");
    }
    const std::vector<std::int64_t> short_end{0, 1};
    b.regimen_offsets = short_end;
    try {
        (void)kb().screen(b);
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "screen: the last medications offset (1) is not the number of codes (2)");
    }
    const std::vector<std::int32_t> bad_codes{0, 2};
    const std::vector<std::int64_t> ok{0, 2};
    b.regimen_offsets = ok;
    b.medication_codes = bad_codes;
    try {
        (void)kb().screen(b);
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "screen: medication code 2 at entry 1 is outside its dictionary of 2 texts");
    }
    // A regimen over check()'s limit is refused like check() refuses it.
    const std::vector<std::int32_t> many(kMaxCheckMedications + 1, 0);
    const std::vector<std::int64_t> many_off{0, static_cast<std::int64_t>(many.size())};
    b.medication_codes = many;
    b.regimen_offsets = many_off;
    try {
        (void)kb().screen(b);
        FAIL();
    } catch (const LimitError& e) {
        EXPECT_EQ(e.limit(), kMaxCheckMedications);
        EXPECT_EQ(e.actual(), kMaxCheckMedications + 1);
    }
    EXPECT_THROW((void)kb().screen({{"methadone"}}, {{}, {}}), std::invalid_argument);
    // No regimens: nothing to do, nothing thrown.
    const std::vector<std::int64_t> none{0};
    ScreenBatch empty;
    empty.regimen_offsets = none;
    EXPECT_TRUE(kb().screen(empty).rows.empty());
}

// Random regimens drawn from the pack's names (and a few unknown, repeated and differently typed
// ones): screen rows equal check() warnings in order for every regimen, on 1, 2 and 4 threads.
TEST(Screen, EqualsCheckOnRandomRegimensOnAnyNumberOfThreads) {
    std::vector<std::string> names;
    for (const auto& s : kb().substances()) names.push_back(s.name);
    for (const auto& p : kb().products()) names.push_back(p.name);
    names.push_back("zorvatinex");
    names.push_back("METHADONE");
    // Names that resolve through the drug vocabulary or as RxNorm-style strings, as in a record.
    for (const char* text : {"warfarin", "aspirin", "acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet",
                             "{30 (buprenorphine 8 MG / naloxone 2 MG Sublingual Tablet) } Pack",
                             "alprazolam 0.5 MG Oral Tablet [Xanax]", "72 HR fentanyl 0.025 MG/HR Transdermal System"})
        for (int copies = 0; copies < 20; ++copies) names.push_back(text);
    std::vector<std::string> condition_names;
    for (const auto& c : kb().conditions()) condition_names.push_back(c.id);
    condition_names.push_back("not a condition");
    condition_names.push_back("F11.20");
    condition_names.push_back("severe bronchial asthma");
    std::mt19937 rng(11);
    std::vector<std::vector<std::string>> regs, conds;
    for (int r = 0; r < 3000; ++r) {
        std::vector<std::string> meds, cs;
        const int n = static_cast<int>(rng() % 9);
        for (int i = 0; i < n; ++i) meds.push_back(names[rng() % names.size()]);
        const int nc = static_cast<int>(rng() % 3);
        for (int i = 0; i < nc; ++i) cs.push_back(condition_names[rng() % condition_names.size()]);
        regs.push_back(std::move(meds));
        conds.push_back(std::move(cs));
    }
    const auto one = kb().screen(regs, conds, threads(1));
    std::size_t k = 0, cumulative_rows = 0;
    for (std::size_t r = 0; r < regs.size(); ++r) {
        CheckContext ctx;
        ctx.conditions = conds[r];
        const Report rep = kb().check(regs[r], ctx);
        for (const Warning& w : rep.warnings()) {
            ASSERT_LT(k, one.rows.size());
            const ScreenRow& row = one.rows[k++];
            ASSERT_EQ(row.regimen, r);
            EXPECT_EQ(row.kind, screen_row_kind(w.kind));
            EXPECT_EQ(row.severity, w.severity);
            EXPECT_EQ(row.implicated_count, w.implicated_count) << "regimen " << r;
            if (w.kind == WarningKind::Cumulative) ++cumulative_rows;
            EXPECT_EQ(std::tie(row.input_a, row.input_b, row.substance_a, row.substance_b, row.rule, row.condition_input),
                      std::tie(w.input_a, w.input_b, w.substance_a, w.substance_b, w.rule, w.condition_input))
                << "regimen " << r;
        }
        // Then one row per unresolved input, medications before conditions.
        for (const auto& in : rep.inputs()) {
            if (in.resolved) continue;
            ASSERT_LT(k, one.rows.size());
            EXPECT_EQ(one.rows[k++].kind, ScreenRowKind::UnresolvedMedication);
        }
        for (const auto& c : rep.conditions()) {
            if (c.resolved) continue;
            ASSERT_LT(k, one.rows.size());
            EXPECT_EQ(one.rows[k++].kind, ScreenRowKind::UnresolvedCondition);
        }
    }
    EXPECT_EQ(k, one.rows.size());
    // The random regimens meet cumulative rules (three or more CNS depressants...): the property
    // covers cumulative rows too.
    EXPECT_GT(cumulative_rows, 0u);
    for (unsigned t : {2u, 4u}) {
        const auto many = kb().screen(regs, conds, threads(t));
        EXPECT_EQ(rows_text(many), rows_text(one)) << t << " threads";
    }
}

// ScreenOptions::row_sink: the rows go to the sink batch by batch, in row order, one call at a time,
// exactly the rows screen() stores otherwise, on any number of threads; the result's rows stay
// empty; an exception from the sink stops the screen and comes out of screen(). Also with a slow
// sink: while one thread is in it, the others finish chunks and go on without waiting for it
// (they leave their chunks to the thread in the sink, which takes them after its own, or to the
// hand-over after the threads are done).
TEST(Screen, RowSinkReceivesTheRowsInOrderOnAnyNumberOfThreads) {
    std::vector<std::string> names;
    for (const auto& s : kb().substances()) names.push_back(s.name);
    for (const auto& p : kb().products()) names.push_back(p.name);
    names.push_back("zorvatinex");
    // Enough regimens for many chunks on each thread.
    const auto regs = random_regimens(names, 5000, 29, 0, 12);
    const auto stored = kb().screen(regs, {}, threads(1));
    ASSERT_GT(stored.rows.size(), 1000u);
    for (const auto& [t, slow] : {std::pair{1u, false}, {2u, false}, {4u, false}, {2u, true}, {3u, true}, {4u, true}}) {
        ScreenOptions o = threads(t);
        RecordingSink got;
        if (slow)  // long against a chunk's screening: other threads finish chunks meanwhile
            got.pause = [](std::size_t call) {
                std::this_thread::sleep_for(std::chrono::microseconds(call % 3 == 0 ? 2000 : 200));
            };
        o.row_sink = got.sink();
        const auto res = kb().screen(OwnedScreenBatch(regs).batch(), o);
        const std::string how = std::to_string(t) + " threads" + (slow ? ", slow sink" : "");
        EXPECT_TRUE(res.rows.empty()) << how;
        EXPECT_FALSE(got.overlapped) << how;
        EXPECT_GT(got.calls, 1u) << how;
        EXPECT_EQ(got.ids_seen, res.rule_ids.get()) << how;
        EXPECT_EQ(got.text(), rows_text(stored)) << how;
        EXPECT_EQ(res.summaries.size(), stored.summaries.size());
        EXPECT_EQ(res.pairs_evaluated, stored.pairs_evaluated);
    }
    for (unsigned t : {1u, 2u}) {
        ScreenOptions o = threads(t);
        std::size_t calls = 0;
        o.row_sink = [&](std::span<const ScreenRow>, const ScreenRuleIds&) {
            if (++calls == 2) throw std::runtime_error("sink full");
        };
        try {
            (void)kb().screen(OwnedScreenBatch(regs).batch(), o);
            ADD_FAILURE() << "no exception on " << t << " threads";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "sink full");
        }
        EXPECT_EQ(calls, 2u) << t << " threads";
    }
}

// Every substance name of the built-in pack, and one name no pack knows.
static std::vector<std::string> substance_names_and_an_unknown() {
    std::vector<std::string> names;
    for (const auto& s : kb().substances()) names.push_back(s.name);
    names.push_back("zorvatinex");
    return names;
}

// ScreenOptions::summaries = false: the same rows (stored or through a sink), the same pair count,
// and no summaries at all.
TEST(Screen, WithoutSummariesTheRowsAreTheSame) {
    const auto names = substance_names_and_an_unknown();
    const auto regs = random_regimens(names, 3000, 31, 0, 12);
    const auto with = kb().screen(regs, {}, threads(1));
    ASSERT_EQ(with.summaries.size(), regs.size());
    for (unsigned t : {1u, 2u}) {
        ScreenOptions o = threads(t);
        o.summaries = false;
        const auto stored = kb().screen(OwnedScreenBatch(regs).batch(), o);
        EXPECT_TRUE(stored.summaries.empty()) << t << " threads";
        EXPECT_EQ(rows_text(stored), rows_text(with)) << t << " threads";
        EXPECT_EQ(stored.pairs_evaluated, with.pairs_evaluated);
        RecordingSink got;
        o.row_sink = got.sink();
        const auto sunk = kb().screen(OwnedScreenBatch(regs).batch(), o);
        EXPECT_TRUE(sunk.summaries.empty());
        EXPECT_EQ(got.text(), rows_text(with)) << t << " threads";
    }
}

// ScreenOptions::summary_sink: every regimen's summary reaches the sink once, in ranges of whole
// chunks that never overlap, equal to the stored summaries, on any number of threads (also with a
// row sink); ScreenResult::summaries stays empty; with summaries = false the sink is not called;
// an exception from it comes out of screen().
TEST(Screen, SummarySinkReceivesEverySummaryOnce) {
    const auto names = substance_names_and_an_unknown();
    const auto regs = random_regimens(names, 6000, 37, 0, 12);
    const auto stored = kb().screen(regs, {}, threads(1));
    ASSERT_EQ(stored.summaries.size(), regs.size());
    auto same = [](const ScreenSummary& a, const ScreenSummary& b) {
        return a.medications == b.medications && a.conditions == b.conditions && a.warnings == b.warnings &&
               std::equal(std::begin(a.by_severity), std::end(a.by_severity), std::begin(b.by_severity)) &&
               a.unresolved_medications == b.unresolved_medications &&
               a.unresolved_conditions == b.unresolved_conditions && a.max_severity == b.max_severity;
    };
    for (const auto& [t, with_rows] : {std::pair{1u, false}, {2u, false}, {4u, false}, {2u, true}}) {
        ScreenOptions o = threads(t);
        std::mutex m;
        std::vector<int> seen(regs.size(), 0);
        std::vector<ScreenSummary> got(regs.size());
        std::size_t calls = 0;
        o.summary_sink = [&](std::size_t first, std::span<const ScreenSummary> sums) {
            const std::lock_guard<std::mutex> lock(m);
            ++calls;
            for (std::size_t k = 0; k < sums.size(); ++k) {
                ++seen[first + k];
                got[first + k] = sums[k];
            }
        };
        RecordingSink rows;
        if (with_rows) o.row_sink = rows.sink();
        const auto res = kb().screen(OwnedScreenBatch(regs).batch(), o);
        const std::string how = std::to_string(t) + " threads" + (with_rows ? ", row sink" : "");
        EXPECT_TRUE(res.summaries.empty()) << how;
        EXPECT_GT(calls, 1u) << how;
        EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<std::ptrdiff_t>(regs.size())) << how;
        for (std::size_t r = 0; r < regs.size(); ++r) ASSERT_TRUE(same(got[r], stored.summaries[r])) << how << ", regimen " << r;
        EXPECT_EQ(with_rows ? rows.text() : rows_text(res), rows_text(stored)) << how;
    }
    ScreenOptions none = threads(2);
    none.summaries = false;
    bool called = false;
    none.summary_sink = [&](std::size_t, std::span<const ScreenSummary>) { called = true; };
    EXPECT_EQ(rows_text(kb().screen(OwnedScreenBatch(regs).batch(), none)), rows_text(stored));
    EXPECT_FALSE(called);
    for (unsigned t : {1u, 2u}) {
        ScreenOptions o = threads(t);
        o.summary_sink = [](std::size_t first, std::span<const ScreenSummary>) {
            if (first > 0) throw std::runtime_error("summaries full");
        };
        try {
            (void)kb().screen(OwnedScreenBatch(regs).batch(), o);
            ADD_FAILURE() << "no exception on " << t << " threads";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "summaries full");
        }
    }
}

// Above a few thousand distinct texts they are resolved on the worker threads, each with its own
// pool of RxNorm-style ingredients: every text must resolve as check() resolves it, whatever the
// number of threads.
TEST(Screen, ManyDistinctTextsResolveOnTheWorkerThreadsAsCheckDoes) {
    // (std::string("...") + ...: GCC 12 at -O3 warns -Wrestrict, falsely, on "literal" + std::string.)
    std::vector<std::string> names;
    for (const auto& s : kb().substances()) names.push_back(s.name);
    for (int k = 0; k < 12000; ++k) {
        switch (k % 4) {
            case 0: names.push_back(std::string("acetaminophen 325 MG / oxycodone hydrochloride ") + std::to_string(k) + " MG Oral Tablet"); break;
            case 1: names.push_back(std::string("{") + std::to_string(k) + " (buprenorphine 8 MG / naloxone 2 MG Sublingual Tablet) } Pack"); break;
            case 2: names.push_back(std::string("zorvatinex") + std::to_string(k)); break;
            default: names.push_back(std::string("alprazolam ") + std::to_string(k) + " MG Oral Tablet [Xanax]"); break;
        }
    }
    std::mt19937 rng(5);
    std::vector<std::vector<std::string>> regs;
    for (std::size_t first = 0; first < names.size(); first += 3) {
        std::vector<std::string> meds;
        for (std::size_t k = first; k < std::min(names.size(), first + 3); ++k) meds.push_back(names[k]);
        meds.push_back(names[rng() % names.size()]);
        meds.push_back(kb().substances()[rng() % kb().substances().size()].name);
        regs.push_back(std::move(meds));
    }
    const auto one = kb().screen(regs, {}, threads(1));
    std::size_t k = 0, warnings = 0;
    for (std::size_t r = 0; r < regs.size(); ++r) {
        const Report rep = kb().check(regs[r]);
        for (const Warning& w : rep.warnings()) {
            ASSERT_LT(k, one.rows.size());
            const ScreenRow& row = one.rows[k++];
            ASSERT_EQ(row.regimen, r);
            EXPECT_EQ(std::tie(row.input_a, row.input_b, row.substance_a, row.substance_b, row.rule),
                      std::tie(w.input_a, w.input_b, w.substance_a, w.substance_b, w.rule))
                << "regimen " << r;
            ++warnings;
        }
        for (const auto& in : rep.inputs())
            if (!in.resolved) {
                ASSERT_LT(k, one.rows.size());
                EXPECT_EQ(one.rows[k++].kind, ScreenRowKind::UnresolvedMedication) << "regimen " << r;
            }
    }
    EXPECT_EQ(k, one.rows.size());
    EXPECT_GT(warnings, 3000u);  // the composite names met their partners: they resolved
    for (unsigned t : {2u, 4u}) {
        const auto many = kb().screen(regs, {}, threads(t));
        EXPECT_EQ(rows_text(many), rows_text(one)) << t << " threads";
        EXPECT_EQ(many.medication_resolved, one.medication_resolved) << t << " threads";
    }
}

// Several threads screening at once, each with its own pool (run under TSan by tools/run-tests.sh).
TEST(Screen, ConcurrentScreensOnSharedKnowledgeBase) {
    std::vector<std::vector<std::string>> regs;
    for (int r = 0; r < 2000; ++r)
        regs.push_back({"methadone", r % 2 ? "ketamine" : "Suboxone", "alprazolam", r % 3 ? "sertraline" : "zzz"});
    const auto expected = rows_text(kb().screen(regs, {}, threads(1)));
    std::vector<std::thread> ts;
    std::vector<int> same(3, 0);
    for (int t = 0; t < 3; ++t)
        ts.emplace_back([&, t] { same[static_cast<std::size_t>(t)] = rows_text(kb().screen(regs, {}, threads(2))) == expected; });
    for (auto& th : ts) th.join();
    EXPECT_EQ(same, (std::vector<int>{1, 1, 1}));
}

// The rule id table screen() hands out (ScreenRuleIds): one table per knowledge base, shared by
// its screens; every row's code names the rule the row's kind and index name; ids appear once.
TEST(Screen, RuleIdsNameEveryRowsRuleOncePerKnowledgeBase) {
    std::vector<std::string> names;
    for (const auto& s : kb().substances()) names.push_back(s.name);
    for (const auto& p : kb().products()) names.push_back(p.name);
    names.push_back("zorvatinex");
    std::vector<std::string> condition_names;
    for (const auto& c : kb().conditions()) condition_names.push_back(c.id);
    condition_names.push_back("not a condition");
    std::mt19937 rng(5);
    std::vector<std::vector<std::string>> regs, conds;
    for (int r = 0; r < 2000; ++r) {
        std::vector<std::string> meds, cs;
        for (int i = 0, n = static_cast<int>(rng() % 8); i < n; ++i) meds.push_back(names[rng() % names.size()]);
        if (r % 7 == 0) meds.insert(meds.end(), {"methadone", "Dolophine"});  // a duplicate ingredient
        if (r % 11 == 0) meds.insert(meds.end(), {"Catapres", "Kapvay"});     // a class duplicate
        for (int i = 0, n = static_cast<int>(rng() % 3); i < n; ++i)
            cs.push_back(condition_names[rng() % condition_names.size()]);
        regs.push_back(std::move(meds));
        conds.push_back(std::move(cs));
    }
    const auto res = kb().screen(regs, conds, threads(2));
    ASSERT_NE(res.rule_ids, nullptr);
    const ScreenRuleIds& ids = *res.rule_ids;
    const auto& k = kb();
    EXPECT_EQ(ids.codes.size(), k.info().interactions + k.contraindications().size() + k.classes().size() + 1 +
                                    k.cumulative_rules().size());
    std::vector<std::string_view> sorted(ids.ids.begin(), ids.ids.end());
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "an id appears twice";
    std::size_t seen[6] = {}, class_duplicates = 0;
    for (const ScreenRow& row : res.rows) {
        ++seen[static_cast<int>(row.kind)];
        if (row.kind == ScreenRowKind::DuplicateTherapy && row.rule != kNone) ++class_duplicates;
        const std::uint32_t code = ids.code(row);
        if (row.kind == ScreenRowKind::UnresolvedMedication || row.kind == ScreenRowKind::UnresolvedCondition) {
            EXPECT_EQ(code, kNone);
            continue;
        }
        ASSERT_LT(code, ids.ids.size()) << row_text(row);
        std::string_view want;
        switch (row.kind) {
            case ScreenRowKind::DrugDrug: want = k.interaction_id(row.rule); break;
            case ScreenRowKind::DrugCondition: want = k.contraindications()[row.rule].id; break;
            case ScreenRowKind::DuplicateTherapy:
                want = row.rule == kNone ? std::string_view("duplicate-ingredient") : std::string_view(k.classes()[row.rule].id);
                break;
            case ScreenRowKind::Cumulative: want = k.cumulative_rules()[row.rule].id; break;
            default: FAIL() << row_text(row);
        }
        EXPECT_EQ(ids.ids[code], want) << row_text(row);
    }
    for (int kind : {0, 1, 2, 3, 4, 5}) EXPECT_GT(seen[kind], 0u) << "no row of kind " << kind;
    EXPECT_GT(class_duplicates, 0u);
    for (std::size_t r = 0; r < k.info().interactions; ++r) ASSERT_EQ(ids.ids[ids.codes[r]], k.interaction_id(r));

    // Built once per knowledge base: a second screen shares the table; another knowledge base
    // (the same pack, loaded again) has its own, with another serial.
    EXPECT_EQ(kb().screen({{"methadone"}}).rule_ids, res.rule_ids);
    const KnowledgeBase other = KnowledgeBase::from_snapshot(kb().to_snapshot());
    const auto theirs = other.screen({{"methadone", "ketamine"}}).rule_ids;
    ASSERT_NE(theirs, nullptr);
    EXPECT_NE(theirs->serial, ids.serial);
    EXPECT_EQ(theirs->ids, ids.ids);  // same pack, same ids (views into each knowledge base)
}

// Each knowledge base keeps how the texts of its earlier screens resolved (two generations of at
// most 131,072 texts: a full generation becomes the older one, the older one is dropped, a text
// met in the older one moves back): a second screen of the same texts, composite and unknown
// names included, gives the rows of the first; screens of more texts than both generations hold,
// on several threads at once (dropping generations while the others read them; TSan in
// tools/run-tests.sh), still give the rows of a knowledge base that never cached them.
TEST(Screen, ResolvedTextsAreCachedPerKnowledgeBaseWithinABound) {
    const KnowledgeBase fresh = KnowledgeBase::from_snapshot(kb().to_snapshot());
    std::vector<std::vector<std::string>> regs;
    for (int r = 0; r < 600; ++r)
        regs.push_back({"methadone", "acetaminophen 325 MG / oxycodone hydrochloride " + std::to_string(r % 7 + 1) + " MG Oral Tablet",
                        r % 2 ? "Suboxone" : "zorvatinex" + std::to_string(r), "alprazolam 1 MG Oral Tablet [Xanax]", "ketamine"});
    const auto first = fresh.screen(regs, {}, threads(1));
    const auto again = fresh.screen(regs, {}, threads(2));
    EXPECT_EQ(rows_text(again), rows_text(first));
    EXPECT_EQ(again.medication_resolved, first.medication_resolved);
    // The same rows as a knowledge base whose cache never saw these texts, and as check().
    EXPECT_EQ(rows_text(KnowledgeBase::from_snapshot(kb().to_snapshot()).screen(regs, {}, threads(1))), rows_text(first));
    const Report rep = kb().check(regs[1]);
    std::size_t warning_rows = 0;
    for (const auto& row : first.rows)
        warning_rows += row.regimen == 1 && row.kind != ScreenRowKind::UnresolvedMedication &&
                        row.kind != ScreenRowKind::UnresolvedCondition;
    EXPECT_EQ(warning_rows, rep.warnings().size());
    EXPECT_GT(warning_rows, 2u);

    // Three batches of 92,000 distinct texts each (276,000 together, more than the two
    // generations hold), screened at once and twice each.
    std::vector<std::vector<std::vector<std::string>>> batches(3);
    for (int b = 0; b < 3; ++b)
        for (int r = 0; r < 46000; ++r)
            batches[static_cast<std::size_t>(b)].push_back(
                {"methadone", "unknown-" + std::to_string(b) + "-" + std::to_string(r), r % 5 ? "ketamine" : "alprazolam",
                 "acetaminophen 325 MG / oxycodone hydrochloride " + std::to_string(b * 46000 + r) + " MG Oral Tablet"});
    std::vector<std::vector<std::string>> expected;
    for (const auto& batch : batches) expected.push_back(rows_text(kb().screen(batch, {}, threads(1))));
    std::vector<int> same(6, 0);
    std::vector<std::thread> ts;
    for (std::size_t b = 0; b < 3; ++b)
        ts.emplace_back([&, b] {
            for (std::size_t round = 0; round < 2; ++round)
                same[b * 2 + round] = rows_text(fresh.screen(batches[b], {}, threads(2))) == expected[b];
        });
    for (auto& th : ts) th.join();
    EXPECT_EQ(same, (std::vector<int>(6, 1)));
    EXPECT_EQ(rows_text(fresh.screen(regs, {}, threads(1))), rows_text(first));
}

// A population of more distinct texts than one generation of the cache holds (the 1,000,000-
// regimen benchmark population has 77,455): its texts are resolved by the first screen only, and
// by none of the later ones, however its chunks are cut. (A single table emptied when a call would
// overfill it kept none of them: every screen resolved every text again.)
TEST(Screen, APopulationOfMoreTextsThanOneCacheGenerationIsResolvedOnce) {
    const KnowledgeBase fresh = KnowledgeBase::from_snapshot(kb().to_snapshot());
    std::vector<std::vector<std::string>> regs;
    for (int r = 0; r < 70000; ++r)  // 140,002 distinct texts, more than one generation's 131,072
        regs.push_back({"methadone", "unknown-" + std::to_string(r), "zorvatinex " + std::to_string(r), "ketamine"});
    const auto first = fresh.screen(regs, {}, threads(2));
    EXPECT_EQ(first.texts_resolved, 140002u);
    const auto again = fresh.screen(regs, {}, threads(2));
    EXPECT_EQ(again.texts_resolved, 0u);
    EXPECT_EQ(rows_text(again), rows_text(first));
    // In two chunks, twice over: still nothing to resolve.
    const std::vector<std::vector<std::string>> front(regs.begin(), regs.begin() + 35000), back(regs.begin() + 35000, regs.end());
    for (int round = 0; round < 2; ++round) {
        EXPECT_EQ(fresh.screen(front, {}, threads(1)).texts_resolved, 0u) << round;
        EXPECT_EQ(fresh.screen(back, {}, threads(1)).texts_resolved, 0u) << round;
    }
    // A text first met now is resolved once.
    regs.push_back({"unknown-new"});
    EXPECT_EQ(fresh.screen(regs, {}, threads(1)).texts_resolved, 1u);
    EXPECT_EQ(fresh.screen(regs, {}, threads(1)).texts_resolved, 0u);
}

// A screen's per-call tables of 256 KiB and more are kept once freed, for the screens that follow;
// release_screen_memory() gives them back to the operating system, and later screens (on fresh
// memory) give the same rows and keep buffers again.
TEST(Screen, ReleaseScreenMemoryGivesTheKeptBuffersBack) {
#if defined(__linux__) && !defined(RXCAUTION_NO_HUGE_PAGES)
    if (std::getenv("RXCAUTION_BLOCK_CACHE_MB") != nullptr)
        GTEST_SKIP() << "RXCAUTION_BLOCK_CACHE_MB is set: the default limit is what this test checks";
    std::vector<std::vector<std::string>> regs;
    for (int r = 0; r < 20000; ++r) regs.push_back({"methadone", "zz-memory-" + std::to_string(r), "ketamine"});
    const ScreenResult first = kb().screen(regs, {}, threads(1));  // 20,000 distinct texts: tables of 256 KiB+
    EXPECT_GT(screen_memory_kept(), 0u);
    EXPECT_LE(screen_memory_kept(), std::size_t{64} << 20);
    release_screen_memory();
    EXPECT_EQ(screen_memory_kept(), 0u);
    const ScreenResult again = kb().screen(regs, {}, threads(2));
    EXPECT_EQ(rows_text(again), rows_text(first));
    // Per regimen: the warnings of methadone with ketamine, and a row for the unknown name.
    EXPECT_EQ(again.rows.size(), 20000u * (kb().check({"methadone", "ketamine"}).warnings().size() + 1));
    EXPECT_GT(screen_memory_kept(), 0u);
#else
    GTEST_SKIP() << "screening buffers come from the heap in this build";
#endif
}
