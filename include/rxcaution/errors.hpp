#pragma once
/// @file errors.hpp
/// The exception hierarchy of rxcaution. Every failure of the library is one of these types, so a
/// caller can catch `rxcaution::Error` for "anything from rxcaution" or a subclass for one cause.

#include <rxcaution/export.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace rxcaution {

/// Base class of every exception thrown by rxcaution.
class RXCAUTION_EXPORT Error : public std::runtime_error {
public:
    /// @param message full, human-readable message.
    explicit Error(const std::string& message);
};

/// A knowledge pack could not be used. Carries the file (or `<memory>`) the problem is in.
class RXCAUTION_EXPORT DataError : public Error {
public:
    /// @param file the pack file the problem is in; @param message the full message.
    DataError(std::string file, const std::string& message);
    /// The pack file (e.g. `data/interactions.json`) or `<memory>`.
    [[nodiscard]] const std::string& file() const noexcept { return file_; }

private:
    std::string file_;
};

/// The text is not valid JSON. The message reads `FILE:LINE:COLUMN: ...`.
class RXCAUTION_EXPORT ParseError : public DataError {
public:
    ParseError(std::string file, std::size_t line, std::size_t column, std::size_t byte_offset,
               const std::string& detail);
    /// 1-based line of the error.
    [[nodiscard]] std::size_t line() const noexcept { return line_; }
    /// 1-based column of the error.
    [[nodiscard]] std::size_t column() const noexcept { return column_; }
    /// 0-based byte offset of the error.
    [[nodiscard]] std::size_t byte_offset() const noexcept { return byte_offset_; }

private:
    std::size_t line_;
    std::size_t column_;
    std::size_t byte_offset_;
};

/// A value has the wrong shape. The message reads `FILE:/json/pointer: expected X, got Y`.
class RXCAUTION_EXPORT SchemaError : public DataError {
public:
    SchemaError(std::string file, std::string pointer, std::string expected, std::string found);
    /// JSON pointer of the offending value (RFC 6901).
    [[nodiscard]] const std::string& pointer() const noexcept { return pointer_; }
    /// What the format requires there.
    [[nodiscard]] const std::string& expected() const noexcept { return expected_; }
    /// What was found (a short rendering of the value, or `nothing` for a missing field).
    [[nodiscard]] const std::string& found() const noexcept { return found_; }

private:
    std::string pointer_;
    std::string expected_;
    std::string found_;
};

/// The pack is well-formed but inconsistent (dangling references, duplicate ids, class cycles,
/// facts without sources...). Every problem found is listed, not only the first.
class RXCAUTION_EXPORT IntegrityError : public DataError {
public:
    IntegrityError(std::string file, std::vector<std::string> problems);
    /// One line per problem, each `FILE:/pointer: description`.
    [[nodiscard]] const std::vector<std::string>& problems() const noexcept { return problems_; }

private:
    std::vector<std::string> problems_;
};

/// The pack declares a `format_version` this library cannot read.
class RXCAUTION_EXPORT UnsupportedFormatVersion : public DataError {
public:
    UnsupportedFormatVersion(std::string file, long long found, long long supported);
    /// The version the pack declares.
    [[nodiscard]] long long found() const noexcept { return found_; }
    /// The version this library reads.
    [[nodiscard]] long long supported() const noexcept { return supported_; }

private:
    long long found_;
    long long supported_;
};

/// A name or id was looked up and is not in the knowledge base.
class RXCAUTION_EXPORT NotFoundError : public Error {
public:
    NotFoundError(std::string key, std::vector<std::string> suggestions, const std::string& what_kind);
    /// The text that was looked up.
    [[nodiscard]] const std::string& key() const noexcept { return key_; }
    /// Up to three close names, best first (may be empty).
    [[nodiscard]] const std::vector<std::string>& suggestions() const noexcept { return suggestions_; }

private:
    std::string key_;
    std::vector<std::string> suggestions_;
};

/// An input exceeds a documented limit (e.g. more medications than one check accepts).
class RXCAUTION_EXPORT LimitError : public Error {
public:
    LimitError(std::string what_limit, std::size_t limit, std::size_t actual);
    /// Which limit: `medications`, `conditions`, ...
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    /// The largest accepted value.
    [[nodiscard]] std::size_t limit() const noexcept { return limit_; }
    /// What was given.
    [[nodiscard]] std::size_t actual() const noexcept { return actual_; }

private:
    std::string name_;
    std::size_t limit_;
    std::size_t actual_;
};

}  // namespace rxcaution
