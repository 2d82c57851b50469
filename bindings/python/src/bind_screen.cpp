// Population screening (rxcaution/screen.hpp) for Python. Two private entry points feed
// KnowledgeBase::screen without per-string work in Python:
//   _screen_lists   lists of lists of str, dictionary-encoded here (by each str's cached hash and
//                   a pointer or text comparison; UTF-8 is read once per distinct text);
//   _screen_columns already dictionary-encoded columns (distinct texts + int32 codes + int64
//                   offsets, from pandas.factorize or pyarrow dictionary_encode), read in place
//                   through the buffer protocol.
// Both release the GIL for the whole screen and return the rows as numpy columns of integer
// codes: rules and substances index the knowledge base's own id lists (ScreenRuleIds, built once
// per knowledge base; _screen_ids hands them to Python, which converts them once), compacted to
// those that occur; medications and conditions index the batch's distinct texts. No Python object
// is made per row. The public KnowledgeBase.screen (argument handling, pandas / pyarrow output)
// is Python: rxcaution/screening.py.

#include "bindings.hpp"

#include <rxcaution/knowledge_base.hpp>
#include <rxcaution/screen.hpp>

#include <pybind11/numpy.h>

#include "columns.hpp"
#include "detail/huge_pages.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <thread>
#include <type_traits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace rxcaution::python {

namespace {

// fn(t) for t in [0, count), on count - 1 new threads and this one; every thread is joined
// before it returns, also when starting one fails (that error is then rethrown). fn must not
// throw on the other threads: the callers' work here (reading lists, copying bytes) does not.
template <class Fn>
void on_threads(unsigned count, const Fn& fn) {
    std::vector<std::thread> pool;
    pool.reserve(count > 1 ? count - 1 : 0);
    try {
        for (unsigned t = 1; t < count; ++t) pool.emplace_back([&fn, t] { fn(t); });
        if (count > 0) fn(0u);
    } catch (...) {
        for (auto& th : pool) th.join();
        throw;
    }
    for (auto& th : pool) th.join();
}

// Text -> code; a lookup by string_view builds no std::string.
struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using detail_text_map = std::unordered_map<std::string, std::int32_t, TextHash, std::equal_to<>>;

ScreenOptions screen_options(Severity min_severity, bool duplicate_therapy, const std::vector<WarningKind>& kinds,
                             unsigned threads, bool summaries) {
    ScreenOptions o;
    o.summaries = summaries;
    o.min_severity = min_severity;
    o.duplicate_therapy = duplicate_therapy;
    o.kinds = kinds;
    o.threads = threads;
    return o;
}

// Text of a str (lone surrogates replaced, as everywhere in the bindings).
std::string text_of(py::handle item) {
    if (!PyUnicode_Check(item.ptr()))
        throw py::type_error("screen(): medications and conditions must be str, not " +
                             std::string(py::str(py::type::of(item).attr("__name__"))));
    py::detail::make_caster<Text> caster;
    if (!caster.load(item, false)) throw py::type_error("screen(): a text could not be read");
    return std::move(py::detail::cast_op<Text&>(caster).value);
}

// Dictionary encoding of a list of lists of str, keyed by the str objects themselves. A str object
// met again costs one probe of a table keyed by its address (the object itself is not read); a
// new object, its cached hash and a probe of a table of (object, hash, code) with a text
// comparison (an equal str); UTF-8 is read once per distinct text. Measured on 1,069,141 entries
// (224,423 str objects, 26,906 texts): the (object, hash) table alone was about 4 times faster
// than a map from UTF-8 text.
// The tables below probe linearly from a slot's home; an empty slot has no `object`. Regrows
// `slots` to `size` entries, putting each entry back from home(entry) (a position, masked here).
template <class Slot, class Home>
void regrow_table(std::vector<Slot>& slots, std::size_t size, Home home) {  // size: a power of two
    std::vector<Slot> old(size);
    old.swap(slots);
    const std::size_t mask = slots.size() - 1;
    for (const Slot& e : old)
        if (e.object)
            for (std::size_t h = home(e) & mask;; h = (h + 1) & mask)
                if (!slots[h].object) {
                    slots[h] = e;
                    break;
                }
}
template <class Slot, class Home>
void double_table(std::vector<Slot>& slots, Home home) {
    regrow_table(slots, slots.size() * 2, home);
}

// Codes of str objects already met, keyed by the object's address: an object met again is not
// read. Objects are borrowed (held by the sequences being encoded).
// The table pays off while it is small (lists built from a few thousand str objects: it stays in
// the caches). With many objects (lists read from a file or a DataFrame have a str per entry) it
// grows to tens of megabytes, 128 MB for 5 million objects, and every probe misses the caches;
// the texts' own table is then faster even when most entries are objects met before. Measured on
// two 1,000,000-regimen populations (5,352,715 entries, one thread): reading the lists took
// 212-228 ms without the table against 409-435 ms with it (1,118,048 objects, 79% of entries found
// in the table), and 248-272 ms against 965-989 ms (every entry a new object). So once kLimit
// objects are in it, the table is dropped and no longer consulted.
class AddressCodes {
public:
    static constexpr std::size_t kLimit = 65536;

    [[nodiscard]] bool active() const noexcept { return active_; }
    // The code recorded for `item`, or -1 with `slot` set to where add() records it.
    std::int32_t find(PyObject* item, std::size_t& slot) const noexcept {
        const std::size_t mask = seen_.size() - 1;
        for (slot = home(item);; slot = (slot + 1) & mask) {
            const Seen& e = seen_[slot];
            if (e.object == item) return e.code;
            if (!e.object) return -1;
        }
    }
    // Records `code` for `item` at the slot find() gave (no add() or find() of another item between).
    void add(std::size_t slot, PyObject* item, std::int32_t code) {
        seen_[slot] = Seen{item, code};
        if (used_ + 1 == kLimit) {
            active_ = false;
            std::vector<Seen>().swap(seen_);
            return;
        }
        if (2 * ++used_ > seen_.size()) {
            --shift_;
            double_table(seen_, [this](const Seen& e) { return home(e.object); });
        }
    }

private:
    struct Seen {
        PyObject* object = nullptr;
        std::int32_t code = -1;
    };
    [[nodiscard]] std::size_t home(PyObject* p) const noexcept {
        return static_cast<std::size_t>((reinterpret_cast<std::uintptr_t>(p) * 0x9E3779B97F4A7C15ull) >> shift_);
    }
    std::vector<Seen> seen_ = std::vector<Seen>(1024);
    std::size_t used_ = 0;
    int shift_ = 64 - 10;  // home() gives the top log2(size) bits of the product
    bool active_ = true;
};

// Home of a text hash in a table of text entries.
inline std::size_t text_home(std::size_t h) noexcept { return h * 0x9E3779B97F4A7C15ull >> 7; }

// A batch's lists are often cold by the time it is screened (built long before, or evicted by
// other work), and each costs two dependent cache misses: the list object, then its item array.
// Requested a few lists ahead, those misses overlap with the encoding of the lists before them
// (measured on 20,000 10-name lists after a 0.25 s pause: see docs/screening.md).
inline void prefetch_ahead(PyObject* const* lists, std::size_t r, std::size_t end) noexcept {
    if (r + 8 < end) __builtin_prefetch(lists[r + 8]);
    if (r + 4 < end) {
        PyObject* soon = lists[r + 4];  // its header was requested four lists ago
        if (PyList_CheckExact(soon)) __builtin_prefetch(reinterpret_cast<PyListObject*>(soon)->ob_item);
    }
}

// The encoders below keep borrowed pointers to str objects (their tables are keyed by address)
// and read the lists in place, which is safe only while no Python code runs. Reading a sequence
// that is not a list or tuple (a generator, a custom sequence) runs its code, which could change
// or free what is being read (the outer lists themselves, or str objects already in the tables: a
// regimen whose __iter__ cleared the list of regimens crashed the process). So when there is such
// a sequence (in the regimens or the conditions), both outer sequences are copied into tuples
// first, and then every such sequence is read into a tuple, all before any encoding starts.

// Whether every item of `fast` (from PySequence_Fast) is an exact list or tuple (the usual case:
// then nothing is copied).
bool all_plain(PyObject* fast) noexcept {
    const Py_ssize_t count = PySequence_Fast_GET_SIZE(fast);
    PyObject* const* items = PySequence_Fast_ITEMS(fast);
    for (Py_ssize_t r = 0; r < count; ++r) {
        if (r + 16 < count) __builtin_prefetch(items[r + 16]);
        if (!PyList_CheckExact(items[r]) && !PyTuple_CheckExact(items[r])) return false;
    }
    return true;
}

// A tuple of the items of `fast`, which holds them while any of their code runs.
py::tuple snapshot_of(PyObject* fast) {
    auto copy = py::reinterpret_steal<py::tuple>(PySequence_Tuple(fast));
    if (!copy) throw py::error_already_set();
    return copy;
}

// `snapshot` with every item that is not a list or tuple read into one (running its code).
py::list read_sequences(const py::tuple& snapshot, const char* what) {
    py::list fixed(snapshot.size());
    for (std::size_t r = 0; r < snapshot.size(); ++r) {
        PyObject* item = snapshot[r].ptr();
        if (PyList_CheckExact(item) || PyTuple_CheckExact(item)) {
            fixed[r] = snapshot[r];
            continue;
        }
        if (PyUnicode_Check(item))
            throw py::type_error(std::string("screen(): each regimen's ") + what + " must be a list of str, not a str");
        py::object fast = py::reinterpret_steal<py::object>(PySequence_Fast(item, "screen(): expected a sequence"));
        if (!fast) throw py::error_already_set();
        fixed[r] = std::move(fast);
    }
    return fixed;
}

struct ListEncoder {
    AddressCodes seen;

