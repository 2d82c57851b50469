// Streaming JSON reading: a fast tokenizer (detail/json_tokenizer.hpp) on the happy path,
// nlohmann's SAX parser to explain malformed text, JSON pointers for each value, and parser
// failures turned into ParseError with line and column.

#include "detail/json_reader.hpp"
#include "detail/json_tokenizer.hpp"

#include <rxcaution/errors.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <exception>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace rxcaution::detail {

namespace {

using json = nlohmann::json;

// nlohmann quotes the bytes it stopped at ("last read: '...'"), which may be invalid UTF-8: a
// message must stay text (Python would fail to decode it), so such bytes are shown as \xHH.
std::string printable(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t n = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
        bool valid = n > 0 && i + n <= text.size();
        for (std::size_t k = 1; valid && k < n; ++k) valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
        if (valid && n == 3) {
            const auto c1 = static_cast<unsigned char>(text[i + 1]);
            valid = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogates
        } else if (valid && n == 4) {
            const auto c1 = static_cast<unsigned char>(text[i + 1]);
            valid = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
        }
        if (valid) {
            out.append(text, i, n);
            i += n;
        } else {
            static const char* hex = "0123456789ABCDEF";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
            ++i;
        }
    }
    return out;
}

// Line and column (1-based) of a byte offset, given the text before it.
struct Position {
    std::size_t line = 1;
    std::size_t column = 1;
};
Position position_in(std::string_view before) {
    Position p;
    for (char c : before) {
        if (c == '\n') {
            ++p.line;
            p.column = 1;
        } else {
            ++p.column;
        }
    }
    return p;
}

// Where a byte offset is, for whichever way the text is held; clamps the offset to the text.
using Locate = std::function<Position(std::size_t& offset)>;

// nlohmann reports the 1-based index of the byte it stopped at.
[[noreturn]] void throw_parse_error(const std::string& file, const Locate& locate, std::size_t position,
                                    const std::string& what) {
    std::size_t offset = position > 0 ? position - 1 : 0;
    const Position at = locate(offset);
    const std::size_t line = at.line, column = at.column;
    // Keep nlohmann's explanation but drop its "[json.exception.parse_error.101] parse error at ..."
    // prefix ("[json.exception.out_of_range.406] " for a number overflow).
    std::string detail = what;
    if (auto pos = detail.find(": syntax error"); pos != std::string::npos) detail = detail.substr(pos + 2);
    else if (auto p2 = detail.rfind(": "); p2 != std::string::npos) detail = detail.substr(p2 + 2);
    else if (detail.rfind("[json.exception.", 0) == 0) {
        if (auto close = detail.find("] "); close != std::string::npos) detail = detail.substr(close + 2);
    }
    throw ParseError(file, line, column, offset, printable(detail));
}

[[noreturn]] void throw_empty(const std::string& file) {
    throw ParseError(file, 1, 1, 0, "the text is empty (a pack is a JSON object)");
}

// Keeps the JSON pointer of the current value and forwards events to the consumer.
class SaxAdapter {
public:
    SaxAdapter(const std::string& file, Locate locate, JsonConsumer& consumer, JsonConsumer* after_error)
        : file_(file), locate_(std::move(locate)), consumer_(&consumer), after_error_(after_error) {
        pointer_.reserve(128);
        frames_.reserve(32);
    }

