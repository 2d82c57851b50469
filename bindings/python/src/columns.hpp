#pragma once
// Internal header of the Python extension: the output columns of the screen and the encoders,
// built in C++ and handed to numpy without a copy.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "detail/huge_pages.hpp"

#include <type_traits>
#include <utility>
#include <vector>

namespace rxcaution::python {

namespace py = pybind11;

// An allocator whose resize() leaves new integers uninitialised: every column is written in full
// right after it grows, and value-initialising first was a memset of every column of every row
// (about 3% of a 20,000-regimen screen's call).
// Columns of 256 KiB and more are mappings of their own (detail::AdvisedAllocator): huge pages
// where they fill them, and kept for the next column of their shape once numpy frees them.
template <class T>
struct UninitAllocator : detail::AdvisedAllocator<T> {
    using value_type = T;
    UninitAllocator() = default;
    template <class U>
    UninitAllocator(const UninitAllocator<U>&) noexcept {}
    template <class U>
    struct rebind {
        using other = UninitAllocator<U>;
    };
    template <class U>
    void construct(U* p) noexcept {
        static_assert(std::is_trivially_default_constructible_v<U>);
        ::new (static_cast<void*>(p)) U;  // default-initialised: no value written
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};
template <class T>
using Column = std::vector<T, UninitAllocator<T>>;

// The vector's buffer itself, handed to numpy (freed with the array): no copy.
template <class T, class A>
py::array_t<T> owned_array(std::vector<T, A>&& v) {
    auto* heap = new std::vector<T, A>(std::move(v));
    py::capsule free_with_array(heap, [](void* p) { delete static_cast<std::vector<T, A>*>(p); });
    return py::array_t<T>({static_cast<py::ssize_t>(heap->size())}, {static_cast<py::ssize_t>(sizeof(T))}, heap->data(),
                          free_with_array);
}

}  // namespace rxcaution::python
