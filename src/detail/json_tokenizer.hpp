#pragma once
// A fast streaming JSON tokenizer for the happy path of pack loading (issue 9): it drives a SAX
// handler with nlohmann's interface (start_object(npos), key(std::string&), string(std::string&),
// number_integer, number_unsigned, number_float(double, text), boolean, null, end_*), with the
// same events in the same order, and accepts exactly what nlohmann's strict sax_parse accepts.
//
// It does not explain rejections: on any malformed input it only returns false, and the caller
// re-parses the text with nlohmann to get the exact message, line and column (so every error
// message stays as it was). tests/cpp/json_tokenizer_test.cpp and the fuzz_pack_json target
// compare its events and verdicts with nlohmann's.
//
// Mirrored nlohmann behaviour (json.hpp 3.11): an optional UTF-8 BOM; whitespace is space, tab,
// LF, CR; strings reject control characters below 0x20, invalid UTF-8 (RFC 3629 ranges) and lone
// or mismatched \u surrogates; numbers follow the JSON grammar and are typed as nlohmann types
// them (strtoll / strtoull when they fit, else strtod with the locale's decimal point; a
// non-finite double is rejected); a NUL byte where a token starts ends the input (so it is
// accepted after the document, as nlohmann does); no nesting limit (an explicit stack, no
// recursion); nothing but whitespace after the document. No parse tree is built.

#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <clocale>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace rxcaution::detail {

class JsonTokenizer {
public:
    // Where the bytes come from: a whole text, or a reader that fills a buffer (0 at the end).
    using Read = std::function<std::size_t(char* buffer, std::size_t capacity)>;

    explicit JsonTokenizer(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}
    explicit JsonTokenizer(const Read& read, std::size_t chunk = std::size_t{1} << 16) : read_(&read) {
        buffer_.resize(chunk + kLookahead);
        p_ = end_ = buffer_.data();
    }

    // Streams the document through `sax`. Returns false on malformed input (the events delivered
    // so far stand: the caller must not trust what it built). Exceptions of `sax` and of the
    // reader propagate.
    template <class Sax>
    bool parse(Sax& sax) {
        if (!ensure(1)) return false;  // empty: nlohmann's "unexpected end of input"
        if (static_cast<unsigned char>(*p_) == 0xEF) {
            if (!ensure(3) || static_cast<unsigned char>(p_[1]) != 0xBB || static_cast<unsigned char>(p_[2]) != 0xBF)
                return false;
            p_ += 3;
        }
        std::vector<bool> in_array;  // true: array, false: object
        in_array.reserve(64);
        for (;;) {
            // A value.
            if (!skip_ws()) return false;
            switch (*p_) {
                case '{':
                    ++p_;
                    if (!sax.start_object(static_cast<std::size_t>(-1))) return false;
                    if (!skip_ws()) return false;
                    if (*p_ == '}') {
                        ++p_;
                        if (!sax.end_object()) return false;
                        break;
                    }
                    in_array.push_back(false);
                    if (!member_key(sax)) return false;
                    continue;
                case '[':
                    ++p_;
                    if (!sax.start_array(static_cast<std::size_t>(-1))) return false;
                    if (!skip_ws()) return false;
                    if (*p_ == ']') {
                        ++p_;
                        if (!sax.end_array()) return false;
                        break;
                    }
                    in_array.push_back(true);
                    continue;
                case '"':
                    if (!scan_string() || !sax.string(text_)) return false;
                    break;
                case 't':
                    if (!literal("true", 4) || !sax.boolean(true)) return false;
                    break;
                case 'f':
                    if (!literal("false", 5) || !sax.boolean(false)) return false;
                    break;
                case 'n':
                    if (!literal("null", 4) || !sax.null()) return false;
                    break;
                default:
                    if (!number(sax)) return false;
                    break;
            }
            // After a value: close containers, or go on to the next element or member.
            for (;;) {
                if (in_array.empty()) {
                    // Strict: only whitespace (or a NUL, nlohmann's end of input) may follow.
                    while (ensure(1)) {
                        const char c = *p_;
                        if (c == '\0') return true;
                        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
                        ++p_;
                    }
                    return true;
                }
                if (!skip_ws()) return false;
                const char c = *p_++;
                if (c == ',') {
                    if (!in_array.back() && !member_key(sax)) return false;
                    break;
                }
                if (in_array.back() ? c != ']' : c != '}') return false;
                in_array.pop_back();
                if (!(c == ']' ? sax.end_array() : sax.end_object())) return false;
            }
        }
    }

private:
    static constexpr std::size_t kLookahead = 16;