    std::int32_t code_of(PyObject* item) {
        if (!seen.active()) {
            if (const std::int32_t code = known_text(item); code >= 0) return code;
            return code_of_text(item);
        }
        std::size_t slot = 0;
        if (const std::int32_t code = seen.find(item, slot); code >= 0) return code;
        const std::int32_t code = code_of_text(item);  // does not touch `seen`: the slot stays valid
        seen.add(slot, item, code);
        return code;
    }

    struct Slot {
        PyObject* object = nullptr;  // borrowed: held by the sequence it was read from
        Py_hash_t hash = 0;
        std::int32_t code = -1;
    };
    std::vector<Slot> slots = std::vector<Slot>(1024);
    std::size_t slot_mask = 1023;  // slots.size() - 1
    std::size_t used = 0;
    // Texts equal only once lone surrogates are replaced ("ket\ud800amine" has no UTF-8 form and
    // reads as "ket\ufffdamine") share a code. Other str objects of equal text are equal str, found
    // by the slot table, so this map of every text is built only when a replaced text first appears
    // (a hash-map entry and two allocations per distinct text otherwise: a third of the encoding).
    detail_text_map by_text;
    bool replaced_seen = false;
    std::vector<std::string> texts;
    py::list distinct;  // the first str object of each distinct text
    // Whether every one of them is an exact str: then no two of them are equal str (equal texts
    // share a code), and the Python side need not check its categories for repeats. A subclass
    // may define its own equality.
    bool exact_str = true;
    Column<std::int64_t> offsets{0};
    Column<std::int32_t> codes;

    static Py_hash_t cached_hash(PyObject* item) noexcept {
#if PY_VERSION_HEX < 0x030D0000 && !defined(Py_LIMITED_API)
        return reinterpret_cast<PyASCIIObject*>(item)->hash;  // -1 until computed
#else
        (void)item;
        return -1;
#endif
    }


    // The code of a text met for the first time as this str object (and no equal str before it).
    std::int32_t new_text(PyObject* item) {
        Py_ssize_t size = 0;
        const char* utf8 = PyUnicode_AsUTF8AndSize(item, &size);
        std::string fixed;
        std::string_view text;
        if (utf8) {
            text = std::string_view(utf8, static_cast<std::size_t>(size));
        } else {  // lone surrogates: replaced as everywhere in the bindings
            PyErr_Clear();
            fixed = text_of(item);
            text = fixed;
        }
        if (!utf8 && !replaced_seen) {
            replaced_seen = true;
            by_text.reserve(texts.size() + 1);
            for (std::size_t c = 0; c < texts.size(); ++c) by_text.emplace(texts[c], static_cast<std::int32_t>(c));
        }
        if (replaced_seen) {
            if (const auto it = by_text.find(text); it != by_text.end()) return it->second;
        }
        const auto code = static_cast<std::int32_t>(texts.size());
        texts.emplace_back(text);
        if (replaced_seen) by_text.emplace(std::string(text), code);
        distinct.append(py::reinterpret_borrow<py::object>(item));
        exact_str = exact_str && PyUnicode_CheckExact(item);
        return code;
    }

    // The code of an exact str with a cached hash whose text the table has (this object, or an
    // ASCII str equal to the code's text), or -1: then code_of_text decides (a new text, a str of
    // wider characters or a subclass, a hash to compute, something that is not a str). Kept small
    // and inline: nearly every entry ends here, and calling code_of_text (whose frame is large: it
    // may throw, allocate and call into Python) for each took about 10 of the 88 ms that reading a
    // population's 5,352,715 entries took.
    [[gnu::always_inline]] std::int32_t known_text(PyObject* item) const noexcept {
        if (Py_TYPE(item) != &PyUnicode_Type) return -1;
        const Py_hash_t hash = cached_hash(item);
        if (hash == -1) return -1;
        const Slot* const table = slots.data();
        for (std::size_t h = text_home(static_cast<std::size_t>(hash)) & slot_mask;; h = (h + 1) & slot_mask) {
            const Slot& e = table[h];
            if (e.object == item) return e.code;
            if (!e.object) return -1;
            if (e.hash != hash) continue;
            if (!PyUnicode_IS_COMPACT_ASCII(item)) return -1;
            if (ascii_text_is(item, e.code)) return e.code;
        }
    }

    // Whether a compact ASCII str is the text of `code`: compared with the text already copied for
    // that code (contiguous, and equal UTF-8 is equal text), not with its first str object
    // (elsewhere in memory).
    [[nodiscard]] bool ascii_text_is(PyObject* item, std::int32_t code) const noexcept {
        const std::string_view mine(static_cast<const char*>(PyUnicode_DATA(item)),
                                    static_cast<std::size_t>(PyUnicode_GET_LENGTH(item)));
        return mine == texts[static_cast<std::size_t>(code)];
    }

    // The code of a str object met for the first time.
    std::int32_t code_of_text(PyObject* item) {
        if (!PyUnicode_Check(item))
            throw py::type_error("screen(): medications and conditions must be str, not " +
                                 std::string(py::str(py::type::of(py::handle(item)).attr("__name__"))));
        // str's own hash (cached in the object after the first time, read there directly), also
        // for a str subclass: no Python code runs while `items` points into a list.
        Py_hash_t hash = cached_hash(item);
        if (hash == -1) {
            hash = PyUnicode_Type.tp_hash(item);
            if (hash == -1) throw py::error_already_set();
        }
        std::size_t h = text_home(static_cast<std::size_t>(hash)) & slot_mask;
        for (;; h = (h + 1) & slot_mask) {
            const Slot& e = slots[h];
            if (!e.object) break;
            if (e.object == item) return e.code;
            if (e.hash == hash) {
                if (PyUnicode_IS_COMPACT_ASCII(item)) {
                    if (ascii_text_is(item, e.code)) return e.code;
                    continue;
                }
                const int cmp = PyUnicode_Compare(e.object, item);
                if (cmp == 0) return e.code;
                if (cmp == -1 && PyErr_Occurred()) throw py::error_already_set();
            }
        }
        const std::int32_t code = new_text(item);
        slots[h] = Slot{item, hash, code};
        if (2 * ++used > slots.size()) {
            double_table(slots, [](const Slot& e) { return text_home(static_cast<std::size_t>(e.hash)); });
            slot_mask = slots.size() - 1;
        }
        return code;
    }

