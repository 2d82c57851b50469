// Regimen-check speed on the curated pack and on a synthetic pack at the scale a full
// interaction database reaches (~2,000 substances, ~200,000 rules, class rules included).
//
//   cmake -S . -B build -DRXCAUTION_BUILD_BENCH=ON && cmake --build build --target rxcaution_bench
//   ./build/bench/rxcaution_bench

#include <rxcaution/rxcaution.hpp>

#include <benchmark/benchmark.h>

#include <random>
#include <sstream>

using namespace rxcaution;

namespace {

const std::vector<std::string> kTen = {"methadone", "Suboxone", "alprazolam", "clarithromycin", "ondansetron",
                                       "sertraline", "gabapentin", "ketamine", "naltrexone", "quetiapine"};
const std::vector<std::string> kTwenty = {
    "methadone", "Suboxone", "alprazolam", "clarithromycin", "ondansetron", "sertraline", "gabapentin",
    "ketamine", "naltrexone", "quetiapine", "fluconazole", "rifampin", "efavirenz", "zolpidem",
    "tramadol", "phenelzine", "clonidine", "lofexidine", "methylphenidate", "alcohol"};

void BM_BuiltinCheck10(benchmark::State& state) {
    const auto kb = KnowledgeBase::builtin();
    for (auto _ : state) benchmark::DoNotOptimize(kb.check(kTen));
}
BENCHMARK(BM_BuiltinCheck10)->Unit(benchmark::kMicrosecond);

void BM_BuiltinCheck20WithConditions(benchmark::State& state) {
    const auto kb = KnowledgeBase::builtin();
    CheckContext ctx;
    ctx.conditions = {"hypertension", "long QT syndrome", "severe hepatic impairment"};
    for (auto _ : state) benchmark::DoNotOptimize(kb.check(kTwenty, ctx));
}
BENCHMARK(BM_BuiltinCheck20WithConditions)->Unit(benchmark::kMicrosecond);

void BM_BuiltinReportToJson(benchmark::State& state) {
    const auto kb = KnowledgeBase::builtin();
    const Report report = kb.check(kTen);
    for (auto _ : state) benchmark::DoNotOptimize(to_json(report, -1));
}
BENCHMARK(BM_BuiltinReportToJson)->Unit(benchmark::kMicrosecond);

void BM_BuiltinResolve(benchmark::State& state) {
    const auto kb = KnowledgeBase::builtin();
    for (auto _ : state) benchmark::DoNotOptimize(kb.resolve("methadone hydrochloride 10 mg tablet"));
}
BENCHMARK(BM_BuiltinResolve)->Unit(benchmark::kNanosecond);

void BM_BuiltinResolveMisspelled(benchmark::State& state) {
    const auto kb = KnowledgeBase::builtin();
    for (auto _ : state) benchmark::DoNotOptimize(kb.resolve("buprenorfine"));
}
BENCHMARK(BM_BuiltinResolveMisspelled)->Unit(benchmark::kMicrosecond);

void BM_BuiltinLoadFromJson(benchmark::State& state) {
    const std::string text = KnowledgeBase::builtin().to_json();
    for (auto _ : state) benchmark::DoNotOptimize(KnowledgeBase::from_json(text));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_BuiltinLoadFromJson)->Unit(benchmark::kMillisecond);

// A synthetic pack: n substances, 40 classes of 50 members, `rules` substance-pair rules plus
// 400 class-level rules. Deterministic (fixed seed).
std::string synthetic_pack(int substances, int rules) {
    std::mt19937 rng(42);
    std::ostringstream o;
    o << R"({"manifest":{"name":"synthetic","version":"1","format_version":1,"licence":"test"},)";
    o << R"("sources":[{"id":"s","title":"synthetic","kind":"dataset","grade":"secondary"}],"substances":[)";
    for (int i = 0; i < substances; ++i) o << (i ? "," : "") << R"({"id":"d)" << i << R"(","name":"drug )" << i << "\"}";
    o << R"(],"classes":[)";
    std::uniform_int_distribution<int> pick(0, substances - 1);
    for (int c = 0; c < 40; ++c) {
        o << (c ? "," : "") << R"({"id":"c)" << c << R"(","name":"class )" << c << R"(","members":[)";
        std::vector<int> seen;
        for (int m = 0; m < 50; ++m) {
            int s = pick(rng);
            if (std::find(seen.begin(), seen.end(), s) != seen.end()) continue;
            seen.push_back(s);
            o << (seen.size() > 1 ? "," : "") << R"({"substance":"d)" << s << R"(","sources":[{"source":"s"}]})";
        }
        o << "]}";
    }
    o << R"(],"interactions":[)";
    const char* sev[] = {"minor", "moderate", "major", "contraindicated"};
    for (int r = 0; r < rules; ++r) {
        int a = pick(rng), b = pick(rng);
        if (a == b) b = (b + 1) % substances;
        const bool cls = r < 400;
        o << (r ? "," : "") << R"({"id":"r)" << r << R"(","participants":[{"substance":"d)" << a << "\"},";
        if (cls) o << R"({"class":"c)" << (r % 40) << "\"}]";
        else o << R"({"substance":"d)" << b << "\"}]";
        o << R"(,"severity":")" << sev[r % 4]
          << R"(","summary":"x","effect":"x","mechanism":{"type":"unknown"},"management":"x","evidence":"secondary","sources":[{"source":"s"}]})";
    }
    o << "]}";
    return o.str();
}

const std::string& big_pack_text() {
    static const std::string text = synthetic_pack(2000, 200000);
    return text;
}

void BM_ScaleLoad2kSubstances200kRules(benchmark::State& state) {
    const std::string& text = big_pack_text();
    LoadOptions options;
    options.max_file_bytes = 512u << 20;
    for (auto _ : state) benchmark::DoNotOptimize(KnowledgeBase::from_json(text, options));
    state.counters["pack_MB"] = static_cast<double>(text.size()) / 1e6;
}
BENCHMARK(BM_ScaleLoad2kSubstances200kRules)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_ScaleCheck(benchmark::State& state) {
    LoadOptions options;
    options.max_file_bytes = 512u << 20;
    static const KnowledgeBase kb = KnowledgeBase::from_json(big_pack_text(), options);
    std::vector<std::string> meds;
    for (int i = 0; i < state.range(0); ++i) meds.push_back("d" + std::to_string(i * 97 % 2000));
    std::size_t warnings = 0;
    for (auto _ : state) {
        const Report r = kb.check(meds);
        warnings = r.warnings().size();
        benchmark::DoNotOptimize(r);
    }
    state.counters["warnings"] = static_cast<double>(warnings);
    state.counters["pairs"] = static_cast<double>(state.range(0) * (state.range(0) - 1) / 2);
    state.counters["compiled_pairs"] = static_cast<double>(kb.info().compiled_pairs);
}
BENCHMARK(BM_ScaleCheck)->Arg(10)->Arg(20)->Arg(50)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
