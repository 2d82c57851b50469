#pragma once
/// @file import_ddinter.hpp
/// `rxcaution import ddinter`: the DDInter CSV downloads turned into a bundled knowledge pack that
/// layers under a curated pack (`--pack builtin --pack ddinter.json`). Part of the command-line
/// tool (rxcaution_cli_lib), not of the core library: the library never reads CSV.
///
/// What goes in: one substance per DDInter drug that has a rated pair (joined to a substance of
/// the join pack when DDInter's name is that substance's name, synonym, salt form or id), one
/// interaction rule per unordered pair with DDInter's Level as severity, DDInter as the one
/// source and its licence (CC BY-NC-SA 4.0) in the manifest. Pairs DDInter rates "Unknown" have no
/// severity: they are counted and left out, never rated minor. The rules carry no effect,
/// mechanism or management beyond saying that the data gives none.

#include <rxcaution/knowledge_base.hpp>

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace rxcaution::importer {

/// What the importer reads.
struct DDInterOptions {
    /// CSV files, or directories whose `ddinter_downloads_code_*.csv` files are read (sorted).
    std::vector<std::filesystem::path> inputs;
    /// Larger CSV files are rejected before they are read.
    std::size_t max_file_bytes = 64u * 1024u * 1024u;
    /// `version` of the written pack's manifest.
    std::string pack_version = "ddinter-csv-1";
};

/// Counts of an import, and every decision that was not a plain copy.
struct DDInterSummary {
    std::vector<std::string> files;
    std::size_t rows = 0;
    std::size_t pairs = 0;         ///< unique unordered pairs
    std::size_t repeated_rows = 0; ///< rows repeating a pair with the same Level (one per ATC file)
    std::map<std::string, std::size_t> levels;  ///< unique pairs by Level (as kept)
    std::size_t conflicting_pairs = 0;  ///< pairs given two Levels: the most severe is kept
    std::vector<std::string> conflicts; ///< the first few, "DDInter1 x DDInter2: Major (A.csv:3) vs Minor (B.csv:9)"
    std::size_t drugs = 0;              ///< distinct DDInter drugs
    std::size_t drugs_unknown_only = 0; ///< drugs whose every pair is Unknown: not in the pack
    std::map<std::string, std::size_t> joined;  ///< joined to the join pack, by how they matched
    std::size_t ambiguous = 0;  ///< resolved to a product, by a loose match, or to a substance already taken
    std::vector<std::string> ambiguous_examples;
    std::size_t added = 0;      ///< new substances
    std::size_t renamed = 0;    ///< names shared by two DDInter drugs: the second carries its DDInter id
    std::size_t substances = 0;
    std::size_t rules = 0;
    /// The summary as lines for people.
    [[nodiscard]] std::vector<std::string> lines() const;
};

/// Reads the CSVs and returns the bundled pack (JSON text, one line).
/// @param options the inputs; @param join the pack whose substances DDInter drugs are joined to
/// (usually the built-in pack); @param summary filled with the counts and decisions.
/// @throws Error (DataError) with "FILE:LINE: ..." for a file that is missing, too large, not a
///         regular file or not UTF-8; a header without the five DDInter columns; a row with the
///         wrong number of fields, an empty or malformed id, an empty name, a drug paired with
///         itself, an unknown Level, or a DDInter id given two names.
std::string import_ddinter(const DDInterOptions& options, const KnowledgeBase& join, DDInterSummary& summary);

}  // namespace rxcaution::importer