    // `seq` is an exact list or tuple (see all_plain / read_sequences): read in place, while no
    // Python code runs.
    void add_list(PyObject* items_of) {
        const Py_ssize_t n = PySequence_Fast_GET_SIZE(items_of);
        PyObject** items = PySequence_Fast_ITEMS(items_of);
        const std::size_t at = codes.size();
        codes.resize(at + static_cast<std::size_t>(n));
        std::int32_t* out = codes.data() + at;
        for (Py_ssize_t k = 0; k < n; ++k) out[k] = code_of(items[k]);
        offsets.push_back(static_cast<std::int64_t>(codes.size()));
    }
};

// The common case of a large list of lists, encoded on several threads: every inner sequence an
// exact list or tuple and every item an exact, compact str of one byte per character (ASCII or
// Latin-1). Such a str is compared by its characters alone (equal texts have equal bytes), so
// the threads read the objects without calling into Python. The GIL stays held by this thread
// the whole time: no Python code runs and nothing can change the lists or free their items while
// the other threads read them. Each thread encodes a range of regimens with codes of its own (in
// its order of first appearance); the ranges' distinct texts are then merged in range order,
// which gives every text the code the one-thread encoder would give it (the order of first
// appearance over the whole batch), and the ranges after the first are renumbered.
// Returns false, having changed nothing, when anything is outside that case: the caller then
// encodes with ListEncoder, which handles (or reports) everything else.
class ParallelListEncoder {
public:
    static constexpr std::size_t kEntriesPerThread = 32768;
    static constexpr std::size_t kListsPerThread = 65536;   // regimens whose sizes a thread reads
    static constexpr std::size_t kTextsPerThread = 16384;   // distinct texts a thread copies
    static constexpr std::size_t kSeedEntries = 131072;

    // `lists_plain` tells whether every regimen was seen to be an exact list or tuple (what
    // all_plain() checks), so that the caller need not look again when this declines.
    static bool encode(PyObject* outer, unsigned threads, ListEncoder& into, bool& lists_plain) {
        lists_plain = false;
        const Py_ssize_t count = PySequence_Fast_GET_SIZE(outer);
        PyObject** lists = PySequence_Fast_ITEMS(outer);
        Column<std::int64_t> offsets(static_cast<std::size_t>(count) + 1);
        offsets[0] = 0;
        // The lists' sizes, read on the threads by ranges of regimens (a cache miss per list: 6 ms
        // for 1,000,000 lists on one thread, a serial stretch before the encoding): each range
        // first relative to its own start, then moved by the sizes of the ranges before it.
        const auto n_lists = static_cast<std::size_t>(count);
        const auto sizers = static_cast<unsigned>(std::clamp<std::size_t>(n_lists / kListsPerThread, 1, threads));
        if (sizers > 1) detail::touch_pages(offsets.data(), (n_lists + 1) * sizeof(std::int64_t));
        std::vector<std::int64_t> range_total(sizers + 1, 0);
        std::vector<char> range_plain(sizers, 1);
        auto list_range = [n_lists, sizers](unsigned t) {
            return std::pair{n_lists * t / sizers, n_lists * (t + 1) / sizers};
        };
        on_threads(sizers, [&](unsigned t) {
            const auto [lo, hi] = list_range(t);
            std::int64_t at = 0;
            for (std::size_t r = lo; r < hi; ++r) {
                if (r + 16 < hi) __builtin_prefetch(lists[r + 16]);
                PyObject* list = lists[r];
                if (!PyList_CheckExact(list) && !PyTuple_CheckExact(list)) {
                    range_plain[t] = 0;
                    return;
                }
                at += PySequence_Fast_GET_SIZE(list);
                offsets[r + 1] = at;
            }
            range_total[t + 1] = at;
        });
        for (unsigned t = 0; t < sizers; ++t) {
            if (!range_plain[t]) return false;
            range_total[t + 1] += range_total[t];
        }
        if (sizers > 1)
            on_threads(sizers - 1, [&](unsigned t) {
                const auto [lo, hi] = list_range(t + 1);
                const std::int64_t base = range_total[t + 1];
                for (std::size_t r = lo; r < hi; ++r) offsets[r + 1] += base;
            });
        lists_plain = true;
        const auto total = static_cast<std::size_t>(offsets.back());
        const auto parts = static_cast<unsigned>(std::clamp<std::size_t>(total / kEntriesPerThread, 1, threads));
        // Beyond the screen's limit the one-thread encoder reads the lists and the screen refuses
        // them (LimitError); below it a local code's index cannot reach kLocal.
        if (parts < 2 || total > kMaxScreenEntries) return false;
        Column<std::int32_t> codes(total);
        detail::touch_pages(codes.data(), total * sizeof(std::int32_t));  // before the threads write it
        std::atomic<bool> outside{false};
        // The first sixteenth of the entries is encoded here first (the seed): the texts it meets
        // get their final codes, and its tables are then read, unchanged, by the threads that
        // encode the rest. Without it every thread met and recorded every text of the batch itself
        // (2,000 texts drawn at random from a pack: a fifth of a thread's time), and two threads
        // encoded 20,000 ten-name lists no faster than one.
        // At most kSeedEntries, though: the texts met often are met early, and the seed's time is
        // time the other threads wait (a sixteenth of a 1,000,000-regimen population, 7 ms).
        const auto* seed_end = std::lower_bound(offsets.data(), offsets.data() + count + 1,
                                                static_cast<std::int64_t>(std::min(total / 16, kSeedEntries)));
        const auto prefix = static_cast<std::size_t>(std::max<std::ptrdiff_t>(seed_end - offsets.data(), 1));
        std::vector<Part> part(parts + 1);
        part[0].first = 0;
        part[0].last = prefix;
        part[0].encode(lists, offsets.data(), codes.data(), outside, nullptr);
        if (outside.load()) return false;
        const std::size_t rest = static_cast<std::size_t>(count) - prefix;
        auto run = [&](unsigned t) {
            Part& p = part[t + 1];
            p.first = prefix + rest * t / parts;
            p.last = prefix + rest * (t + 1) / parts;
            p.encode(lists, offsets.data(), codes.data(), outside, &part[0]);
        };
        on_threads(parts, run);
        if (outside.load()) return false;
        // The texts the seed did not know, merged in range order after the seed's, which gives
        // each its order of first appearance over the whole batch; the seed's table (read by no
        // one now) becomes the table of every text, grown once to its final size.
        Table& global = part[0].texts;
        std::vector<PyObject*> distinct = std::move(part[0].distinct);
        std::size_t all_distinct = distinct.size();
        for (unsigned t = 1; t <= parts; ++t) all_distinct += part[t].distinct.size();
        global.reserve(all_distinct);
        std::vector<unsigned> fresh_parts;
        for (unsigned t = 1; t <= parts; ++t) {
            Part& p = part[t];
            if (p.distinct.empty()) continue;
            fresh_parts.push_back(t);
            p.to_global.resize(p.distinct.size());
            for (std::size_t d = 0; d < p.distinct.size(); ++d) {
                PyObject* item = p.distinct[d];
                const std::int32_t code = global.find_or_add(item, p.distinct_hash[d], static_cast<std::int32_t>(distinct.size()));
                if (code == static_cast<std::int32_t>(distinct.size())) distinct.push_back(item);
                p.to_global[d] = code;
            }
        }
        // Only the entries that were given a local code (a thread costs more than renumbering a
        // few thousand; a population with many late texts renumbers on the threads).
        std::size_t late = 0;
        for (const unsigned t : fresh_parts) late += part[t].local_at.size();
        const auto renumberers = late < kEntriesPerThread ? 1u : static_cast<unsigned>(fresh_parts.size());
        on_threads(renumberers, [&](unsigned t) {
            for (std::size_t i = t; i < fresh_parts.size(); i += renumberers) {
                const Part& p = part[fresh_parts[i]];
                for (const std::size_t k : p.local_at) codes[k] = p.to_global[static_cast<std::size_t>(codes[k] & ~kLocal)];
            }
        });
        // The texts as UTF-8: an ASCII str's bytes are its UTF-8, copied on the threads; a Latin-1
        // one is encoded by Python (which caches the UTF-8 in the object) here, holding the GIL.
        const std::size_t nd = distinct.size();
        into.texts.resize(nd);
        std::vector<char> latin1(nd, 0);
        const auto copiers = static_cast<unsigned>(std::clamp<std::size_t>(nd / kTextsPerThread, 1, threads));
        on_threads(copiers, [&](unsigned t) {
            for (std::size_t d = nd * t / copiers, end = nd * (t + 1) / copiers; d < end; ++d) {
                if (PyUnicode_IS_ASCII(distinct[d])) into.texts[d].assign(bytes(distinct[d]));
                else latin1[d] = 1;
            }
        });
        for (std::size_t d = 0; d < nd; ++d) {
            if (!latin1[d]) continue;
            Py_ssize_t size = 0;
            const char* utf8 = PyUnicode_AsUTF8AndSize(distinct[d], &size);  // a Latin-1 str: always encodable
            if (!utf8) throw py::error_already_set();
            into.texts[d].assign(utf8, static_cast<std::size_t>(size));
        }
        py::list objects(nd);
        for (std::size_t d = 0; d < nd; ++d) {
            Py_INCREF(distinct[d]);
            PyList_SET_ITEM(objects.ptr(), static_cast<Py_ssize_t>(d), distinct[d]);
        }
        into.distinct = std::move(objects);
        into.offsets = std::move(offsets);
        into.codes = std::move(codes);
        return true;
    }

private:
    // Whether a str can be compared by its bytes (and read without the C API calls that may
    // allocate): exact str, compact, one byte per character.
    static bool plain(PyObject* item) noexcept {
        if (Py_TYPE(item) != &PyUnicode_Type) return false;
#if PY_VERSION_HEX < 0x030C0000
        if (!PyUnicode_IS_READY(item)) return false;
#endif
        return PyUnicode_IS_COMPACT(item) && PyUnicode_KIND(item) == PyUnicode_1BYTE_KIND;
    }

