// An allocator for the few large tables that every check and screen reads at random places (the
// pair index of a whole-formulary pack): blocks of 512 KiB and more are mapped on their own,
// aligned to 2 MiB, and the kernel is asked to back them with huge pages (madvise MADV_HUGEPAGE;
// transparent huge pages in "madvise" or "always" mode). On the virtual machine this library was
// measured on, every 4 KiB page costs a two-level page walk on a TLB miss and, once the process
// has left its memory alone for a fraction of a second, a far slower first access: a 32 MiB
// memcpy took 18-19 ms in a row and 138-141 ms after 0.3 s of pure computation on 4 KiB pages,
// 5 and 7 ms on huge pages. With the pair index of the DDInter-derived pack (0.6 + 1.0 MiB) on
// huge pages, the core of a screen of 20,000 ten-name regimens from Python took 0.81-1.04x the
// time in a row (median 0.91x) and 0.71-1.00x after 0.3 s of other work (median 0.82x), in
// alternated processes, for 2.4 MiB more memory.
// Smaller blocks, other systems and sanitizer builds (whose checks do not cover such mappings)
// use std::allocator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define RXCAUTION_NO_HUGE_PAGES 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define RXCAUTION_NO_HUGE_PAGES 1
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(__linux__) && !defined(RXCAUTION_NO_HUGE_PAGES)
#define RXCAUTION_HUGE_PAGES 1
#endif

#include <rxcaution/export.hpp>

