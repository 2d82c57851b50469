// Throughput of KnowledgeBase::screen in C++ alone (issue 11), on a population file written by
// bench/population.py (CSV, regimen_id,medication, a regimen's rows consecutive) and a pack or
// snapshot (e.g. the DDInter-derived pack of bench/ddinter_pack.py). No Python: this is the core
// that the Python and command-line front ends call, timed in CPU time and wall time.
//
//   python bench/population.py PACK.json pop.csv --regimens 200000
//   ./build/bench/rxcaution_bench_screen PACK pop.csv [threads] [repeats]
//   ./build/bench/rxcaution_bench_screen PACK random:20000:10 [threads] [repeats]
//
// `random:N:K` screens N regimens of K distinct substance names of the pack drawn at random (the
// shape of the Python screen target) instead of a population file. Besides the whole call, the
// evaluation's own rate is printed: the call's CPU time less the time to resolve the distinct
// texts alone.

#include <rxcaution/rxcaution.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

using namespace rxcaution;

namespace {

double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s PACK POPULATION.csv [threads] [repeats]\n", argv[0]);
        return 1;
    }
    const unsigned threads = argc > 3 ? static_cast<unsigned>(std::stoul(argv[3])) : 1;
    const int repeats = argc > 4 ? std::stoi(argv[4]) : 5;
    LoadOptions load;
    load.max_file_bytes = std::uint64_t{1} << 30;
    const KnowledgeBase kb = KnowledgeBase::load(argv[1], load);
    std::vector<std::string> texts;
    std::unordered_map<std::string, std::int32_t> code_of;
    std::vector<std::int64_t> offsets{0};
    std::vector<std::int32_t> codes;
    const std::string source = argv[2];
    if (source.rfind("random:", 0) == 0) {
        const auto colon = source.find(':', 7);
        if (colon == std::string::npos) {
            std::fprintf(stderr, "random:N:K expected, got %s\n", source.c_str());
            return 1;
        }
        const std::size_t regimens = std::stoul(source.substr(7, colon - 7));
        const std::size_t names = std::stoul(source.substr(colon + 1));
        for (const auto& sub : kb.substances()) texts.emplace_back(sub.name);
        if (names > texts.size()) {
            std::fprintf(stderr, "the pack has %zu substances, fewer than %zu\n", texts.size(), names);
            return 1;
        }
        // Raw mt19937 output (whose sequence the standard fixes), so every platform draws the same.
        std::mt19937 rng(20261130);
        std::vector<std::int32_t> picked;
        for (std::size_t r = 0; r < regimens; ++r) {
            picked.clear();
            while (picked.size() < names) {
                const auto k = static_cast<std::int32_t>(rng() % texts.size());
                if (std::find(picked.begin(), picked.end(), k) == picked.end()) picked.push_back(k);
            }
            codes.insert(codes.end(), picked.begin(), picked.end());
            offsets.push_back(static_cast<std::int64_t>(codes.size()));
        }
    }
    std::ifstream in;
    if (offsets.size() == 1) {
        in.open(argv[2]);
        if (!in.is_open()) {
            std::fprintf(stderr, "cannot read %s\n", argv[2]);
            return 1;
        }
    }
    std::string line;
    if (in.is_open()) std::getline(in, line);  // header
    std::string last_id;
    while (in.is_open() && std::getline(in, line)) {
        const auto comma = line.find(',');
        if (comma == std::string::npos) continue;
        std::string id = line.substr(0, comma), med = line.substr(comma + 1);
        if (med.size() >= 2 && med.front() == '"') med = med.substr(1, med.size() - 2);
        if (id != last_id && !codes.empty()) offsets.push_back(static_cast<std::int64_t>(codes.size()));
        last_id = id;
        const auto [it, fresh] = code_of.try_emplace(med, static_cast<std::int32_t>(texts.size()));
        if (fresh) texts.push_back(med);
        codes.push_back(it->second);
    }
    if (in.is_open()) offsets.push_back(static_cast<std::int64_t>(codes.size()));
    ScreenBatch batch;
    batch.medication_texts = texts;
    batch.regimen_offsets = offsets;
    batch.medication_codes = codes;
    ScreenOptions options;
    options.threads = threads;
    double best_cpu = 1e9, best_wall = 1e9;
    std::uint64_t pairs = 0;
    std::size_t rows = 0;
    for (int k = 0; k < repeats; ++k) {
        const double c0 = cpu_seconds();
        const auto w0 = std::chrono::steady_clock::now();
        const ScreenResult res = kb.screen(batch, options);
        best_wall = std::min(best_wall, std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count());
        best_cpu = std::min(best_cpu, cpu_seconds() - c0);
        pairs = res.pairs_evaluated;
        rows = res.rows.size();
    }
    std::printf("%zu regimens, %zu entries, %zu distinct texts, %llu pair-evaluations, %zu rows, %u thread(s)\n",
                offsets.size() - 1, codes.size(), texts.size(), static_cast<unsigned long long>(pairs), rows, threads);
    std::printf("best of %d: CPU %.1f ms (%.1f M pair-evals/s), wall %.1f ms (%.1f M pair-evals/s)\n", repeats,
                best_cpu * 1e3, static_cast<double>(pairs) / best_cpu / 1e6, best_wall * 1e3,
                static_cast<double>(pairs) / best_wall / 1e6);
    // The part of a call that depends on the distinct texts only: each resolved once, then one
    // single-entry regimen per text (no pairs).
    std::vector<std::int64_t> one(texts.size() + 1);
    std::vector<std::int32_t> each(texts.size());
    for (std::size_t k = 0; k < texts.size(); ++k) {
        one[k + 1] = static_cast<std::int64_t>(k + 1);
        each[k] = static_cast<std::int32_t>(k);
    }
    ScreenBatch distinct;
    distinct.medication_texts = texts;
    distinct.regimen_offsets = one;
    distinct.medication_codes = each;
    double resolve_cpu = 1e9;
    for (int k = 0; k < repeats; ++k) {
        const double c0 = cpu_seconds();
        const ScreenResult res = kb.screen(distinct, options);
        resolve_cpu = std::min(resolve_cpu, cpu_seconds() - c0);
    }
    std::printf("resolving the %zu distinct texts alone (one single-entry regimen each): CPU %.1f ms\n", texts.size(),
                resolve_cpu * 1e3);
    if (best_cpu > resolve_cpu)
        std::printf("evaluation alone (CPU less resolving): %.1f ms (%.1f M pair-evals/s)\n", (best_cpu - resolve_cpu) * 1e3,
                    static_cast<double>(pairs) / (best_cpu - resolve_cpu) / 1e6);
    return 0;
}