    bool null() {
        value_pointer();
        return deliver([&](JsonConsumer& c) { c.null(pointer_); });
    }
    bool boolean(bool v) {
        value_pointer();
        return deliver([&](JsonConsumer& c) { c.boolean(pointer_, v); });
    }
    bool number_integer(json::number_integer_t v) {
        value_pointer();
        return deliver([&](JsonConsumer& c) { c.integer(pointer_, static_cast<long long>(v)); });
    }
    bool number_unsigned(json::number_unsigned_t v) {
        value_pointer();
        if (v <= static_cast<json::number_unsigned_t>(std::numeric_limits<long long>::max()))
            return deliver([&](JsonConsumer& c) { c.integer(pointer_, static_cast<long long>(v)); });
        const std::string text = std::to_string(v);
        return deliver([&](JsonConsumer& c) { c.number(pointer_, static_cast<double>(v), text); });
    }
    bool number_float(json::number_float_t v, const std::string& s) {
        value_pointer();
        return deliver([&](JsonConsumer& c) { c.number(pointer_, v, s); });
    }
    bool binary(json::binary_t&) { return true; }  // never produced by the text parser
    bool string(std::string& s) {
        value_pointer();
        return deliver([&](JsonConsumer& c) { c.string(pointer_, s); });
    }
    bool start_object(std::size_t) {
        value_pointer();
        frames_.push_back({false, 0, pointer_.size()});
        return deliver([&](JsonConsumer& c) { c.start_object(pointer_); });
    }
    bool key(std::string& k) {
        pointer_.resize(frames_.back().base);
        append_pointer_token(pointer_, k);
        return deliver([&](JsonConsumer& c) { c.key(pointer_, k); });
    }
    bool end_object() {
        pointer_.resize(frames_.back().base);
        frames_.pop_back();
        return deliver([&](JsonConsumer& c) { c.end_object(pointer_); });
    }
    bool start_array(std::size_t) {
        value_pointer();
        frames_.push_back({true, 0, pointer_.size()});
        return deliver([&](JsonConsumer& c) { c.start_array(pointer_); });
    }
    bool end_array() {
        pointer_.resize(frames_.back().base);
        frames_.pop_back();
        return deliver([&](JsonConsumer& c) { c.end_array(pointer_); });
    }
    // Syntax errors, invalid UTF-8, lone surrogates and number overflow (out_of_range.406) all
    // arrive here; they win over any held shape error.
    bool parse_error(std::size_t position, const std::string& last_token, const nlohmann::detail::exception& e) {
        // nlohmann stops at a NUL byte as at the end of a C string; say what is really there.
        constexpr std::string_view nul = "<U+0000>";
        if (last_token.size() >= nul.size() && last_token.compare(last_token.size() - nul.size(), nul.size(), nul) == 0 &&
            std::string_view(e.what()).find("unexpected end of input") != std::string_view::npos)
            throw_parse_error(file_, locate_, position, "a NUL byte (\\0) in the text; JSON text has none");
        throw_parse_error(file_, locate_, position, e.what());
    }

    void finish() {
        if (held_) std::rethrow_exception(held_);
    }

private:
    struct Frame {
        bool array;
        std::size_t index;
        std::size_t base;  // length of the container's own pointer
    };

    void value_pointer() {
        if (frames_.empty()) return;
        Frame& f = frames_.back();
        if (!f.array) return;  // key() has set it
        pointer_.resize(f.base);
        pointer_ += '/';
        pointer_ += std::to_string(f.index++);
    }

    template <class F>
    bool deliver(F&& f) {
        JsonConsumer* target = held_ ? after_error_ : consumer_;
        if (!target) return true;
        try {
            f(*target);
        } catch (const DataError&) {
            // Hold the first shape error (a later one from the watcher replaces it: it is the one
            // that must win) and keep checking the syntax of the rest.
            held_ = std::current_exception();
        }
        return true;
    }

    const std::string& file_;
    Locate locate_;
    JsonConsumer* consumer_;
    JsonConsumer* after_error_;
    std::string pointer_;
    std::vector<Frame> frames_;
    std::exception_ptr held_;
};

// Accepts every event: the syntax check of check_json_syntax.
class NullConsumer final : public JsonConsumer {
public:
    void null(const std::string&) override {}
    void boolean(const std::string&, bool) override {}
    void integer(const std::string&, long long) override {}
    void number(const std::string&, double, const std::string&) override {}
    void string(const std::string&, std::string&) override {}
    void start_object(const std::string&) override {}
    void key(const std::string&, std::string&) override {}
    void end_object(const std::string&) override {}
    void start_array(const std::string&) override {}
    void end_array(const std::string&) override {}
};

Locate locate_in(std::string_view text) {
    return [text](std::size_t& offset) {
        if (offset > text.size()) offset = text.size();
        return position_in(text.substr(0, offset));
    };
}

// Chunks of a streamed document, presented to nlohmann as an input iterator. The chunk before the
// current one is kept, and lines are counted as chunks are left behind, so that a parse error gets
// its line and column even when the parser had already looked into the next chunk.
class ChunkReader {
public:
    explicit ChunkReader(const ReadChunk& read) : read_(read) {
        buffers_[0].resize(kChunk);
        buffers_[1].resize(kChunk);
        refill();
    }

    class Iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = char;
        using difference_type = std::ptrdiff_t;
        using pointer = const char*;
        using reference = const char&;
        Iterator() = default;
        explicit Iterator(ChunkReader* r) : r_(r) {}
        const char& operator*() const { return *r_->cur_; }
        Iterator& operator++() {
            if (++r_->cur_ == r_->end_) r_->refill();
            return *this;
        }
        Iterator operator++(int) {
            Iterator old = *this;
            ++*this;
            return old;
        }
        bool operator==(const Iterator& other) const { return done() == other.done(); }

