#pragma once
// JSON reading for packs: a streaming pass over the text (a fast tokenizer, with nlohmann's SAX
// parser to explain malformed text) that tells a
// consumer each value together with its JSON pointer, and turns every parser failure (syntax,
// invalid UTF-8, number overflow, empty input) into a ParseError with line and column.
//
// No parsed tree is built: a consumer fills its own structures as the values go by.

#include <rxcaution/export.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace rxcaution::detail {

// What a streaming consumer receives. `pointer` is the RFC 6901 pointer of the value the event
// is about ("" for the root; for end_object/end_array, the container's pointer).
class JsonConsumer {
public:
    virtual ~JsonConsumer() = default;
    virtual void null(const std::string& pointer) = 0;
    virtual void boolean(const std::string& pointer, bool value) = 0;
    // Integers in range of long long arrive here; larger ones arrive through number().
    virtual void integer(const std::string& pointer, long long value) = 0;
    // Any other finite number, with its text as written.
    virtual void number(const std::string& pointer, double value, const std::string& text) = 0;
    virtual void string(const std::string& pointer, std::string& value) = 0;
    virtual void start_object(const std::string& pointer) = 0;
    // `pointer` is already the member's pointer (object pointer + "/" + escaped key).
    virtual void key(const std::string& pointer, std::string& key) = 0;
    virtual void end_object(const std::string& pointer) = 0;
    virtual void start_array(const std::string& pointer) = 0;
    virtual void end_array(const std::string& pointer) = 0;
};

// Streams `text` (named `file` in messages) through `consumer`.
//
// Error precedence matches a parse-then-read loader: a consumer's DataError (a shape problem) is
// held back while the rest of the text is still checked for syntax, so that malformed JSON is
// always reported as a ParseError; when the whole text is well-formed the held error is rethrown.
// A consumer that wants to keep watching after its first error (for an error that must win, such
// as an unsupported format version) gets the remaining events through `after_error`, if given.
//
// Throws ParseError (malformed text, with line, column and byte offset), DataError (text over
// `max_bytes`), or what the consumer throws.
RXCAUTION_EXPORT void stream_json(const std::string& file, std::string_view text, std::size_t max_bytes, JsonConsumer& consumer,
                 JsonConsumer* after_error = nullptr);

// The same for a document read in chunks (a file streamed from disk, so that the whole text is
// never held): a ReadChunk fills up to `capacity` bytes and returns how many, 0 at the end.
// `open` gives a reader from the start of the document; it is called a second time only for
// malformed text, to explain it (the fast tokenizer does not, nlohmann's parser does).
using ReadChunk = std::function<std::size_t(char* buffer, std::size_t capacity)>;
using OpenChunks = std::function<ReadChunk()>;
RXCAUTION_EXPORT void stream_json_chunks(const std::string& file, const OpenChunks& open, JsonConsumer& consumer,
                        JsonConsumer* after_error = nullptr);

// A ReadChunk that reads a large file's next blocks on a second thread while the current one is
// parsed (stream_json_chunks uses it): copying a whole-formulary pack out of the page cache
// (read()) was about a tenth of its load; overlapping the parse, the load of a 46.7 MB pack took
// 0.84-0.86x the time in quiet alternated runs (median 0.88x in a noisier series). Two blocks: the
// thread fills one while the parser drains the other. Whatever `read` throws (an I/O error, a
// file that grew past the size limit) is rethrown to the caller at the point of the stream where
// it happened. The thread stops when the object is destroyed, also in mid-file. A file that the
// first read (straight into the caller's buffer) does not fill (each of the curated pack's files)
// is read without a thread or blocks, and so is everything when no thread can be started. One
// caller thread at a time.
class RXCAUTION_EXPORT ReadAhead {
public:
    // Reads nothing yet.
    ReadAhead(const ReadChunk& read, std::size_t block);
    ~ReadAhead();
    ReadAhead(const ReadAhead&) = delete;
    ReadAhead& operator=(const ReadAhead&) = delete;
    // Up to `capacity` bytes, 0 at the end. Throws what `read` threw for this part of the stream.
    std::size_t operator()(char* buffer, std::size_t capacity);

private:
    struct Block {
        std::unique_ptr<char[]> bytes;
        std::size_t size = 0, taken = 0;
        std::exception_ptr error;
        std::atomic<bool> full{false};
    };
    void start();
    void produce();

    const ReadChunk& read_;
    const std::size_t block_;
    Block blocks_[2];
    std::size_t take_ = 0;
    bool started_ = false, direct_ = false;
    std::mutex mutex_;
    std::condition_variable changed_;
    bool stop_ = false;
    std::thread thread_;
};

// Syntax check only (used for the files after a shape error, so that a later file's malformed
// JSON still wins as it did when every file was parsed before reading). Throws ParseError.
void check_json_syntax(const std::string& file, std::string_view text);
void check_json_syntax_chunks(const std::string& file, const OpenChunks& open);

// stream_json through nlohmann's parser only (no fast tokenizer, no size limit): the reference
// the differential tests compare the fast path with.
RXCAUTION_EXPORT void stream_json_nlohmann(const std::string& file, std::string_view text, JsonConsumer& consumer,
                          JsonConsumer* after_error = nullptr);

// RFC 6901 escaping of one reference token.
void append_pointer_token(std::string& pointer, std::string_view token);

// A short rendering of a value for "got ..." in messages: `"text"` (cut at 60 characters),
// `number 3`, `boolean true`, `null`, `an object`, `an array`.
std::string describe_string(std::string_view value);
std::string describe_integer(long long value);
std::string describe_number(double value);
std::string describe_boolean(bool value);

}  // namespace rxcaution::detail
