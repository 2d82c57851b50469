// A nlohmann SAX consumer that records every event as a line, values exact (doubles by their bits,
// containers with the size the parser passes): the oracle that compares the fast JSON tokenizer
// with nlohmann, shared by the differential tests (tests/cpp/json_tokenizer_test.cpp) and the
// fuzz target (fuzz_pack_json.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace rxcaution_fuzz {

struct JsonEventRecorder {
    using json = nlohmann::json;
    std::vector<std::string> events;
    bool null() { return add("null"); }
    bool boolean(bool v) { return add(v ? "true" : "false"); }
    bool number_integer(json::number_integer_t v) { return add("int " + std::to_string(v)); }
    bool number_unsigned(json::number_unsigned_t v) { return add("uint " + std::to_string(v)); }
    bool number_float(json::number_float_t v, const std::string& s) {
        std::uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        return add("float " + std::to_string(bits) + " " + s);
    }
    bool string(std::string& s) { return add("string " + s); }
    bool binary(json::binary_t&) { return add("binary"); }
    bool start_object(std::size_t n) { return add(tagged('{', n)); }
    bool key(std::string& k) { return add("key " + k); }
    bool end_object() { return add("}"); }
    bool start_array(std::size_t n) { return add(tagged('[', n)); }
    bool end_array() { return add("]"); }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }
    static std::string tagged(char tag, std::size_t n) {
        std::string out(1, tag);
        out += std::to_string(n);
        return out;
    }
    bool add(std::string e) {
        events.push_back(std::move(e));
        return true;
    }
};

// nlohmann's verdict on `text`, its events recorded into `r`: the reference both comparisons use.
inline bool record_with_nlohmann(std::string_view text, JsonEventRecorder& r) {
    try {
        return nlohmann::json::sax_parse(text.begin(), text.end(), &r, nlohmann::detail::input_format_t::json, true);
    } catch (const nlohmann::json::exception&) {
        return false;  // number overflow (out_of_range.406) is thrown, not reported
    }
}

}  // namespace rxcaution_fuzz