    // At least `n` bytes from p_ (fewer only at the end of the input).
    bool ensure(std::size_t n) {
        if (static_cast<std::size_t>(end_ - p_) >= n) return true;
        if (!read_) return false;
        return refill(n);
    }

    bool refill(std::size_t n) {
        const std::size_t kept = static_cast<std::size_t>(end_ - p_);
        std::memmove(buffer_.data(), p_, kept);
        p_ = buffer_.data();
        end_ = p_ + kept;
        while (!eof_ && static_cast<std::size_t>(end_ - p_) < n) {
            const std::size_t room = buffer_.size() - static_cast<std::size_t>(end_ - p_);
            const std::size_t got = (*read_)(const_cast<char*>(end_), room);
            if (got == 0) eof_ = true;
            end_ += got;
        }
        return static_cast<std::size_t>(end_ - p_) >= n;
    }

    // Skips whitespace; false when the input ends (or a NUL byte, nlohmann's end of input, comes).
    bool skip_ws() {
        for (;;) {
            while (p_ < end_) {
                const char c = *p_;
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return c != '\0';
                ++p_;
            }
            if (!ensure(1)) return false;
        }
    }

    template <class Sax>
    bool member_key(Sax& sax) {
        if (!skip_ws() || *p_ != '"' || !scan_string() || !sax.key(text_)) return false;
        if (!skip_ws() || *p_ != ':') return false;
        ++p_;
        return true;
    }

    bool literal(const char* word, std::size_t n) {
        if (!ensure(n) || std::memcmp(p_, word, n) != 0) return false;
        p_ += n;
        return true;
    }

    // Bytes a string may hold as they are: printable ASCII but the quote and the backslash.
    static bool plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

    static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
    // 4 hex digits at p (ensured), or -1.
    static int hex4(const char* p) {
        int v = 0;
        for (int i = 0; i < 4; ++i) {
            const int h = hex(p[i]);
            if (h < 0) return -1;
            v = v * 16 + h;
        }
        return v;
    }

    // Length of a valid UTF-8 sequence at p (up to `avail` bytes), 0 when invalid; -1 when more
    // bytes are needed to decide.
    static int utf8_length(const unsigned char* p, std::size_t avail) {
        const unsigned char c = p[0];
        int n;
        unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
        if (c >= 0xC2 && c <= 0xDF) n = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else return 0;
        for (int i = 1; i < n; ++i) {
            if (static_cast<std::size_t>(i) >= avail) return -1;
            const unsigned char b = p[i];
            if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
        }
        return n;
    }

