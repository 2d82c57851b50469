#include <rxcaution/errors.hpp>

namespace rxcaution {

namespace {
std::string join_problems(const std::string& file, const std::vector<std::string>& problems) {
    std::string text = file + ": " + std::to_string(problems.size()) + (problems.size() == 1 ? " problem" : " problems") +
                       " in the pack:";
    for (const auto& p : problems) text += "\n  " + p;
    return text;
}

std::string not_found_message(const std::string& key, const std::vector<std::string>& suggestions,
                              const std::string& what_kind) {
    std::string text = "unknown " + what_kind + " \"" + key + "\"";
    if (!suggestions.empty()) {
        text += "; did you mean ";
        for (std::size_t i = 0; i < suggestions.size(); ++i)
            text += (i ? (i + 1 == suggestions.size() ? " or " : ", ") : "") + ("\"" + suggestions[i] + "\"");
        text += "?";
    }
    return text;
}
}  // namespace

Error::Error(const std::string& message) : std::runtime_error(message) {}

DataError::DataError(std::string file, const std::string& message) : Error(message), file_(std::move(file)) {}

ParseError::ParseError(std::string file, std::size_t line, std::size_t column, std::size_t byte_offset,
                       const std::string& detail)
    : DataError(file, file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": invalid JSON at byte " +
                          std::to_string(byte_offset) + ": " + detail),
      line_(line), column_(column), byte_offset_(byte_offset) {}

SchemaError::SchemaError(std::string file, std::string pointer, std::string expected, std::string found)
    : DataError(file, file + ":" + pointer + ": expected " + expected + ", got " + found),
      pointer_(std::move(pointer)), expected_(std::move(expected)), found_(std::move(found)) {}

IntegrityError::IntegrityError(std::string file, std::vector<std::string> problems)
    : DataError(file, join_problems(file, problems)), problems_(std::move(problems)) {}

UnsupportedFormatVersion::UnsupportedFormatVersion(std::string file, long long found, long long supported)
    : DataError(file, file + ": format_version " + std::to_string(found) + " is not supported (this library reads " +
                          std::to_string(supported) + ")"),
      found_(found), supported_(supported) {}

NotFoundError::NotFoundError(std::string key, std::vector<std::string> suggestions, const std::string& what_kind)
    : Error(not_found_message(key, suggestions, what_kind)), key_(std::move(key)), suggestions_(std::move(suggestions)) {}

LimitError::LimitError(std::string what_limit, std::size_t limit, std::size_t actual)
    : Error("too many " + what_limit + ": " + std::to_string(actual) + " given, at most " + std::to_string(limit) +
            " accepted"),
      name_(std::move(what_limit)),
      limit_(limit),
      actual_(actual) {}

}  // namespace rxcaution
