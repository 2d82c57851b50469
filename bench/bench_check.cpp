// Regimen-check speed on the curated pack, on a synthetic pack at the scale a full interaction
// database reaches (~2,000 substances, ~200,000 rules, class rules included) and, when
// RXCAUTION_BENCH_PACK names a pack file (e.g. the DDInter-derived pack that
// bench/ddinter_pack.py writes), on that pack: load, check of 10 and 20 names, screen of 20,000
// regimens of 5, 10 and 20 names on one thread, rules_for and interactions_between. Without the variable those pack benchmarks are skipped with a message.
//
//   cmake -S . -B build -DRXCAUTION_BUILD_BENCH=ON && cmake --build build --target rxcaution_bench
//   ./build/bench/rxcaution_bench
//   python3 bench/ddinter_pack.py /tmp/ddinter-pack.json
//   RXCAUTION_BENCH_PACK=/tmp/ddinter-pack.json ./build/bench/rxcaution_bench --benchmark_filter=Pack
//
// Only the public API is used (and, of it, what the engine refactor keeps), so that the same file
// gives "before" and "after" figures.

#include <rxcaution/rxcaution.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

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
    for (int i = 0; i < state.range(0); ++i) {
        // Appending (rather than "d" + to_string) avoids GCC 12's false -Wrestrict positive.
        std::string id = "d";
        id += std::to_string(i * 97 % 2000);
        meds.push_back(std::move(id));
    }
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

// --- a pack from a file (RXCAUTION_BENCH_PACK) -------------------------------------------------

LoadOptions big_pack_options() {
    LoadOptions options;
    options.max_file_bytes = std::size_t{1} << 30;  // the DDInter-derived pack is ~45 MB
    return options;
}

struct PackFixture {
    std::filesystem::path path;
    KnowledgeBase kb;
    std::vector<std::vector<std::string>> regimens10, regimens20;
    std::vector<std::string> ids;
    std::vector<std::pair<std::string, std::string>> interacting, unrelated;
};

// Indexes drawn from mt19937's raw output (whose sequence the standard fixes), not through a
// distribution (whose algorithm it does not), so every platform benchmarks the same regimens.
std::vector<std::string> sample_names(const std::vector<std::string>& names, std::size_t count, std::mt19937& rng) {
    std::vector<std::string> out;
    std::vector<std::size_t> taken;
    while (out.size() < count && out.size() < names.size()) {
        const std::size_t i = rng() % names.size();
        if (std::find(taken.begin(), taken.end(), i) != taken.end()) continue;
        taken.push_back(i);
        out.push_back(names[i]);
    }
    return out;
}

const PackFixture& pack_fixture(const std::filesystem::path& path) {
    static const PackFixture fixture = [&] {
        PackFixture f{path, KnowledgeBase::load(path, big_pack_options()), {}, {}, {}, {}, {}};
        std::vector<std::string> names;
        for (const auto& s : f.kb.substances()) {
            names.emplace_back(s.name);
            f.ids.emplace_back(s.id);
        }
        std::mt19937 rng(20261129);
        for (int i = 0; i < 256; ++i) f.regimens10.push_back(sample_names(names, 10, rng));
        for (int i = 0; i < 256; ++i) f.regimens20.push_back(sample_names(names, 20, rng));
        std::vector<std::string> ids = f.ids;
        std::shuffle(ids.begin(), ids.end(), rng);
        ids.resize(std::min<std::size_t>(ids.size(), 256));
        f.ids = ids;
        // Half the probed pairs interact, half do not: a pair probe is rarely a hit in a real
        // regimen, but a hit is the expensive case.
        for (int tries = 0; tries < 200000 && (f.interacting.size() < 128 || f.unrelated.size() < 128); ++tries) {
            auto pair = sample_names(names, 2, rng);
            if (pair.size() < 2) break;
            auto& bucket = f.kb.interactions_between(pair[0], pair[1]).empty() ? f.unrelated : f.interacting;
            if (bucket.size() < 128) bucket.emplace_back(pair[0], pair[1]);
        }
        return f;
    }();
    return fixture;
}

constexpr int kScreenRegimens = 20000;

// Random regimens of `names` distinct substance names, drawn as the check benchmarks draw theirs.
const OwnedScreenBatch& screen_batch(const PackFixture& f, int names) {
    static std::vector<std::pair<int, std::unique_ptr<OwnedScreenBatch>>> made;
    for (const auto& [n, b] : made)
        if (n == names) return *b;
    std::vector<std::string> all;
    for (const auto& s : f.kb.substances()) all.emplace_back(s.name);
    std::mt19937 rng(20261130 + static_cast<unsigned>(names));
    std::vector<std::vector<std::string>> regimens;
    for (int i = 0; i < kScreenRegimens; ++i) regimens.push_back(sample_names(all, static_cast<std::size_t>(names), rng));
    made.emplace_back(names, std::make_unique<OwnedScreenBatch>(regimens, std::vector<std::vector<std::string>>{}));
    return *made.back().second;
}