namespace rxcaution::detail {

inline constexpr std::size_t kHugePage = std::size_t{2} << 20;
// Below this a block keeps std::allocator: a huge page is 2 MiB of memory once touched, and a
// table of a few hundred KiB fits the TLB's reach on its own.
inline constexpr std::size_t kHugePageMinBlock = std::size_t{512} << 10;

// Whole huge pages holding `bytes`, and those of them a block written once should advise: the
// pages it fills, and the last one when it fills half of it or more (the rest of a huge page is
// resident memory nothing uses; the small pages of a tail less than half full cost less).
inline constexpr std::size_t huge_length(std::size_t bytes) noexcept {
    return (bytes + kHugePage - 1) / kHugePage * kHugePage;
}
inline constexpr std::size_t huge_advised(std::size_t bytes) noexcept {
    return (bytes + kHugePage / 2) / kHugePage * kHugePage;
}

// Gives back a mapping made here (map_aligned, map_huge, map_block), knowing only its length.
inline void unmap_block(void* p, std::size_t length) noexcept {
#if defined(__linux__)
    munmap(p, length);
#else
    (void)p;
    (void)length;
#endif
}

// A mapping of `length` bytes (a multiple of 2 MiB), 2 MiB aligned, whose first `advised` bytes
// are advised to use huge pages; nullptr when it cannot be made.
inline void* map_aligned(std::size_t length, std::size_t advised) noexcept {
#ifdef RXCAUTION_HUGE_PAGES
    void* raw = mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    const auto start = reinterpret_cast<std::uintptr_t>(raw);
    const auto aligned = (start + kHugePage - 1) & ~static_cast<std::uintptr_t>(kHugePage - 1);
    // The unaligned head and the tail beyond `length` go back at once: the block is exactly
    // [aligned, aligned + length), which can be given back knowing only its length.
    if (aligned > start) munmap(raw, aligned - start);
    const std::uintptr_t end = start + length + kHugePage;
    if (end > aligned + length) munmap(reinterpret_cast<void*>(aligned + length), end - (aligned + length));
    if (advised)  // advice only: a refusal changes nothing
        (void)madvise(reinterpret_cast<void*>(aligned), advised, MADV_HUGEPAGE);
    return reinterpret_cast<void*>(aligned);
#else
    (void)length;
    (void)advised;
    return nullptr;
#endif
}

// A mapping of at least `bytes`, 2 MiB aligned and a multiple of 2 MiB, advised to use huge pages
// (all of it, or with `written_once`, huge_advised(bytes) of it); nullptr when it cannot be made.
inline void* map_huge(std::size_t bytes, bool written_once = false) noexcept {
    return map_aligned(huge_length(bytes), written_once ? huge_advised(bytes) : huge_length(bytes));
}

// --- Written-once blocks (AdvisedAllocator): mappings of their own, kept for reuse when freed ---
// A screen's output columns are fresh memory every call, and a fresh page is a page fault (about
// 1.7 us on the virtual machine this was measured on). From the heap, glibc usually hands back
// memory that is already resident; but a process started with MALLOC_TRIM_THRESHOLD_ set (Dask
// starts its workers so) has glibc's mmap threshold fixed at 128 KiB, so every such block is a
// fresh mapping: a Dask partition of 125,000 regimens took 6,500 faults, about a fifth of its time.
// So these blocks are mappings of their own, and a freed one is kept (at most
// kBlockCacheDefaultBytes of them, RXCAUTION_BLOCK_CACHE_MB to change it, 0 for none) for the
// next block of the same shape, whatever glibc's settings.

inline constexpr std::size_t kBlockCacheDefaultBytes = std::size_t{64} << 20;
inline constexpr std::size_t kBlockCacheMaxBlocks = 64;
// Written-once blocks from this size on are mappings (smaller ones come from the heap).
inline constexpr std::size_t kColumnMinBlock = std::size_t{256} << 10;

// The mapping a written-once block of `bytes` gets: up to half a huge page, a power of two of small
// pages (so that blocks of about the same size share a shape, and a cached block fits the next);
// beyond, whole huge pages, advised where the block fills them (huge_advised).
struct BlockShape {
    std::size_t length = 0, advised = 0;
};
inline BlockShape block_shape(std::size_t bytes) noexcept {
    if (bytes <= kHugePage / 2) {
        std::size_t length = kColumnMinBlock;
        while (length < bytes) length *= 2;
        return {length, 0};
    }
    return {huge_length(bytes), huge_advised(bytes)};
}

// A cached mapping of that shape (most recently freed first), or nullptr.
RXCAUTION_EXPORT void* take_block(std::size_t length, std::size_t advised) noexcept;
// Keeps a freed mapping for reuse, evicting the oldest beyond the limits; false when it is not
// kept (larger than the limit, or the cache is off): the caller unmaps it.
RXCAUTION_EXPORT bool keep_block(void* p, std::size_t length, std::size_t advised) noexcept;
// The bytes (mapping lengths) of the blocks the cache holds.
RXCAUTION_EXPORT std::size_t cached_block_bytes() noexcept;
// Unmaps every block the cache holds.
RXCAUTION_EXPORT void release_cached_blocks() noexcept;

// A fresh mapping of that shape: small pages, or 2 MiB-aligned with its advice; nullptr when it
// cannot be made.
inline void* map_block(BlockShape shape) noexcept {
#ifdef RXCAUTION_HUGE_PAGES
    if (shape.length >= kHugePage) return map_aligned(shape.length, shape.advised);
    void* p = mmap(nullptr, shape.length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
#else
    (void)shape;
    return nullptr;
#endif
}

// std::allocator, except for blocks of MinBlock bytes and more on Linux, which are always their
// own mapping (map_huge, with its `written_once`; std::bad_alloc when it cannot be made, as from
// the heap): which kind a block is follows from its size, which allocate(n) and deallocate(p, n)
// both see. Written-once blocks are shaped by block_shape and kept for reuse when freed. Used as
// HugePageAllocator and AdvisedAllocator.
template <class T, std::size_t MinBlock, bool WrittenOnce>
struct MappedAllocator {
    using value_type = T;
    template <class U>
    struct rebind {
        using other = MappedAllocator<U, MinBlock, WrittenOnce>;
    };
    MappedAllocator() = default;
    template <class U>
    MappedAllocator(const MappedAllocator<U, MinBlock, WrittenOnce>&) noexcept {}

    [[nodiscard]] T* allocate(std::size_t n) {
        if (!huge(n)) return std::allocator<T>{}.allocate(n);
        if constexpr (WrittenOnce) {
            const BlockShape shape = block_shape(n * sizeof(T));
            void* p = take_block(shape.length, shape.advised);
            if (!p) p = map_block(shape);
            if (!p) throw std::bad_alloc();
            return static_cast<T*>(p);
        } else {
            void* p = map_huge(n * sizeof(T), false);
            if (!p) throw std::bad_alloc();
            return static_cast<T*>(p);
        }
    }
    void deallocate(T* p, std::size_t n) noexcept {
        if (!huge(n)) {
            std::allocator<T>{}.deallocate(p, n);
        } else if constexpr (WrittenOnce) {
            const BlockShape shape = block_shape(n * sizeof(T));
            if (!keep_block(p, shape.length, shape.advised)) unmap_block(p, shape.length);
        } else {
            unmap_block(p, huge_length(n * sizeof(T)));  // map_huge's length
        }
    }
    template <class U>
    bool operator==(const MappedAllocator<U, MinBlock, WrittenOnce>&) const noexcept {
        return true;
    }

private:
    static bool huge(std::size_t n) noexcept {
#ifdef RXCAUTION_HUGE_PAGES
        return n >= MinBlock / sizeof(T);
#else
        (void)n;
        return false;
#endif
    }
};

// For the few large tables every check and screen reads at random places: blocks of
// kHugePageMinBlock bytes and more wholly on huge pages.
template <class T>
using HugePageAllocator = MappedAllocator<T, kHugePageMinBlock, false>;

// A vector whose storage, when large, is on huge pages.
template <class T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

// Asks for huge pages under the 2 MiB-aligned middle of [p, p + bytes), a block from the heap
// about to be written in full (a population screen's summaries, a std::vector of the public
// API), as numpy does for its large arrays: see AdvisedAllocator below for why. The head and
// tail (under 2 MiB each) and blocks with no aligned 2 MiB in them keep small pages, so this
// never makes more resident than the block; the advice may be refused.
inline void advise_huge_pages(const void* p, std::size_t bytes) noexcept {
#ifdef RXCAUTION_HUGE_PAGES
    const auto start = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t lo = (start + kHugePage - 1) & ~static_cast<std::uintptr_t>(kHugePage - 1);
    const std::uintptr_t hi = (start + bytes) & ~static_cast<std::uintptr_t>(kHugePage - 1);
    if (hi > lo) (void)madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

// Writes a zero byte into every 4 KiB page of [p, p + bytes), so that the block is resident
// before several threads write parts of it: on the virtual machine this was measured on, two
// threads taking page faults in one process at once (huge pages above all) took far longer than
// one thread taking them all. The two threads encoding 5,352,715 list entries into fresh huge
// pages took 55-61 ms, 43-45 ms on small pages, 45-47 ms on pages touched here first (the touching
// not counted: it is one thread's faults, without the other thread's waiting).
// The caller writes every byte afterwards (the zeros are not a value anyone reads).
inline void touch_pages(void* p, std::size_t bytes) noexcept {
    constexpr std::size_t kPage = 4096;
    auto* const first = static_cast<volatile unsigned char*>(p);
    for (std::size_t at = 0; at < bytes; at += kPage) first[at] = 0;
}

// For large buffers written once right after they are allocated (a population screen's output
// columns): blocks of 2 MiB and more are their own 2 MiB-aligned mapping, with huge pages where the
// block fills them (map_huge's `written_once`). A fresh 4 KiB page costs a fault of about 1.2 us
// on the virtual machine this was measured on: the columns of a screen of 1,000,000 regimens took
// 31,000 faults, about a seventh of the screen's time.
template <class T>
using AdvisedAllocator = MappedAllocator<T, kColumnMinBlock, true>;

// A vector whose storage, when large, is a written-once block: for the per-call tables of a screen
// (one entry per distinct text, the rule codes of a batch), whose memory then comes back from the
// cache of freed blocks call after call instead of being fresh pages each time.
template <class T>
using CallVector = std::vector<T, AdvisedAllocator<T>>;

}  // namespace rxcaution::detail
