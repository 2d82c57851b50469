// Load time of a pack, for issue 9's measurements: run it under `/usr/bin/time -v` for peak RSS.
//
//   rxcaution_bench_load PATH [REPEATS]     KnowledgeBase::load(PATH), REPEATS times (default 3)
//   rxcaution_bench_load --text PATH [N]    KnowledgeBase::from_json(text of PATH)
//   rxcaution_bench_load --builtin          first KnowledgeBase::builtin() of the process, with the
//                                           minor page faults it took
//   rxcaution_bench_load --builtin-check    builtin(), then the first check of a 5-name regimen, each
//                                           timed and both together (a load must not just move its
//                                           cost to the first query)
//   rxcaution_bench_load --round-trip PATH  from_json(to_json(kb)) after loading PATH
//   rxcaution_bench_load --vocabulary       builtin(), then the first name that needs the drug
//                                           vocabulary (parsed on first use), then a second one
//   rxcaution_bench_load --resolve TEXT [N] mean time of KnowledgeBase::resolve(TEXT) over N calls
//
// Prints one line per load: milliseconds, and the number of rules as a check that it loaded.

#include <rxcaution/rxcaution.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {
double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}
long minor_faults() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}
}  // namespace

int main(int argc, char** argv) {
    using rxcaution::KnowledgeBase;
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s [--text|--builtin|--round-trip] PATH [REPEATS]\n", argv[0]);
        return 1;
    }
    const std::string mode = argv[1];
    try {
        if (mode == "--vocabulary") {
            auto start = std::chrono::steady_clock::now();
            const auto kb = KnowledgeBase::builtin();
            std::printf("builtin %.2f ms\n", ms_since(start));
            start = std::chrono::steady_clock::now();
            const auto first = kb.resolve("warfarin");
            std::printf("first vocabulary lookup (parses the vocabulary) %.2f ms (%s)\n", ms_since(start), first.id.c_str());
            start = std::chrono::steady_clock::now();
            const auto second = kb.resolve("metformin");
            std::printf("second vocabulary lookup %.3f ms (%s)\n", ms_since(start), second.id.c_str());
            return 0;
        }
        if (mode == "--resolve" && argc >= 3) {
            const auto kb = KnowledgeBase::builtin();
            const std::string text = argv[2];
            const int n = argc > 3 ? std::atoi(argv[3]) : 10000;
            auto r = kb.resolve(text);  // warm-up: the vocabulary is parsed on first use
            const auto start = std::chrono::steady_clock::now();
            for (int i = 0; i < n; ++i) r = kb.resolve(text);
            std::printf("resolve %.2f us (%s by %s, %zu ingredients)\n", ms_since(start) * 1000.0 / n,
                        r.resolved ? "resolved" : "unresolved", r.matched_by.c_str(), r.ingredients.size());
            return 0;
        }
        if (mode == "--builtin") {
            const long faults = minor_faults();
            const auto start = std::chrono::steady_clock::now();
            const auto kb = KnowledgeBase::builtin();
            const double ms = ms_since(start);
            std::printf("builtin %.2f ms (%zu rules, %ld page faults)\n", ms, kb.info().interactions,
                        minor_faults() - faults);
            return 0;
        }
        if (mode == "--builtin-check") {
            const auto start = std::chrono::steady_clock::now();
            const auto kb = KnowledgeBase::builtin();
            const double load = ms_since(start);
            const auto at = std::chrono::steady_clock::now();
            const auto report = kb.check({"Suboxone", "methadone", "ketamine", "fluconazole", "alprazolam"});
            const double first = ms_since(at);
            std::printf("builtin+check %.2f ms (builtin %.2f ms, first check %.2f ms, %zu warnings)\n", ms_since(start),
                        load, first, report.warnings().size());
            return 0;
        }
        const bool text_mode = mode == "--text" || mode == "--round-trip";
        const std::string path = text_mode ? argv[2] : argv[1];
        const int repeats = std::atoi(argc > (text_mode ? 3 : 2) ? argv[text_mode ? 3 : 2] : "3");
        std::string text;
        if (text_mode) {
            std::ifstream in(path, std::ios::binary);
            std::stringstream s;
            s << in.rdbuf();
            text = s.str();
        }
        if (mode == "--round-trip") {
            const auto kb = KnowledgeBase::from_json(text);
            auto start = std::chrono::steady_clock::now();
            const std::string again = kb.to_json();
            std::printf("to_json %.1f ms (%zu bytes)\n", ms_since(start), again.size());
            start = std::chrono::steady_clock::now();
            const auto copy = KnowledgeBase::from_json(again);
            std::printf("from_json(to_json) %.1f ms (%zu rules)\n", ms_since(start), copy.info().interactions);
            return 0;
        }
        for (int i = 0; i < repeats; ++i) {
            const auto start = std::chrono::steady_clock::now();
            const auto kb = text_mode ? KnowledgeBase::from_json(text) : KnowledgeBase::load(path);
            std::printf("load %.1f ms (%zu rules)\n", ms_since(start), kb.info().interactions);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
