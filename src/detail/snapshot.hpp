#pragma once
// The binary snapshot (`.rxpack`): a compiled knowledge base written to bytes and read back without
// parsing JSON, checking integrity or compiling the graph again. The format is documented in
// docs/snapshot-format.md; snapshot.cpp is its only reader and writer.

#include "detail/impl.hpp"

#include <rxcaution/export.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace rxcaution::detail {

// The first eight bytes of every snapshot. 0x89 keeps the file from passing for text; the final
// newline reveals a transfer that rewrote line ends.
inline constexpr std::string_view kSnapshotMagic{"\x89RXPACK\n", 8};
// 2: cumulative rules (a pack section, with the Count and Amount field kinds). 3: the name table
// and its suggestion pool stored after the compiled engine. Files of other versions are refused
// with a message that says to compile the pack again.
inline constexpr std::uint32_t kSnapshotFormatVersion = 3;
inline constexpr std::size_t kSnapshotHeaderBytes = 32;

// Whether `head` (the first bytes of a file) starts like a snapshot.
[[nodiscard]] bool looks_like_snapshot(std::string_view head) noexcept;

// The snapshot of a compiled knowledge base.
[[nodiscard]] std::string write_snapshot(const KnowledgeBaseImpl& kb);

// Reads a snapshot. Every length, count and index is checked against the bytes that are there
// and the sizes already read, so damaged or hostile bytes give a DataError naming `file` and what
// is wrong (never a crash, a hang or an allocation larger than the input).
// The texts the entities expand to (a string of the table counts each time it is used) are
// limited to `max_expanded_text` bytes; 0 means 8 times the data, at least 256 MiB.
// `embedded`: the bytes are the library's own built-in snapshot, which lives as long as the
// process: its string table is used in place, and what rxcaution_packc verified when it read the
// snapshot back at build time (the checksum, the tables' shapes, the pair bits against the
// interaction edges) is not verified again. Never pass it for bytes from anywhere else.
[[nodiscard]] RXCAUTION_EXPORT std::shared_ptr<const KnowledgeBaseImpl> read_snapshot(std::string_view bytes,
                                                                                      const std::string& file,
                                                                                      std::uint64_t max_expanded_text = 0,
                                                                                      bool embedded = false);

// A copy of the knowledge base's pack with every interaction rule decoded (and, for a layered
// one, each rule's layer): what to_json writes and what layering merges.
[[nodiscard]] PackData pack_of(const KnowledgeBaseImpl& kb);

// The checksum stored in the header (64-bit, fast, for detecting damage; not a signature).
[[nodiscard]] RXCAUTION_EXPORT std::uint64_t snapshot_checksum(std::string_view payload) noexcept;

}  // namespace rxcaution::detail