void register_pack_benchmarks(const std::filesystem::path& path) {
    benchmark::RegisterBenchmark("BM_PackLoad", [path](benchmark::State& state) {
        for (auto _ : state) benchmark::DoNotOptimize(KnowledgeBase::load(path, big_pack_options()));
        state.counters["pack_MB"] = static_cast<double>(std::filesystem::file_size(path)) / 1e6;
    })->Unit(benchmark::kMillisecond)->Iterations(3);

    for (const int names : {10, 20}) {
        benchmark::RegisterBenchmark(("BM_PackCheck/" + std::to_string(names)).c_str(), [path, names](benchmark::State& state) {
            const PackFixture& f = pack_fixture(path);
            const auto& regimens = names == 10 ? f.regimens10 : f.regimens20;
            std::size_t i = 0, warnings = 0;
            for (auto _ : state) {
                const Report r = f.kb.check(regimens[i++ % regimens.size()]);
                warnings += r.warnings().size();
                benchmark::DoNotOptimize(r);
            }
            const double pairs = names * (names - 1) / 2.0;
            state.counters["pair_evals/s"] =
                benchmark::Counter(static_cast<double>(state.iterations()) * pairs, benchmark::Counter::kIsRate);
            state.counters["warnings/check"] =
                static_cast<double>(warnings) / static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
        })->Unit(benchmark::kMicrosecond);
    }

    // The screening core (issue 11) on 20,000 random regimens of 5, 10 or 20 of the pack's
    // substance names, one thread: the shape of the Python screen target (10 names). A call
    // resolves its distinct texts (at most the pack's names) once, then evaluates every regimen;
    // BM_PackScreenResolve times the first part alone (one single-name regimen per text), so the
    // evaluation's share is the difference.
    for (const int names : {5, 10, 20}) {
        benchmark::RegisterBenchmark(("BM_PackScreen/" + std::to_string(names)).c_str(), [path, names](benchmark::State& state) {
            const PackFixture& f = pack_fixture(path);
            const OwnedScreenBatch& batch = screen_batch(f, names);
            ScreenOptions options;
            options.threads = 1;
            std::uint64_t pairs = 0, rows = 0;
            for (auto _ : state) {
                const ScreenResult res = f.kb.screen(batch.batch(), options);
                pairs += res.pairs_evaluated;
                rows += res.rows.size();
                benchmark::DoNotOptimize(res);
            }
            state.counters["pair_evals/s"] = benchmark::Counter(static_cast<double>(pairs), benchmark::Counter::kIsRate);
            state.counters["rows/regimen"] =
                static_cast<double>(rows) / static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1)) / kScreenRegimens;
        })->Unit(benchmark::kMillisecond);
    }
    benchmark::RegisterBenchmark("BM_PackScreenResolve", [path](benchmark::State& state) {
        const PackFixture& f = pack_fixture(path);
        std::vector<std::vector<std::string>> singles;
        for (const auto& s : f.kb.substances()) singles.push_back({s.name});
        const OwnedScreenBatch batch(singles, {});
        ScreenOptions options;
        options.threads = 1;
        for (auto _ : state) benchmark::DoNotOptimize(f.kb.screen(batch.batch(), options));
    })->Unit(benchmark::kMillisecond);

    benchmark::RegisterBenchmark("BM_PackRulesFor", [path](benchmark::State& state) {
        const PackFixture& f = pack_fixture(path);
        std::size_t i = 0, rules = 0;
        for (auto _ : state) {
            const auto r = f.kb.rules_for(f.ids[i++ % f.ids.size()]);
            rules += r.size();
            benchmark::DoNotOptimize(r);
        }
        state.counters["rules/call"] =
            static_cast<double>(rules) / static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
    })->Unit(benchmark::kMicrosecond);

    for (const bool hit : {true, false}) {
        benchmark::RegisterBenchmark(hit ? "BM_PackInteractionsBetween/interacting" : "BM_PackInteractionsBetween/unrelated",
                                     [path, hit](benchmark::State& state) {
            const PackFixture& f = pack_fixture(path);
            const auto& pairs = hit ? f.interacting : f.unrelated;
            if (pairs.empty()) {
                state.SkipWithError("no such pairs found in the pack");
                return;
            }
            std::size_t i = 0;
            for (auto _ : state) {
                const auto& p = pairs[i++ % pairs.size()];
                benchmark::DoNotOptimize(f.kb.interactions_between(p.first, p.second));
            }
        })->Unit(benchmark::kMicrosecond);
    }
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    const char* pack = std::getenv("RXCAUTION_BENCH_PACK");
    if (pack == nullptr || *pack == '\0') {
        std::fprintf(stderr,
                     "RXCAUTION_BENCH_PACK is not set: skipping the pack benchmarks (BM_Pack*: load, check of 10 and "
                     "20 names, screen, rules_for, interactions_between). Build one with bench/ddinter_pack.py.\n");
    } else if (!std::filesystem::is_regular_file(pack)) {
        std::fprintf(stderr, "RXCAUTION_BENCH_PACK=%s is not a file\n", pack);
        return 1;
    } else {
        register_pack_benchmarks(pack);
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
