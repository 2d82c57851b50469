#pragma once
// The drug vocabulary (DrugBank open vocabulary, CC0): names, synonyms and identifiers of every
// DrugBank drug, so that a real drug the pack has no rule for is recognised ("no rules") rather
// than reported like a typo. Identity data only: the vocabulary holds no interaction knowledge.
//
// Layout: flat arrays meant to be written to and read from a binary snapshot as they are (one
// string table, arrays of fixed-size records that index into it; no pointers, no hash tables).
// Lookups are binary searches in `keys`, sorted by normalised text.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rxcaution::detail {

inline constexpr std::uint32_t kNoIndex = 0xFFFFFFFFu;

// A piece of Vocabulary::strings.
struct TextSpan {
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
};

struct Vocabulary {
    // How a key names its drug, best first: a drug's own name outranks another drug's synonym
    // with the same text, so that "atenolol" is atenolol and not a drug listing it as a synonym.
    enum class KeyKind : std::uint8_t { Drugbank, Unii, Cas, Name, Synonym };
    struct Drug {
        TextSpan drugbank, name, cas, unii;
    };
    struct Key {
        TextSpan text;  // normalised (normalize_name)
        std::uint32_t drug;
        KeyKind kind;
    };

    std::string strings;        // string table
    std::vector<Drug> drugs;    // in file order (DrugBank id order)
    std::vector<Key> keys;      // sorted by (text, kind, drug); one entry per distinct (text, drug)
    std::string origin;         // where it was read from, for messages
    std::string source_sha256;  // of the DrugBank CSV it was made from (from the file header)

    [[nodiscard]] std::string_view text(TextSpan s) const { return {strings.data() + s.offset, s.length}; }
    [[nodiscard]] std::string_view name(std::uint32_t d) const { return text(drugs[d].name); }
    [[nodiscard]] std::string_view drugbank(std::uint32_t d) const { return text(drugs[d].drugbank); }

    // The keys equal to `normalized`, best kind first: [first, last).
    struct Range {
        const Key* first = nullptr;
        const Key* last = nullptr;
        [[nodiscard]] bool empty() const { return first == last; }
    };
    [[nodiscard]] Range find(std::string_view normalized) const;

    // What a normalised text names: one drug, several (ambiguous at the best kind), or none.
    struct Match {
        std::uint32_t drug = kNoIndex;  // kNoIndex when none or ambiguous
        KeyKind kind = KeyKind::Name;
        std::uint32_t candidates = 0;   // distinct drugs at the best kind
        Range range;                    // all keys with this text
    };
    [[nodiscard]] Match match(std::string_view normalized) const;
    // The drugs a text names at its best kind, when ambiguous (for the report).
    [[nodiscard]] std::vector<std::uint32_t> candidates(std::string_view normalized) const;
    // A drug by exact DrugBank id / UNII (for joining pack substances); kNoIndex when absent.
    [[nodiscard]] std::uint32_t by_drugbank(std::string_view id) const;
    [[nodiscard]] std::uint32_t by_unii(std::string_view unii) const;
};

// Parses the TSV written by tools/import_drugbank_vocabulary.py.
// @throws DataError naming `origin` and the line for a malformed line.
std::shared_ptr<const Vocabulary> parse_vocabulary(std::string_view tsv, const std::string& origin);

// The vocabulary embedded in the library, parsed on first use (thread-safe), or nullptr when the
// library was built without one.
const Vocabulary* builtin_vocabulary();

}  // namespace rxcaution::detail