    private:
        [[nodiscard]] bool done() const { return r_ == nullptr || r_->cur_ == r_->end_; }
        ChunkReader* r_ = nullptr;
    };

    [[nodiscard]] bool empty() const { return total_ == 0; }
    Iterator begin() { return Iterator(this); }
    static Iterator end() { return Iterator(); }

    Position locate(std::size_t& offset) const {
        if (offset > total_) offset = total_;
        if (offset < previous_start_) offset = previous_start_;  // the parser never looks that far back
        Position p = previous_position_;
        auto advance = [&](std::string_view text) {
            const Position in = position_in(text);
            if (in.line > 1) p = {p.line + in.line - 1, in.column};
            else p.column += in.column - 1;
        };
        const std::size_t in_previous = std::min(offset - previous_start_, previous_size_);
        advance(std::string_view(buffers_[1 - current_].data(), in_previous));
        if (offset - previous_start_ > previous_size_)
            advance(std::string_view(buffers_[current_].data(), offset - previous_start_ - previous_size_));
        return p;
    }

private:
    static constexpr std::size_t kChunk = 1 << 16;

    void refill() {
        // The current chunk becomes the previous one; the one before is counted and let go.
        const std::size_t size = static_cast<std::size_t>(end_ - cur_start());
        if (end_ != nullptr) {
            const Position in = position_in(std::string_view(buffers_[1 - current_].data(), previous_size_));
            if (in.line > 1) previous_position_ = {previous_position_.line + in.line - 1, in.column};
            else previous_position_.column += in.column - 1;
            previous_start_ += previous_size_;
            previous_size_ = size;
            current_ = 1 - current_;
        }
        std::vector<char>& buffer = buffers_[current_];
        const std::size_t n = read_(buffer.data(), buffer.size());
        total_ += n;
        cur_ = buffer.data();
        end_ = buffer.data() + n;
    }
    [[nodiscard]] const char* cur_start() const { return end_ == nullptr ? nullptr : buffers_[current_].data(); }

    const ReadChunk& read_;
    std::vector<char> buffers_[2];
    std::size_t current_ = 0;
    const char* cur_ = nullptr;
    const char* end_ = nullptr;
    std::size_t total_ = 0;
    std::size_t previous_start_ = 0;  // byte offset of the previous chunk
    std::size_t previous_size_ = 0;
    Position previous_position_;      // line and column where the previous chunk starts
};

}  // namespace

void append_pointer_token(std::string& pointer, std::string_view token) {
    pointer += '/';
    bool plain = true;  // a loop the compiler vectorises; find_first_of was a tenth of reading
    for (char c : token) plain &= (c != '~') & (c != '/');
    if (plain) {
        pointer += token;
        return;
    }
    for (char c : token) {
        if (c == '~') pointer += "~0";
        else if (c == '/') pointer += "~1";
        else pointer += c;
    }
}

std::string describe_string(std::string_view value) {
    std::string s = json(std::string(value)).dump(-1, ' ', false, json::error_handler_t::replace);
    if (s.size() > 60) s = s.substr(0, 57) + "...\"";
    return s;
}
std::string describe_integer(long long value) { return "number " + std::to_string(value); }
std::string describe_number(double value) { return "number " + json(value).dump(); }
std::string describe_boolean(bool value) { return value ? "boolean true" : "boolean false"; }

namespace {

// The fast tokenizer does not explain a rejection: nlohmann parses the text again (events to no
// consumer) and throws the ParseError, with the message, line and column it always gave.
[[noreturn]] void disagreement(const std::string& file) {
    throw std::logic_error(file + ": the fast JSON reader rejected text that nlohmann's parser accepts "
                                  "(a defect of rxcaution; please report it)");
}

[[noreturn]] void explain_text(const std::string& file, std::string_view text) {
    if (text.empty()) throw_empty(file);
    NullConsumer none;
    SaxAdapter sax(file, locate_in(text), none, nullptr);
    json::sax_parse(text.begin(), text.end(), &sax, nlohmann::detail::input_format_t::json, true);
    disagreement(file);
}

[[noreturn]] void explain_chunks(const std::string& file, const ReadChunk& read) {
    ChunkReader chunks(read);
    if (chunks.empty()) throw_empty(file);
    NullConsumer none;
    SaxAdapter sax(file, [&](std::size_t& offset) { return chunks.locate(offset); }, none, nullptr);
    json::sax_parse(chunks.begin(), ChunkReader::end(), &sax, nlohmann::detail::input_format_t::json, true);
    disagreement(file);
}

// Chunk size of the fast path when reading a file.
constexpr std::size_t kFastChunk = std::size_t{1} << 18;

}  // namespace