    static std::string_view bytes(PyObject* item) noexcept {
        return {static_cast<const char*>(PyUnicode_DATA(item)), static_cast<std::size_t>(PyUnicode_GET_LENGTH(item))};
    }

    // The hash of a plain str: str's own (the one cached in the object, or computed as str.__hash__
    // computes it and cached there as str.__hash__ does), so that a str hashed before (a dict key,
    // a set member, a screen before) is not read again. The threads may compute the hash of one
    // object at once (the same str in two ranges): they write the same value, atomically. Before,
    // std::hash of the text, every entry every call: 1,000,000 regimens (5,352,715 entries) took
    // longer to encode on two threads than the one-thread encoder, which reads the cached hash.
    static std::size_t str_hash(PyObject* item) noexcept {
#if PY_VERSION_HEX < 0x030D0000 && !defined(Py_LIMITED_API)
        std::atomic_ref<Py_hash_t> cached(reinterpret_cast<PyASCIIObject*>(item)->hash);
        Py_hash_t h = cached.load(std::memory_order_relaxed);
        if (h == -1) {  // -1: not computed yet (a computed hash is never -1)
            h = _Py_HashBytes(PyUnicode_DATA(item), PyUnicode_GET_LENGTH(item));
            cached.store(h, std::memory_order_relaxed);
        }
        return static_cast<std::size_t>(h);
#else
        return std::hash<std::string_view>{}(bytes(item));
#endif
    }

    // Open addressing from text (its bytes) to code; objects are borrowed (held by their lists).
    struct Table {
        struct Entry {
            PyObject* object = nullptr;
            std::size_t hash = 0;
            std::int32_t code = -1;
        };
        std::vector<Entry> entries = std::vector<Entry>(1024);
        std::size_t used = 0;

        // Room for `count` texts without doubling again.
        void reserve(std::size_t count) {
            std::size_t size = entries.size();
            while (2 * count > size) size *= 2;
            if (size > entries.size()) regrow_table(entries, size, [](const Entry& e) { return text_home(e.hash); });
        }

        // The code of the text of `item`, or -1.
        [[nodiscard]] std::int32_t find(PyObject* item, std::size_t hash) const noexcept {
            const std::size_t mask = entries.size() - 1;
            const std::string_view text = bytes(item);
            for (std::size_t h = text_home(hash) & mask;; h = (h + 1) & mask) {
                const Entry& e = entries[h];
                if (!e.object) return -1;
                if (e.hash == hash && (e.object == item || bytes(e.object) == text)) return e.code;
            }
        }
        // The code of the text of `item`, or `fresh` (recorded for it) when the text is new.
        std::int32_t find_or_add(PyObject* item, std::size_t hash, std::int32_t fresh) {
            const std::size_t mask = entries.size() - 1;
            std::size_t h = text_home(hash) & mask;
            const std::string_view text = bytes(item);
            for (;; h = (h + 1) & mask) {
                const Entry& e = entries[h];
                if (!e.object) break;
                if (e.hash == hash && (e.object == item || bytes(e.object) == text)) return e.code;
            }
            entries[h] = Entry{item, hash, fresh};
            if (2 * ++used > entries.size()) double_table(entries, [](const Entry& e) { return text_home(e.hash); });
            return fresh;
        }
    };

    // A code a thread gives a text its seed does not know, until the merge gives it its own:
    // kLocal | its index in the thread's `distinct`.
    static constexpr std::int32_t kLocal = std::int32_t{1} << 30;
    static_assert(kMaxScreenEntries < static_cast<std::size_t>(kLocal), "a local code's index must stay below kLocal");

    struct Part {
        std::size_t first = 0, last = 0;  // regimens
        // By object address first (an object met again is not read), then by text. Members: the
        // seed's are read by the other threads once it is done. Only the seed keeps a table of
        // addresses: the objects met most often are met in the seed already, and the others'
        // tables of their own cost more than they saved (a population's 5,352,715 entries on two
        // threads: 131-136 against 133-142 ms, alternated; 20,000 ten-name lists no slower).
        AddressCodes seen;
        Table texts;
        std::vector<PyObject*> distinct;  // first object of each text it met first, in that order
        std::vector<std::size_t> distinct_hash;
        std::vector<std::int32_t> to_global;
        std::vector<std::size_t> local_at;  // the entries given a local code (to renumber)