    void append_utf8(std::uint32_t cp) {
        if (cp < 0x80) {
            text_ += static_cast<char>(cp);
        } else if (cp < 0x800) {
            text_ += static_cast<char>(0xC0 | (cp >> 6));
            text_ += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            text_ += static_cast<char>(0xE0 | (cp >> 12));
            text_ += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            text_ += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            text_ += static_cast<char>(0xF0 | (cp >> 18));
            text_ += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            text_ += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            text_ += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    // A string token at p_ (the opening quote) into text_.
    bool scan_string() {
        text_.clear();
        ++p_;
        for (;;) {
            // The run of bytes copied as they are (ASCII and valid UTF-8), appended at once.
            const char* start = p_;
            for (;;) {
                while (p_ < end_ && plain(static_cast<unsigned char>(*p_))) ++p_;
                if (p_ == end_ || static_cast<unsigned char>(*p_) < 0x80) break;
                const int n = utf8_length(reinterpret_cast<const unsigned char*>(p_), static_cast<std::size_t>(end_ - p_));
                if (n == 0) return false;
                if (n < 0) break;  // the sequence goes past the buffer: refill below
                p_ += n;
            }
            text_.append(start, p_);
            if (!ensure(1)) return false;
            const auto c = static_cast<unsigned char>(*p_);
            if (c == '"') {
                ++p_;
                return true;
            }
            if (c >= 0x80) {
                ensure(4);  // a sequence cut by the end of the input is invalid (length -1)
                const int n =
                    utf8_length(reinterpret_cast<const unsigned char*>(p_), static_cast<std::size_t>(end_ - p_));
                if (n <= 0) return false;
                text_.append(p_, static_cast<std::size_t>(n));
                p_ += n;
                continue;
            }
            if (c != '\\') {
                if (plain(c)) continue;  // only after a refill
                return false;            // a control character
            }
            if (!ensure(2)) return false;
            const char e = p_[1];
            p_ += 2;
            switch (e) {
                case '"': text_ += '"'; break;
                case '\\': text_ += '\\'; break;
                case '/': text_ += '/'; break;
                case 'b': text_ += '\b'; break;
                case 'f': text_ += '\f'; break;
                case 'n': text_ += '\n'; break;
                case 'r': text_ += '\r'; break;
                case 't': text_ += '\t'; break;
                case 'u': {
                    if (!ensure(4)) return false;
                    const int cp1 = hex4(p_);
                    if (cp1 < 0) return false;
                    p_ += 4;
                    std::uint32_t cp = static_cast<std::uint32_t>(cp1);
                    if (cp1 >= 0xD800 && cp1 <= 0xDBFF) {
                        if (!ensure(6) || p_[0] != '\\' || p_[1] != 'u') return false;
                        const int cp2 = hex4(p_ + 2);
                        if (cp2 < 0xDC00 || cp2 > 0xDFFF) return false;
                        p_ += 6;
                        cp = 0x10000u + ((static_cast<std::uint32_t>(cp1) - 0xD800u) << 10) +
                             (static_cast<std::uint32_t>(cp2) - 0xDC00u);
                    } else if (cp1 >= 0xDC00 && cp1 <= 0xDFFF) {
                        return false;
                    }
                    append_utf8(cp);
                    break;
                }
                default: return false;
            }
        }
    }

    // Appends digits to number_; false when none.
    bool digits() {
        bool any = false;
        for (;;) {
            while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
                number_ += *p_++;
                any = true;
            }
            if (p_ < end_ || !ensure(1)) return any;
        }
    }
    // The next byte, or 0 at the end.
    char peek() { return ensure(1) ? *p_ : '\0'; }

    template <class Sax>
    bool number(Sax& sax) {
        number_.clear();
        bool is_float = false;
        const bool negative = *p_ == '-';
        if (negative) {
            number_ += '-';
            ++p_;
        }
        const char first = peek();
        if (first == '0') {
            number_ += '0';
            ++p_;
        } else if (first >= '1' && first <= '9') {
            digits();
        } else {
            return false;
        }
        if (peek() == '.') {
            // As nlohmann: the locale's decimal point, for strtod (and in the text it reports).
            number_ += *std::localeconv()->decimal_point;
            ++p_;
            if (!digits()) return false;
            is_float = true;
        }
        if (const char e = peek(); e == 'e' || e == 'E') {
            number_ += e;
            ++p_;
            if (const char s = peek(); s == '+' || s == '-') {
                number_ += s;
                ++p_;
            }
            if (!digits()) return false;
            is_float = true;
        }
        if (!is_float) {
            // As nlohmann: an integer that fits is one; an overflowing one becomes a double.
            char* stop = nullptr;
            errno = 0;
            if (negative) {
                const long long v = std::strtoll(number_.c_str(), &stop, 10);
                if (errno == 0) return sax.number_integer(static_cast<std::int64_t>(v));
            } else {
                const unsigned long long v = std::strtoull(number_.c_str(), &stop, 10);
                if (errno == 0) return sax.number_unsigned(static_cast<std::uint64_t>(v));
            }
        }
        char* stop = nullptr;
        const double v = std::strtod(number_.c_str(), &stop);
        if (!std::isfinite(v)) return false;  // nlohmann: out_of_range.406 (number overflow)
        return sax.number_float(v, number_);
    }

    const Read* read_ = nullptr;
    std::vector<char> buffer_;
    bool eof_ = false;
    const char* p_ = nullptr;
    const char* end_ = nullptr;
    std::string text_;
    std::string number_;
};

}  // namespace rxcaution::detail