ReadAhead::ReadAhead(const ReadChunk& read, std::size_t block) : read_(read), block_(block) {}

void ReadAhead::start() {
    // Allocated only now: a small file (each of the curated pack's) costs no blocks, no copy and
    // no thread. Left uninitialised: read() fills them.
    for (Block& b : blocks_) b.bytes.reset(new char[block_]);
    try {
        thread_ = std::thread([this] { produce(); });
    } catch (const std::system_error&) {
        direct_ = true;  // no thread: the rest is read on this one, as it comes
    }
}

ReadAhead::~ReadAhead() {
    if (!thread_.joinable()) return;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

std::size_t ReadAhead::operator()(char* buffer, std::size_t capacity) {
    if (!started_) {
        // The first read goes straight to the caller. Only a read that fills the caller's room may
        // leave more of the file to read ahead; after a shorter one (the whole file, normally) the
        // rest is read on this thread, as it comes.
        started_ = true;
        const std::size_t n = read_(buffer, capacity);
        if (n == capacity && capacity > 0) start();
        else direct_ = true;
        return n;
    }
    if (direct_) return read_(buffer, capacity);
    Block& b = blocks_[take_ % 2];
    if (!b.full.load(std::memory_order_acquire)) {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [&] { return b.full.load(std::memory_order_relaxed); });
    }
    if (b.error) std::rethrow_exception(b.error);
    const std::size_t n = std::min(capacity, b.size - b.taken);
    if (n == 0) return 0;  // the end: the block stays, and every later call returns 0 too
    std::memcpy(buffer, b.bytes.get() + b.taken, n);
    b.taken += n;
    if (b.taken == b.size) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            b.full.store(false, std::memory_order_relaxed);
            ++take_;
        }
        changed_.notify_all();
    }
    return n;
}

void ReadAhead::produce() {
    for (std::size_t fill = 0;; ++fill) {
        Block& b = blocks_[fill % 2];
        {
            std::unique_lock<std::mutex> lock(mutex_);
            changed_.wait(lock, [&] { return stop_ || !b.full.load(std::memory_order_relaxed); });
            if (stop_) return;
        }
        b.taken = 0;
        try {
            b.size = read_(b.bytes.get(), block_);
        } catch (...) {
            b.error = std::current_exception();
            b.size = 0;
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            b.full.store(true, std::memory_order_release);
        }
        changed_.notify_all();
        if (b.size == 0) return;  // the end, or an error
    }
}

void stream_json(const std::string& file, std::string_view text, std::size_t max_bytes, JsonConsumer& consumer,
                 JsonConsumer* after_error) {
    if (text.size() > max_bytes)
        throw DataError(file, file + ": text is " + std::to_string(text.size()) + " bytes, over the limit of " +
                                  std::to_string(max_bytes) + " bytes");
    if (text.empty()) throw_empty(file);
    SaxAdapter sax(file, locate_in(text), consumer, after_error);
    JsonTokenizer fast(text);
    if (!fast.parse(sax)) explain_text(file, text);
    sax.finish();
}

void check_json_syntax(const std::string& file, std::string_view text) {
    if (text.empty()) throw_empty(file);
    NullConsumer none;
    SaxAdapter sax(file, locate_in(text), none, nullptr);
    JsonTokenizer fast(text);
    if (!fast.parse(sax)) explain_text(file, text);
}

void stream_json_chunks(const std::string& file, const OpenChunks& open, JsonConsumer& consumer,
                        JsonConsumer* after_error) {
    {
        const ReadChunk direct = open();
        ReadAhead ahead(direct, kFastChunk);
        const ReadChunk read = std::ref(ahead);
        SaxAdapter sax(file, [](std::size_t&) { return Position{}; }, consumer, after_error);
        JsonTokenizer fast(read, kFastChunk);
        if (fast.parse(sax)) {
            sax.finish();
            return;
        }
    }
    explain_chunks(file, open());
}

void check_json_syntax_chunks(const std::string& file, const OpenChunks& open) {
    NullConsumer none;
    stream_json_chunks(file, open, none);
}

void stream_json_nlohmann(const std::string& file, std::string_view text, JsonConsumer& consumer,
                          JsonConsumer* after_error) {
    if (text.empty()) throw_empty(file);
    SaxAdapter sax(file, locate_in(text), consumer, after_error);
    json::sax_parse(text.begin(), text.end(), &sax, nlohmann::detail::input_format_t::json, true);
    sax.finish();
}

}  // namespace rxcaution::detail
