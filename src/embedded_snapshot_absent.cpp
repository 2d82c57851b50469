// The pack compiler (apps/packc.cpp) links this instead of the built-in snapshot it is about to
// write.

#include "detail/embedded_snapshot.hpp"

namespace rxcaution::detail {

std::string_view embedded_snapshot() noexcept { return {}; }

}  // namespace rxcaution::detail
