// Reading pack files from disk: what a path is (a pack directory, a manifest, a bundled file),
// the size limit, and a clear DataError for what is not a regular file (a directory, a FIFO, a
// device, a socket), found without blocking, so that a FIFO never hangs a load. Files are read
// in chunks while they are parsed: a large pack's text is never held whole.

#include "detail/pack.hpp"

#include <rxcaution/errors.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#define RXCAUTION_POSIX_FILES 1
#endif

namespace rxcaution::detail {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void not_a_file(const std::string& display, const std::string& what) {
    throw DataError(display, display + ": " + what + ", not a pack file");
}

void check_size(const std::string& display, std::uintmax_t size, std::size_t max_bytes) {
    if (size > max_bytes)
        throw DataError(display, display + ": file is " + std::to_string(size) + " bytes, over the limit of " +
                                     std::to_string(max_bytes) + " bytes");
}

#ifdef RXCAUTION_POSIX_FILES
void describe_mode(const std::string& display, mode_t mode) {
    if (S_ISREG(mode)) return;
    if (S_ISDIR(mode)) not_a_file(display, "is a directory");
    if (S_ISFIFO(mode)) not_a_file(display, "is a FIFO (named pipe)");
    if (S_ISCHR(mode)) not_a_file(display, "is a character device");
    if (S_ISBLK(mode)) not_a_file(display, "is a block device");
    if (S_ISSOCK(mode)) not_a_file(display, "is a socket");
    not_a_file(display, "is not a regular file");
}
#endif

}  // namespace

PackFileReader::PackFileReader(const fs::path& path, const std::string& display, std::size_t max_bytes)
    : display_(display), max_bytes_(max_bytes) {
#ifdef RXCAUTION_POSIX_FILES
    // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever. fstat on the open
    // descriptor decides, so a file swapped after a check cannot slip through.
    fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) {
        const int err = errno;
        if (err == ENOENT || err == ENOTDIR) throw DataError(display, display + ": no such file");
        throw DataError(display, display + ": cannot open (" + std::strerror(err) + ")");
    }
    struct stat st {};
    try {
        if (::fstat(fd_, &st) != 0) throw DataError(display, display + ": cannot read (" + std::strerror(errno) + ")");
        describe_mode(display, st.st_mode);
        check_size(display, static_cast<std::uintmax_t>(st.st_size), max_bytes);
    } catch (...) {
        ::close(fd_);
        throw;
    }
#else
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (!fs::exists(status)) throw DataError(display, display + ": no such file");
    if (fs::is_directory(status)) not_a_file(display, "is a directory");
    if (!fs::is_regular_file(status)) not_a_file(display, "is not a regular file");
    const auto size = fs::file_size(path, ec);
    if (ec) throw DataError(display, display + ": cannot read (" + ec.message() + ")");
    check_size(display, size, max_bytes);
    auto* in = new std::ifstream(path, std::ios::binary);
    if (!*in) {
        delete in;
        throw DataError(display, display + ": cannot open");
    }
    stream_ = in;
#endif
}

PackFileReader::~PackFileReader() {
#ifdef RXCAUTION_POSIX_FILES
    if (fd_ >= 0) ::close(fd_);
#else
    delete static_cast<std::ifstream*>(stream_);
#endif
}

std::size_t PackFileReader::read(char* buffer, std::size_t capacity) {
#ifdef RXCAUTION_POSIX_FILES
    ssize_t n;
    do {
        n = ::read(fd_, buffer, capacity);
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw DataError(display_, display_ + ": cannot read (" + std::strerror(errno) + ")");
    const auto got = static_cast<std::size_t>(n);
#else
    auto& in = *static_cast<std::ifstream*>(stream_);
    in.read(buffer, static_cast<std::streamsize>(capacity));
    if (in.bad()) throw DataError(display_, display_ + ": cannot read");
    const auto got = static_cast<std::size_t>(in.gcount());
#endif
    total_ += got;
    check_size(display_, total_, max_bytes_);  // it grew while being read
    return got;
}

PackData load_pack_path(const fs::path& path, const LoadOptions& options, bool encode_rules) {
    std::error_code ec;
    const bool directory = fs::is_directory(path, ec);
    const fs::path dir = directory ? path : path.parent_path();
    if (directory && !fs::exists(path / "manifest.json", ec)) {
        const std::string display = path.generic_string();
        throw DataError(display, display + ": a directory without manifest.json (a pack directory holds manifest.json "
                                           "and the data files it names)");
    }
    auto file = [&](const std::string& relative) { return PackFile{(dir / relative).generic_string(), {}, dir / relative}; };
    // A directory is a pack laid out as data/ is; a file is a manifest or a bundled pack, told
    // apart by its first key while it is read.
    const PackFile first = directory ? file("manifest.json") : PackFile{path.generic_string(), {}, path};
    return load_pack(first, directory ? PackLayout::Manifest : PackLayout::Either, file, options, encode_rules);
}

}  // namespace rxcaution::detail
