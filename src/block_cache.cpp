// The cache of freed column mappings (detail::take_block / detail::keep_block, huge_pages.hpp).

#include "detail/huge_pages.hpp"

#include <array>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace rxcaution::detail {

namespace {

struct Cached {
    void* p;
    std::size_t length, advised;
};

struct BlockCache {
    std::mutex mutex;
    std::vector<Cached> blocks;  // oldest first
    std::size_t bytes = 0;       // sum of their lengths
    std::size_t limit = kBlockCacheDefaultBytes;
    bool limit_read = false;

    // RXCAUTION_BLOCK_CACHE_MB, read once: a whole number of MiB up to 1,048,576 (0 turns the cache
    // off); anything else leaves the default.
    void read_limit() {
        if (limit_read) return;
        limit_read = true;
        const char* text = std::getenv("RXCAUTION_BLOCK_CACHE_MB");
        if (!text || !*text) return;
        char* end = nullptr;
        const unsigned long long mib = std::strtoull(text, &end, 10);
        if (*end == '\0' && text[0] != '-' && mib <= (std::size_t{1} << 20)) limit = static_cast<std::size_t>(mib) << 20;
    }
};

BlockCache& cache() {
    static BlockCache* c = new BlockCache;  // never destroyed: blocks may be freed during exit
    return *c;
}

}  // namespace

void* take_block(std::size_t length, std::size_t advised) noexcept {
    BlockCache& c = cache();
    const std::lock_guard<std::mutex> lock(c.mutex);
    for (std::size_t i = c.blocks.size(); i-- > 0;) {  // the most recently freed first: still in the caches
        if (c.blocks[i].length != length || c.blocks[i].advised != advised) continue;
        void* p = c.blocks[i].p;
        c.bytes -= length;
        c.blocks.erase(c.blocks.begin() + static_cast<std::ptrdiff_t>(i));
        return p;
    }
    return nullptr;
}

bool keep_block(void* p, std::size_t length, std::size_t advised) noexcept {
    std::array<Cached, kBlockCacheMaxBlocks> evicted;
    std::size_t n_evicted = 0;
    {
        BlockCache& c = cache();
        const std::lock_guard<std::mutex> lock(c.mutex);
        c.read_limit();
        if (length > c.limit) return false;
        if (c.blocks.capacity() < kBlockCacheMaxBlocks) {
            try {
                c.blocks.reserve(kBlockCacheMaxBlocks);
            } catch (...) {
                return false;
            }
        }
        // The oldest go first, until this one fits in bytes and in number.
        std::size_t drop = 0, bytes = c.bytes;
        while (drop < c.blocks.size() &&
               (bytes + length > c.limit || c.blocks.size() - drop >= kBlockCacheMaxBlocks)) {
            bytes -= c.blocks[drop].length;
            evicted[n_evicted++] = c.blocks[drop++];
        }
        c.blocks.erase(c.blocks.begin(), c.blocks.begin() + static_cast<std::ptrdiff_t>(drop));
        c.blocks.push_back(Cached{p, length, advised});  // within the reserved capacity: no throw
        c.bytes = bytes + length;
    }
    for (std::size_t i = 0; i < n_evicted; ++i) unmap_block(evicted[i].p, evicted[i].length);  // outside the lock
    return true;
}

std::size_t cached_block_bytes() noexcept {
    BlockCache& c = cache();
    const std::lock_guard<std::mutex> lock(c.mutex);
    return c.bytes;
}

void release_cached_blocks() noexcept {
    std::vector<Cached> all;
    {
        BlockCache& c = cache();
        const std::lock_guard<std::mutex> lock(c.mutex);
        all.swap(c.blocks);
        c.bytes = 0;
    }
    for (const Cached& e : all) unmap_block(e.p, e.length);
}

}  // namespace rxcaution::detail