        // With `seed`, a text the seed met takes the seed's code, and a text new to it a local
        // code (kLocal); without, this is the seed: codes are indexes into `distinct`.
        void encode(PyObject** lists, const std::int64_t* offsets, std::int32_t* codes, std::atomic<bool>& outside,
                    const Part* seed) {
            const bool seed_by_address = seed && seed->seen.active();
            for (std::size_t r = first; r < last; ++r) {
                if (outside.load(std::memory_order_relaxed)) return;
                prefetch_ahead(lists, r, last);
                PyObject* list = lists[r];
                const Py_ssize_t n = PySequence_Fast_GET_SIZE(list);
                PyObject** items = PySequence_Fast_ITEMS(list);
                std::int32_t* out = codes + offsets[r];
                for (Py_ssize_t k = 0; k < n; ++k) {
                    PyObject* item = items[k];
                    std::size_t slot = 0;
                    const bool by_address = !seed && seen.active();  // the seed's own
                    if (by_address) {
                        if (const std::int32_t known = seen.find(item, slot); known >= 0) {
                            out[k] = known;
                            if (known & kLocal)
                                local_at.push_back(static_cast<std::size_t>(offsets[r]) + static_cast<std::size_t>(k));
                            continue;
                        }
                    }
                    std::int32_t code = -1;
                    if (seed_by_address) {  // the seed records only str it could read by their bytes
                        std::size_t seed_slot = 0;
                        code = seed->seen.find(item, seed_slot);
                    }
                    if (code < 0) {
                        if (!plain(item)) {
                            outside.store(true, std::memory_order_relaxed);
                            return;
                        }
                        const std::size_t hash = str_hash(item);
                        if (seed) code = seed->texts.find(item, hash);
                        if (code < 0) {
                            const std::int32_t fresh = static_cast<std::int32_t>(distinct.size()) | (seed ? kLocal : 0);
                            code = texts.find_or_add(item, hash, fresh);
                            if (code == fresh) {
                                distinct.push_back(item);
                                distinct_hash.push_back(hash);
                            }
                        }
                    }
                    out[k] = code;
                    if (code & kLocal) local_at.push_back(static_cast<std::size_t>(offsets[r]) + static_cast<std::size_t>(k));
                    if (by_address) seen.add(slot, item, code);
                }
            }
        }
    };
};

template <class T>
py::array_t<T> column(std::size_t n) {
    return py::array_t<T>(static_cast<py::ssize_t>(n));
}

template <class T>
py::array_t<T> as_array(const std::vector<T>& v) {
    py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
    std::copy(v.begin(), v.end(), a.mutable_data());
    return a;
}

// Where a row's texts come from: the batch's entry codes, so that medication_a / medication_b /
// condition are codes into the batch's distinct texts (no text per row).
struct EntryCodes {
    std::span<const std::int64_t> offsets;
    std::span<const std::int32_t> codes;
    std::int32_t at(std::uint64_t regimen, std::uint32_t position) const noexcept {
        if (position == kNone || offsets.empty()) return -1;
        return codes[static_cast<std::size_t>(offsets[regimen]) + position];
    }
};

// The rows as columns, filled by the screen's row sink (ScreenOptions::row_sink) batch by batch, in
// row order, on the worker threads while each batch's rows are still in the processor's cache.
// Before the sink, every row was stored in ScreenResult::rows (56 bytes a row; 3.6 MB for the
// 65,000 rows of 20,000 ten-name regimens) and read again afterwards for the columns. Every text
// column is a code: rule and substance codes, in order of first appearance, index rule_order /
// substance_order, which hold the knowledge base's own codes (ScreenRuleIds::ids, substances()),
// so that the Python side builds its categories once per knowledge base; medication and condition
// codes index the batch's distinct texts. The vectors are handed to numpy without a copy.
class RowColumns {
public:
    RowColumns(const ScreenBatch& batch, std::size_t substance_count)
        : meds_{batch.regimen_offsets, batch.medication_codes},
          conds_{batch.condition_offsets, batch.condition_codes},
          regimens_(batch.regimen_offsets.empty() ? 0 : batch.regimen_offsets.size() - 1),
          substance_count_(substance_count) {}

    // The sink: never touches Python (it runs without the GIL).
    void add(std::span<const ScreenRow> rows, const ScreenRuleIds& ids) {
        const std::size_t m = rows.size();
        if (m == 0) return;
        if (rule_compact_.empty()) {
            rule_compact_.assign(ids.ids.size(), -1);
            substance_compact_.assign(substance_count_, -1);
            // Room for the rows this first batch suggests for the whole screen (an eighth more),
            // so that the columns are not copied again and again as they double; at most
            // kMaxRowsReserved, since a first batch of unusually large regimens (a table sorted by
            // regimen size) would suggest far more rows than come (beyond it, they double).
            const std::size_t seen = static_cast<std::size_t>(rows.back().regimen) + 1;
            const std::size_t expected = m * regimens_ / std::max<std::size_t>(seen, 1);
            reserve(std::min(expected + expected / 8, kMaxRowsReserved));
        }
        const std::size_t at = regimen.size();
        resize(at + m);
        const ScreenRow* const r = rows.data();
        // Local pointers: the int8 stores below could otherwise alias every member.
        std::int64_t* const o_regimen = regimen.data() + at;
        std::int8_t *const o_kind = kind.data() + at, *const o_severity = severity.data() + at,
                           *const o_evidence = evidence.data() + at;
        std::int32_t *const o_a = input_a.data() + at, *const o_b = input_b.data() + at,
                            *const o_cond = condition_input.data() + at, *const o_sup = superseded.data() + at,
                            *const o_imp = implicated.data() + at, *const o_ma = medication_a.data() + at,
                            *const o_mb = medication_b.data() + at, *const o_ct = condition.data() + at;
        const EntryCodes med_codes = meds_, cond_codes = conds_;
        for (std::size_t k = 0; k < m; ++k) {
            const ScreenRow& x = r[k];
            const bool warning = is_warning(x);
            o_regimen[k] = static_cast<std::int64_t>(x.regimen);
            o_kind[k] = static_cast<std::int8_t>(x.kind);
            o_severity[k] = warning ? static_cast<std::int8_t>(x.severity) : std::int8_t{-1};
            o_evidence[k] = warning ? static_cast<std::int8_t>(x.evidence) : std::int8_t{-1};
            o_a[k] = idx(x.input_a);
            o_b[k] = idx(x.input_b);
            o_cond[k] = idx(x.condition_input);
            o_sup[k] = static_cast<std::int32_t>(x.superseded_count);
            o_imp[k] = static_cast<std::int32_t>(x.implicated_count);
            o_ma[k] = med_codes.at(x.regimen, x.input_a);
            o_mb[k] = med_codes.at(x.regimen, x.input_b);
            o_ct[k] = cond_codes.at(x.regimen, x.condition_input);
        }
        // The rule and substance codes depend on the rows before them (first appearance). A
        // rule's code and then its compact slot are two dependent reads at random places of two
        // tables of a few hundred KiB each (a whole-formulary pack): asked for ahead.
        std::int32_t *const o_sa = substance_a.data() + at, *const o_sb = substance_b.data() + at,
                            *const o_rule = rule.data() + at;
        constexpr std::size_t kAhead = 16;
        auto request_code = [&](std::size_t k) {
            if (r[k].kind == ScreenRowKind::DrugDrug) __builtin_prefetch(&ids.codes[r[k].rule]);
        };
        for (std::size_t k = 0; k < std::min(m, 2 * kAhead); ++k) request_code(k);
        for (std::size_t k = 0; k < m; ++k) {
            if (k + 2 * kAhead < m) request_code(k + 2 * kAhead);
            if (k + kAhead < m)  // ids.code() is kNone for a row without a rule
                if (const std::uint32_t g = ids.code(r[k + kAhead]); g != kNone) __builtin_prefetch(&rule_compact_[g]);
            const ScreenRow& x = r[k];
            o_sa[k] = compact(substance_compact_, substance_order, x.substance_a);
            o_sb[k] = compact(substance_compact_, substance_order, x.substance_b);
            o_rule[k] = compact(rule_compact_, rule_order, ids.code(x));
        }
    }

