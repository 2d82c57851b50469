#pragma once
// The curated pack's files, embedded at build time by cmake/EmbedPack.cmake.

#include <string>
#include <string_view>
#include <vector>

namespace rxcaution::detail {

struct EmbeddedFile {
    std::string name;       // e.g. data/manifest.json (used in error messages)
    std::string_view text;
};

const std::vector<EmbeddedFile>& embedded_pack();

}  // namespace rxcaution::detail
