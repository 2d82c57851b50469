#pragma once
// The built-in pack as a snapshot, compiled from data/ at build time (apps/packc.cpp) and linked
// into the library (cmake/EmbedSnapshot.cmake). Empty in the pack compiler itself, which runs
// before the snapshot exists.

#include <string_view>

namespace rxcaution::detail {

std::string_view embedded_snapshot() noexcept;

}  // namespace rxcaution::detail
