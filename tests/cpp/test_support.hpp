#pragma once
// Helpers shared by the GoogleTest suites.

#include <rxcaution/rxcaution.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace rxtest {

inline std::string data_path(const std::string& name) { return std::string(RXCAUTION_TEST_DATA_DIR) + "/" + name; }

// The whole file as its bytes (empty when it cannot be read).
inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

inline const rxcaution::KnowledgeBase& kb() {
    static const rxcaution::KnowledgeBase instance = rxcaution::KnowledgeBase::builtin();
    return instance;
}

inline std::vector<std::string> rule_ids(const rxcaution::Report& r) {
    std::vector<std::string> out;
    for (const auto& w : r.details()) out.push_back(w.rule);
    return out;
}

// The first warning of a rule, written out (empty when none fired).
inline std::optional<rxcaution::WarningDetails> find_warning(const rxcaution::Report& r, const std::string& rule) {
    for (const auto& w : r.warnings())
        if (r.rule_id(w) == rule) return r.details(w);
    return std::nullopt;
}

inline bool cites(const rxcaution::WarningDetails& w, const std::string& source) {
    return std::any_of(w.sources.begin(), w.sources.end(), [&](const auto& s) { return s.id == source; });
}

inline bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace rxtest