    Column<std::int64_t> regimen;
    Column<std::int8_t> kind, severity, evidence;
    Column<std::int32_t> input_a, input_b, substance_a, substance_b, rule, condition_input, superseded, implicated,
        medication_a, medication_b, condition;
    std::vector<std::int32_t> rule_order, substance_order;  // per compact code, the knowledge base's code

private:
    static bool is_warning(const ScreenRow& r) {
        return r.kind <= ScreenRowKind::DuplicateTherapy || r.kind == ScreenRowKind::Cumulative;
    }
    static std::int32_t idx(std::uint32_t v) { return v == kNone ? std::int32_t{-1} : static_cast<std::int32_t>(v); }
    static std::int32_t compact(detail::CallVector<std::int32_t>& table, std::vector<std::int32_t>& order, std::uint32_t global) {
        if (global == kNone) return -1;
        std::int32_t& c = table[global];
        if (c < 0) {
            c = static_cast<std::int32_t>(order.size());
            order.push_back(static_cast<std::int32_t>(global));
        }
        return c;
    }
    template <class Fn>
    void each_column(Fn&& fn) {
        fn(regimen);
        for (auto* v : {&kind, &severity, &evidence}) fn(*v);
        for (auto* v : {&input_a, &input_b, &substance_a, &substance_b, &rule, &condition_input, &superseded, &implicated,
                        &medication_a, &medication_b, &condition})
            fn(*v);
    }
    void reserve(std::size_t rows) {
        each_column([rows](auto& v) { v.reserve(rows); });
    }
    void resize(std::size_t rows) {
        each_column([rows](auto& v) { v.resize(rows); });
    }

    static constexpr std::size_t kMaxRowsReserved = std::size_t{1} << 24;  // 16.8 M rows, 0.9 GB of columns
    EntryCodes meds_, conds_;
    std::size_t regimens_, substance_count_;
    detail::CallVector<std::int32_t> rule_compact_, substance_compact_;  // per knowledge base code
};

// The texts of `order` (codes into `text_of`) as the offsets and data buffers of an Arrow string
// array, for the Arrow output's rule and substance dictionaries, written straight from the
// knowledge base's ids: no Python str is made (pyarrow's take from an array of every id of the
// knowledge base, 130,000 on the DDInter-derived pack, cost 0.4-1.4 ms a call). The ids are read
// in `order` (random places): the ones a few places ahead are requested meanwhile. None when the
// texts exceed what 32-bit offsets hold (the caller then takes them the other way).
template <class TextOf>
py::object arrow_strings(const std::vector<std::int32_t>& order, unsigned threads, TextOf&& text_of) {
    const std::size_t n = order.size();
    // Tens of thousands of ids (a whole-formulary screen) are split between the threads: each
    // sizes its range, then copies it where the sizes of the ranges before it say.
    constexpr std::size_t kPerThread = 16384;
    const auto parts = static_cast<unsigned>(std::clamp<std::size_t>(n / kPerThread, 1, std::max(threads, 1u)));
    std::vector<std::uint64_t> bytes(parts + 1, 0);
    auto range = [&](unsigned t) { return std::pair{n * t / parts, n * (t + 1) / parts}; };
    auto size_range = [&](unsigned t) {
        std::uint64_t sum = 0;
        for (auto [k, end] = range(t); k < end; ++k) sum += text_of(order[k]).size();
        bytes[t + 1] = sum;
    };
    std::int32_t* o = nullptr;
    char* d = nullptr;
    auto copy_range = [&](unsigned t) {
        constexpr std::size_t kAhead = 8;
        auto at = static_cast<std::int32_t>(bytes[t]);
        const auto [first, end] = range(t);
        for (std::size_t k = first; k < end; ++k) {
            if (k + kAhead < end) __builtin_prefetch(text_of(order[k + kAhead]).data());
            const std::string_view v = text_of(order[k]);
            std::memcpy(d + at, v.data(), v.size());
            at += static_cast<std::int32_t>(v.size());
            o[k + 1] = at;
        }
    };
    {
        py::gil_scoped_release release;
        on_threads(parts, size_range);
    }
    for (unsigned t = 0; t < parts; ++t) bytes[t + 1] += bytes[t];
    if (bytes[parts] > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max())) return py::none();
    auto offsets = column<std::int32_t>(n + 1);
    auto data = column<std::uint8_t>(static_cast<std::size_t>(bytes[parts]));
    o = offsets.mutable_data();
    d = reinterpret_cast<char*>(data.mutable_data());
    o[0] = 0;
    {
        py::gil_scoped_release release;
        on_threads(parts, copy_range);
    }
    return py::make_tuple(offsets, data);
}

// Runs the screen with its rows going into columns; the summaries become columns after it.
py::dict screen_to_columns(const KnowledgeBase& kb, const ScreenBatch& batch, ScreenOptions options, bool arrow) {
    RowColumns cols(batch, kb.substances().size());
    options.row_sink = [&cols](std::span<const ScreenRow> rows, const ScreenRuleIds& ids) { cols.add(rows, ids); };
    const unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    const bool summaries = options.summaries;
    // The summaries go straight into their columns, chunk by chunk on the worker threads (the
    // summary sink), handed to numpy afterwards without a copy (large ones on huge pages). Before,
    // the screen stored them (40 bytes a regimen) and this thread copied them into the columns
    // afterwards: 7 ms for 1,000,000 regimens, with the other thread idle.
    const std::size_t regimens =
        summaries && !batch.regimen_offsets.empty() ? batch.regimen_offsets.size() - 1 : 0;
    Column<std::int32_t> s_medications, s_conditions, s_warnings, s_unresolved_medications, s_unresolved_conditions,
        s_by[4];
    Column<std::int8_t> s_max_severity;
    const std::array<Column<std::int32_t>*, 9> s_int32 = {&s_medications, &s_conditions, &s_warnings,
                                                           &s_unresolved_medications, &s_unresolved_conditions,
                                                           &s_by[0], &s_by[1], &s_by[2], &s_by[3]};
    for (auto* v : s_int32) v->resize(regimens);
    s_max_severity.resize(regimens);
    if (summaries) {
        std::int32_t *const q_med = s_medications.data(), *const q_cond = s_conditions.data(),
                            *const q_warn = s_warnings.data(), *const q_um = s_unresolved_medications.data(),
                            *const q_uc = s_unresolved_conditions.data();
        std::int32_t* const q_by[4] = {s_by[0].data(), s_by[1].data(), s_by[2].data(), s_by[3].data()};
        std::int8_t* const q_max = s_max_severity.data();
        options.summary_sink = [=](std::size_t first, std::span<const ScreenSummary> sums) {
            for (std::size_t k = 0; k < sums.size(); ++k) {
                const ScreenSummary& s = sums[k];
                const std::size_t r = first + k;
                q_med[r] = static_cast<std::int32_t>(s.medications);
                q_cond[r] = static_cast<std::int32_t>(s.conditions);
                q_warn[r] = static_cast<std::int32_t>(s.warnings);
                q_um[r] = static_cast<std::int32_t>(s.unresolved_medications);
                q_uc[r] = static_cast<std::int32_t>(s.unresolved_conditions);
                q_max[r] = s.max_severity;
                for (int v = 0; v < 4; ++v) q_by[v][r] = static_cast<std::int32_t>(s.by_severity[v]);
            }
        };
    }
    {
        py::gil_scoped_release release;
        // The columns are fresh memory (huge pages when large), resident before the threads
        // write them: two threads faulting the same fresh huge page at once are slow here (the
        // columns of 1,000,000 regimens took 44 ms filled by two threads, 7 ms by one).
        if (threads > 1) {
            for (auto* v : s_int32) detail::touch_pages(v->data(), v->size() * sizeof(std::int32_t));
            detail::touch_pages(s_max_severity.data(), s_max_severity.size());
        }
    }
    ScreenResult res;
    {
        py::gil_scoped_release release;
        res = kb.screen(batch, options);
    }
    py::dict out;
    out["regimen"] = owned_array(std::move(cols.regimen));
    out["kind"] = owned_array(std::move(cols.kind));
    out["severity"] = owned_array(std::move(cols.severity));
    out["evidence"] = owned_array(std::move(cols.evidence));
    out["input_a"] = owned_array(std::move(cols.input_a));
    out["input_b"] = owned_array(std::move(cols.input_b));
    out["substance_a"] = owned_array(std::move(cols.substance_a));
    out["substance_b"] = owned_array(std::move(cols.substance_b));
    out["rule"] = owned_array(std::move(cols.rule));
    out["condition_input"] = owned_array(std::move(cols.condition_input));
    out["superseded"] = owned_array(std::move(cols.superseded));
    out["implicated"] = owned_array(std::move(cols.implicated));
    out["medication_a"] = owned_array(std::move(cols.medication_a));
    out["medication_b"] = owned_array(std::move(cols.medication_b));
    out["condition"] = owned_array(std::move(cols.condition));
    out["rule_serial"] = res.rule_ids->serial;
    out["rule_order"] = as_array(cols.rule_order);
    out["substance_order"] = as_array(cols.substance_order);
    if (arrow) {
        const auto& rule_ids = res.rule_ids->ids;
        const auto& substances = kb.substances();
        out["rule_dictionary"] = arrow_strings(
            cols.rule_order, threads, [&](std::int32_t g) { return rule_ids[static_cast<std::size_t>(g)]; });
        out["substance_dictionary"] = arrow_strings(cols.substance_order, threads, [&](std::int32_t g) {
            return std::string_view(substances[static_cast<std::size_t>(g)].id);
        });
    }
    out["pairs_evaluated"] = res.pairs_evaluated;
    if (!summaries) return out;  // the caller asked for the rows only
    out["summary_medications"] = owned_array(std::move(s_medications));
    out["summary_conditions"] = owned_array(std::move(s_conditions));
    out["summary_warnings"] = owned_array(std::move(s_warnings));
    out["summary_minor"] = owned_array(std::move(s_by[0]));
    out["summary_moderate"] = owned_array(std::move(s_by[1]));
    out["summary_major"] = owned_array(std::move(s_by[2]));
    out["summary_contraindicated"] = owned_array(std::move(s_by[3]));
    out["summary_max_severity"] = owned_array(std::move(s_max_severity));
    out["summary_unresolved_medications"] = owned_array(std::move(s_unresolved_medications));
    out["summary_unresolved_conditions"] = owned_array(std::move(s_unresolved_conditions));
    return out;
}

using I64 = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;
using I32 = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>;

}  // namespace

void bind_screen(py::module_& m) {
    m.def(
        "_screen_lists",
        [](const KnowledgeBase& kb, const py::object& regimens, const py::object& conditions, Severity min_severity,
           bool duplicate_therapy, const std::vector<WarningKind>& kinds, unsigned threads, bool arrow, bool summary) {
            ListEncoder meds, conds;
            py::object outer = py::reinterpret_steal<py::object>(
                PySequence_Fast(regimens.ptr(), "screen(): regimens must be a sequence of lists of str"));
            if (!outer) throw py::error_already_set();
            py::object couter;
            if (!conditions.is_none()) {
                couter = py::reinterpret_steal<py::object>(
                    PySequence_Fast(conditions.ptr(), "screen(): conditions must be a sequence of lists of str"));
                if (!couter) throw py::error_already_set();
            }
            // The parallel encoder checks the regimens itself (changing nothing when one is not an
            // exact list or tuple), so it goes first: no pass of all_plain over the regimens
            // before it (0.12 ms for 20,000 regimens). Everything else takes the path below.
            const bool conditions_plain = !couter || all_plain(couter.ptr());
            const unsigned encoders = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
            bool lists_plain = false;
            const bool encoded = conditions_plain && encoders >= 2 &&
                                 ParallelListEncoder::encode(outer.ptr(), encoders, meds, lists_plain);
            if (!encoded) {
                if (!conditions_plain || !(lists_plain || all_plain(outer.ptr()))) {
                    const py::tuple meds_snapshot = snapshot_of(outer.ptr());
                    const py::tuple conds_snapshot = couter ? snapshot_of(couter.ptr()) : py::tuple();
                    outer = read_sequences(meds_snapshot, "medications");
                    if (couter) couter = read_sequences(conds_snapshot, "conditions");
                }
                const Py_ssize_t n = PySequence_Fast_GET_SIZE(outer.ptr());
                PyObject* const* lists = PySequence_Fast_ITEMS(outer.ptr());
                constexpr Py_ssize_t kSampleLists = 1024;
                meds.offsets.reserve(std::min(static_cast<std::size_t>(n), kMaxScreenRegimens) + 1);
                for (Py_ssize_t r = 0; r < n; ++r) {
                    prefetch_ahead(lists, static_cast<std::size_t>(r), static_cast<std::size_t>(n));
                    meds.add_list(lists[r]);
                    // Room for the entries the first lists suggest (an eighth more, within the
                    // screen's limit), so that the codes are not copied again and again as they
                    // double (and each larger block faulted in afresh).
                    if (r + 1 == kSampleLists && n > 2 * kSampleLists) {
                        try {
                            meds.codes.reserve(std::min<std::size_t>(
                                meds.codes.size() * static_cast<std::size_t>(n) / kSampleLists * 9 / 8, kMaxScreenEntries));
                        } catch (const std::bad_alloc&) {  // a guess too large to map: the codes double as they go
                        }
                    }
                }
            }
            const Py_ssize_t count = PySequence_Fast_GET_SIZE(outer.ptr());
            if (couter) {
                if (PySequence_Fast_GET_SIZE(couter.ptr()) != count)
                    throw py::value_error("screen(): " + std::to_string(PySequence_Fast_GET_SIZE(couter.ptr())) +
                                          " condition lists for " + std::to_string(count) + " regimens");
                for (Py_ssize_t r = 0; r < count; ++r) conds.add_list(PySequence_Fast_GET_ITEM(couter.ptr(), r));
            }
            ScreenBatch batch;
            batch.medication_texts = meds.texts;
            batch.regimen_offsets = meds.offsets;
            batch.medication_codes = meds.codes;
            if (!conditions.is_none()) {
                batch.condition_texts = conds.texts;
                batch.condition_offsets = conds.offsets;
                batch.condition_codes = conds.codes;
            }
            py::dict out = screen_to_columns(kb, batch, screen_options(min_severity, duplicate_therapy, kinds, threads, summary), arrow);
            out["medication_texts"] = meds.distinct;
            out["regimen_offsets"] = owned_array(std::move(meds.offsets));
            out["medication_codes"] = owned_array(std::move(meds.codes));
            out["condition_texts"] = conds.distinct;
            out["texts_exact_str"] = meds.exact_str && conds.exact_str;
            out["condition_offsets"] = owned_array(std::move(conds.offsets));
            out["condition_codes"] = owned_array(std::move(conds.codes));
            return out;
        },
        py::arg("kb"), py::arg("regimens"), py::arg("conditions"), py::arg("min_severity"), py::arg("duplicate_therapy"),
        py::arg("kinds"), py::arg("threads"), py::arg("arrow") = false, py::arg("summary") = true,
        "Private: screen lists of lists of str (see rxcaution.screening); without the summary_* columns "
        "when summary is False.\n\nReturns\n-------\ndict\n");
    m.def(
        "_screen_columns",
        [](const KnowledgeBase& kb, const py::object& medication_texts, const I64& regimen_offsets,
           const I32& medication_codes, const py::object& condition_texts, const std::optional<I64>& condition_offsets,
           const std::optional<I32>& condition_codes, Severity min_severity, bool duplicate_therapy,
           const std::vector<WarningKind>& kinds, unsigned threads, bool arrow, bool summary) {
            const std::vector<std::string> med =
                texts_of(medication_texts, "_screen_columns(): medication_texts must be a list of str");
            const std::vector<std::string> cond =
                texts_of(condition_texts, "_screen_columns(): condition_texts must be a list of str");
            ScreenBatch batch;
            batch.medication_texts = med;
            batch.regimen_offsets = {regimen_offsets.data(), static_cast<std::size_t>(regimen_offsets.size())};
            batch.medication_codes = {medication_codes.data(), static_cast<std::size_t>(medication_codes.size())};
            batch.condition_texts = cond;
            if (condition_offsets && condition_codes) {
                batch.condition_offsets = {condition_offsets->data(), static_cast<std::size_t>(condition_offsets->size())};
                batch.condition_codes = {condition_codes->data(), static_cast<std::size_t>(condition_codes->size())};
            }
            return screen_to_columns(kb, batch, screen_options(min_severity, duplicate_therapy, kinds, threads, summary), arrow);
        },
        py::arg("kb"), py::arg("medication_texts"), py::arg("regimen_offsets"), py::arg("medication_codes"),
        py::arg("condition_texts"), py::arg("condition_offsets"), py::arg("condition_codes"), py::arg("min_severity"),
        py::arg("duplicate_therapy"), py::arg("kinds"), py::arg("threads"), py::arg("arrow") = false,
        py::arg("summary") = true,
        "Private: screen dictionary-encoded columns (see rxcaution.screening); without the summary_* "
        "columns when summary is False.\n\nReturns\n-------\ndict\n");

    m.def(
        "screen_memory_kept", [] { return screen_memory_kept(); },
        "Bytes of freed screening buffers this process keeps mapped for the screens that follow.\n\n"
        "Buffers of 256 KiB and more (a screen's output and encoder columns, its tables of distinct "
        "texts) are kept once freed, because fresh memory costs a page fault per page: at most 64 MiB "
        "and 64 buffers, unless the environment variable RXCAUTION_BLOCK_CACHE_MB (read once, at the "
        "first freed buffer) sets another limit in whole MiB (0 keeps none). Always 0 off Linux.\n\n"
        "Returns\n-------\nint\n");
    m.def(
        "release_screen_memory",
        [] {
            py::gil_scoped_release release;  // unmapping tens of MiB takes a moment
            release_screen_memory();
        },
        "Gives every buffer :func:`screen_memory_kept` counts back to the operating system now.\n\n"
        "For a long-running process that is done screening; later screens map fresh memory (and keep "
        "buffers again). Safe while other threads screen: buffers in use are not touched.\n\n"
        "Returns\n-------\nNone\n");
    m.def(
        "_screen_ids",
        [](const KnowledgeBase& kb) {
            // An empty screen hands out the knowledge base's rule id table (built once per knowledge base).
            const std::int64_t zero = 0;
            ScreenBatch empty;
            empty.regimen_offsets = {&zero, 1};
            const ScreenResult res = kb.screen(empty, ScreenOptions{});
            py::list rules, substances;
            for (std::string_view id : res.rule_ids->ids) rules.append(utf8(std::string(id)));
            for (const auto& s : kb.substances()) substances.append(utf8(s.id));
            return py::make_tuple(res.rule_ids->serial, rules, substances);
        },
        py::arg("kb"),
        "Private: (serial, rule ids, substance ids) that screen's rule and substance codes index.\n\nReturns\n-------\ntuple\n");

    m.def(
        "_take_objects",
        [](const py::array& objects, const I32& order) {
            // objects[order] for an object array (the categories of a screen's rule column: tens of
            // thousands of ids, scattered in memory). numpy's take waits for each object's reference
            // count in turn; here the objects a few places ahead are fetched meanwhile.
            if (objects.ndim() != 1 || objects.dtype().kind() != 'O' || !(objects.flags() & py::array::c_style))
                throw py::type_error("_take_objects(): a one-dimensional contiguous object array is needed");
            const auto size = static_cast<std::size_t>(objects.shape(0));
            const auto n = static_cast<std::size_t>(order.size());
            const std::int32_t* at = order.data();
            for (std::size_t k = 0; k < n; ++k)
                if (at[k] < 0 || static_cast<std::size_t>(at[k]) >= size)
                    throw py::index_error("_take_objects(): index " + std::to_string(at[k]) + " is outside " +
                                          std::to_string(size) + " objects");
            PyObject* const* from = static_cast<PyObject* const*>(objects.data());
            py::array out(py::dtype("O"), std::vector<py::ssize_t>{static_cast<py::ssize_t>(n)});
            auto** to = static_cast<PyObject**>(out.mutable_data());
            constexpr std::size_t ahead = 16;
            for (std::size_t k = 0; k < n; ++k) {
                if (k + ahead < n) __builtin_prefetch(from[at[k + ahead]], 1);
                PyObject* item = from[at[k]];
                Py_XINCREF(item);
                PyObject* old = to[k];  // NULL or None, as numpy initialised it
                to[k] = item;
                Py_XDECREF(old);
            }
            return out;
        },
        py::arg("objects"), py::arg("order"), "Private: objects[order] for an object array.\n\nReturns\n-------\nnumpy.ndarray\n");

    auto kb = py::reinterpret_borrow<py::class_<KnowledgeBase>>(m.attr("KnowledgeBase"));
    kb.def(
        "screen",
        [](const py::object& self, const py::object& data, const py::object& conditions, const py::object& regimen_column,
           const py::object& medication_column, const py::object& condition_column, const py::object& min_severity,
           const py::object& kinds, bool duplicate_therapy, int threads, bool as_arrow) {
            // The front end is Python (pandas / pyarrow are optional and imported only here).
            return py::module_::import("rxcaution.screening")
                .attr("screen")(self, data, py::arg("conditions") = conditions, py::arg("regimen_column") = regimen_column,
                                py::arg("medication_column") = medication_column,
                                py::arg("condition_column") = condition_column, py::arg("min_severity") = min_severity,
                                py::arg("kinds") = kinds, py::arg("duplicate_therapy") = duplicate_therapy,
                                py::arg("threads") = threads, py::arg("as_arrow") = as_arrow);
        },
        py::arg("data"), py::kw_only(), py::arg("conditions") = py::none(), py::arg("regimen_column") = "regimen_id",
        py::arg("medication_column") = "medication", py::arg("condition_column") = "condition",
        py::arg_v("min_severity", Severity::Minor, "Severity.MINOR"), py::arg("kinds") = py::none(),
        py::arg("duplicate_therapy") = true, py::arg("threads") = 0, py::arg("as_arrow") = false,
        R"doc(Screens many regimens at once (population screening); needs the ``screen`` extra.

Each distinct medication and condition text is resolved once; regimens are then checked on
``threads`` threads with the GIL released. Every regimen gets exactly the warnings
:meth:`check` gives it, in the same order, followed by one row for each input that did not
resolve (it was NOT checked; no row never means safe).

Parameters
----------
data : list of lists of str, pandas.DataFrame or pyarrow.Table
    Regimens: a list of medication lists, or a table in long format with one row per
    medication (``regimen_column``, ``medication_column``); a regimen's inputs are its rows in
    table order.
conditions : list of lists of str, pandas.DataFrame or pyarrow.Table, optional
    Patient conditions: one list per regimen, or a long table (``regimen_column``,
    ``condition_column``).
regimen_column, medication_column, condition_column : str
    Column names of the long tables.
min_severity : Severity, default Severity.MINOR
    Warnings below this severity are left out.
kinds : sequence of WarningKind, optional
    Warning kinds to return (default: all). Unresolved-input rows are always returned.
duplicate_therapy : bool, default True
    Report duplicate-therapy warnings.
threads : int, default 0
    Worker threads; 0 uses every core. Results do not depend on it.
as_arrow : bool, default False
    Return pyarrow Tables instead of pandas DataFrames.

Returns
-------
rxcaution.screening.ScreenResult
    ``rows`` (long format, one row per warning or unresolved input), ``summary`` (one row per
    regimen), ``pairs_evaluated``, and ``explain(i)`` / ``report(regimen)`` for full text.

Raises
------
ImportError
    When pandas (or pyarrow for ``as_arrow``) is missing: ``pip install 'rxcaution[screen]'``.
LimitError
    For a regimen over the limits of :meth:`check`, or a batch over the screen limits.
)doc");
}

}  // namespace rxcaution::python
