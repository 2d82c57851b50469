#pragma once
// The compiled knowledge base: the pack, interned to integers, and one immutable Boost.Graph
// (compressed sparse row) that every query walks. Built once by build_impl(); never mutated
// afterwards, which is what makes concurrent queries safe.
//
// Vertex layout (contiguous ranges, so a vertex number says what it is):
//   [0, S)            substances
//   [S, S+C)          classes
//   [.., +P)          products
//   [.., +K)          conditions
//   [.., +R)          interaction rules
// Edges, each row sorted by target:
//   substance -> substance   Interacts: the pair's rules, a span of `pair_rule_pool`
//   substance -> class       MemberOf (direct membership)
//   class     -> class       SubclassOf
//   product   -> substance   HasIngredient
//   condition -> condition   ConditionParent
//   participant -> rule      Participates (substance, class or product named by the rule)
// Because substances come first, the Interacts edges of a substance are the prefix of its row, and
// a pair probe is a binary search in a short contiguous array.

#include "detail/huge_pages.hpp"
#include "detail/pack.hpp"
#include "detail/vocabulary.hpp"

#include <rxcaution/knowledge_base.hpp>

#include <boost/graph/compressed_sparse_row_graph.hpp>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rxcaution::detail {

enum class EdgeKind : std::uint8_t { Interacts, MemberOf, SubclassOf, HasIngredient, ConditionParent, Participates };

struct EdgeProps {
    EdgeKind kind = EdgeKind::MemberOf;
    std::uint32_t offset = 0;  // Interacts: span of pair_rule_pool
    std::uint32_t count = 0;
};

using Graph = boost::compressed_sparse_row_graph<boost::directedS, boost::no_property, EdgeProps, boost::no_property,
                                                 std::uint32_t, std::uint32_t>;
using Vertex = std::uint32_t;

// How a name was matched; the text is part of the JSON contract (`matched_by`).
enum class MatchedBy : std::uint8_t {
    Name, Id, Synonym, Salt, Brand, Rxcui, Drugbank, Unii, Normalized,
    VocabularyName, VocabularySynonym, Cas, RxnormName, RxnormBrand
};
const char* to_text(MatchedBy m) noexcept;

// A name people may type, after normalisation, and what it stands for.
struct NameTarget {
    EntityKind kind = EntityKind::Substance;  // substance or product
    std::uint32_t index = 0;
    MatchedBy matched_by = MatchedBy::Name;
};

// A rule participant, interned.
struct Part {
    EntityKind kind = EntityKind::Substance;
    std::uint32_t index = 0;
};

// Transparent hashing so that lookups by string_view allocate nothing.
struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
struct TextEq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
};
template <class V>
using TextMap = std::unordered_map<std::string, V, TextHash, TextEq>;

// Entity id -> its index (hashed with NameTable::hash). The keys are views of the ids the pack holds (kb.pack is never changed
// after the lookups are built), so building the index allocates nothing per id: every load,
// the built-in pack's included, builds nine of them. Open addressing, at most half full; the
// first of two equal keys wins, as with unordered_map::emplace. `find` returns a pointer (end()
// is nullptr) so call sites read like a map's.
class IdIndex {
public:
    using Entry = std::pair<std::string_view, std::uint32_t>;
    [[nodiscard]] const Entry* find(std::string_view key) const noexcept;
    [[nodiscard]] static constexpr const Entry* end() noexcept { return nullptr; }
    // Throws std::out_of_range when absent.
    [[nodiscard]] std::uint32_t at(std::string_view key) const;
    [[nodiscard]] std::size_t count(std::string_view key) const noexcept { return find(key) ? 1 : 0; }
    [[nodiscard]] bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }
    bool emplace(std::string_view key, std::uint32_t value);
    void reserve(std::size_t entries);
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

private:
    void grow(std::size_t slots);
    std::vector<Entry> entries_;
    std::vector<std::uint32_t> slots_;  // entry index + 1; 0 is an empty slot
};

// Each entity's key (its id, or `key`: a profile's substance) -> its position: a section's index,
// built from the start (an earlier one is dropped).
template <class T, class Key>
void index_by(const std::vector<T>& items, IdIndex& index, Key T::*key) {
    index = IdIndex{};
    index.reserve(items.size());
    for (std::uint32_t i = 0; i < items.size(); ++i) index.emplace(items[i].*key, i);
}
template <class T>
void index_ids(const std::vector<T>& items, IdIndex& index) {
    index_by(items, index, &T::id);
}

// Normalised medication name -> what it stands for. Every load has it (about 1,700 names in the
// built-in pack): one vector of entries with an open-addressing index rather than a node-based map
// that allocates per name; lookups by string_view allocate nothing. A pack read from JSON builds
// it (keys copied into the table's own storage); a snapshot stores it, and its keys stay views of
// the snapshot's string table. `find` returns a pointer (end() is nullptr) so call sites read like
// a map's. Not copyable: the keys may be views of its own storage.
class NameTable {
public:
    using Entry = std::pair<std::string_view, NameTarget>;
    NameTable() = default;
    NameTable(const NameTable&) = delete;
    NameTable& operator=(const NameTable&) = delete;
    NameTable(NameTable&&) = default;  // std::deque keeps its elements where they are
    NameTable& operator=(NameTable&&) = default;
    // The entry for `key`, inserted with `target` (and a copy of the key) when absent; the pointer
    // is valid until the next insertion.
    std::pair<Entry*, bool> emplace(std::string_view key, const NameTarget& target);
    // The same, keeping `key` itself: it must outlive the table (a snapshot's string table).
    std::pair<Entry*, bool> emplace_view(std::string_view key, const NameTarget& target);
    [[nodiscard]] const Entry* find(std::string_view key) const noexcept { return find(key, hash(key)); }
    // The same, with hash(key) already computed: a check hashes all its names first and requests
    // their slots (prefetch_slot) and entries (prefetch_entry) together, so that the cache misses of
    // its lookups overlap instead of forming one chain of dependent misses per name.
    [[nodiscard]] const Entry* find(std::string_view key, std::uint64_t h) const noexcept;
    void prefetch_slot(std::uint64_t h) const noexcept {
        if (!slots_.empty()) __builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
    }
    void prefetch_entry(std::uint64_t h) const noexcept {
        if (slots_.empty()) return;
        const Slot s = slots_[h & (slots_.size() - 1)];
        if (s.entry != 0) __builtin_prefetch(&entries_[s.entry - 1]);
    }
    // Hash of a normalised name (8 bytes a step; names are short, and every check hashes each).
    [[nodiscard]] static std::uint64_t hash(std::string_view key) noexcept {
        const char* p = key.data();
        std::size_t n = key.size();
        std::uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xFF51AFD7ED558CCDull);
        auto load8 = [](const char* q) {
            std::uint64_t v;
            __builtin_memcpy(&v, q, 8);
            return v;
        };
        auto mix = [](std::uint64_t x) {
            x ^= x >> 32;
            x *= 0xD6E8FEB86659FD93ull;
            x ^= x >> 32;
            return x;
        };
        while (n > 8) {
            h = mix(h ^ load8(p)) * 0x9E3779B97F4A7C15ull;
            p += 8;
            n -= 8;
        }
        std::uint64_t tail = 0;
        if (key.size() >= 8) {
            tail = load8(key.data() + key.size() - 8);  // the last 8 bytes, overlapping the previous step
        } else {
            for (std::size_t k = 0; k < n; ++k) tail |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[k])) << (8 * k);
        }
        return mix(mix(h ^ tail) + 0x632BE59BD9B4E019ull);
    }
    [[nodiscard]] static constexpr const Entry* end() noexcept { return nullptr; }
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    // Entries are numbered in the order they were first inserted.
    [[nodiscard]] const Entry& entry(std::size_t i) const { return entries_[i]; }
    void reserve(std::size_t entries);

private:
    struct Slot {
        std::uint32_t entry = 0;  // entry index + 1; 0 is an empty slot
        std::uint32_t tag = 0;    // the hash's high bits: most mismatches never compare text
    };
    void grow(std::size_t slots);
    std::pair<Entry*, bool> insert(std::string_view key, const NameTarget& target, bool copy);
    std::vector<Entry> entries_;
    std::vector<std::uint64_t> hashes_;  // per entry, so growing rehashes no text
    std::vector<Slot> slots_;            // a power of two, at most half full
    std::deque<std::string> owned_;      // the copied keys (elements never move)
};

// What an input stands for beyond a pack entity.
enum class RefForm : std::uint8_t {
    Entity,          // a substance or product of the pack (kind, index)
    VocabularyOnly,  // a vocabulary drug the pack has no substance for: recognised, no rules
    Composite,       // an RxNorm-style name with several ingredients (a span of ResolvedParts)
    Ambiguous,       // unresolved: the name belongs to several vocabulary drugs
};

// One medication of a check, resolved.
struct InputRef {
    bool resolved = false;
    EntityKind kind = EntityKind::Substance;
    std::uint32_t index = 0;
    MatchedBy matched_by = MatchedBy::Name;
    RefForm form = RefForm::Entity;
    std::uint32_t vocab = kNoIndex;                  // vocabulary drug, when matched through it
    std::uint32_t parts_begin = 0, parts_count = 0;  // Composite: span of ResolvedParts::parts
    std::uint32_t subs_begin = 0, subs_count = 0;    // Composite: span of ResolvedParts::substances

    // An input found in the pack's name table (check() looks names up before resolve_input).
    static InputRef of(const NameTarget& t) { return InputRef{true, t.kind, t.index, t.matched_by}; }
    bool operator==(const InputRef&) const = default;
};

// An ingredient of a composite input.
struct NamePart {
    std::uint32_t substance = kNoIndex;  // pack substance, or kNoIndex
    std::uint32_t vocab = kNoIndex;      // vocabulary drug, or kNoIndex
    std::string text;                    // as written in the input
    bool ambiguous = false;              // unresolved because several vocabulary drugs share the name
};

// The ingredients of the composite inputs of one check (or one resolve call).
struct ResolvedParts {
    std::vector<NamePart> parts;
    std::vector<std::uint32_t> substances;  // pack substances of each composite, contiguous
};

// The interaction rules of a snapshot, kept encoded until a query reads one (snapshot.cpp). A
// whole-formulary pack has 100,000+ rules whose text a check never reads; held as structs they
// would be most of the knowledge base's memory.
struct EncodedRules;

struct KnowledgeBaseImpl {
    // For a snapshot and for a pack loaded alone from JSON, `pack.interactions` stays empty: see
    // encoded_rules (only a layered knowledge base keeps structs).
    PackData pack;

    IdIndex substance_index, product_index, class_index, condition_index, source_index, contraindication_index,
        treatment_index, profile_index, cumulative_index;

    // --- interaction rules: in `pack.interactions`, or encoded (snapshot, single JSON pack) ----
    std::shared_ptr<const EncodedRules> encoded_rules;
    // The built-in pack's sections decoded on first use (pack.hpp, Section); null otherwise.
    std::unique_ptr<const PendingSections> pending_sections;
    std::uint32_t rule_count = 0;
    // Rule ids, open addressing (slot = rule + 1, 0 = empty): 4 bytes a slot instead of a hash
    // node and a copy of every id.
    std::vector<std::uint32_t> interaction_slots;
    [[nodiscard]] std::size_t interaction_count() const noexcept { return rule_count; }
    // The rule, decoded on first use when encoded; the reference stays valid as long as this.
    [[nodiscard]] const InteractionRule& interaction(std::uint32_t r) const;
    [[nodiscard]] std::string_view interaction_id(std::uint32_t r) const;
    [[nodiscard]] const InteractionRule* find_interaction(std::string_view id) const;
    // The rule's index, or -1.
    [[nodiscard]] std::int64_t interaction_index_of(std::string_view id) const;
    // Every rule as one vector (decodes all of them, once, when encoded).
    [[nodiscard]] const std::vector<InteractionRule>& all_interactions() const;

    // --- the graph ------------------------------------------------------------------------------
    Graph graph;
    Vertex class_base = 0, product_base = 0, condition_base = 0, rule_base = 0, vertex_count = 0;
    [[nodiscard]] Vertex substance_vertex(std::uint32_t s) const { return s; }
    [[nodiscard]] Vertex class_vertex(std::uint32_t c) const { return class_base + c; }
    [[nodiscard]] Vertex product_vertex(std::uint32_t p) const { return product_base + p; }
    [[nodiscard]] Vertex condition_vertex(std::uint32_t c) const { return condition_base + c; }
    [[nodiscard]] Vertex rule_vertex(std::uint32_t r) const { return rule_base + r; }
    // A rule as the pair index holds it: with what a check needs, so that finding the rules of a
    // pair touches one contiguous span and never the rule table.
    struct PoolRule {
        std::uint32_t rule;
        Severity severity;
        EvidenceGrade evidence;
        bool supersedes;  // the rule replaces more general ones
        // The severity the min_severity filter compares: the rule's own, or in a layered pack the
        // highest rating the pair's annotations give, so that filtering never hides a pair that
        // a later pack rates at or above the threshold (the warning keeps the rule's severity).
        std::uint8_t filter_severity;
    };
    static_assert(sizeof(Severity) == sizeof(int));
    static_assert(sizeof(PoolRule) == 16, "the pair pool stays four words a rule");
    std::vector<PoolRule> pair_rule_pool;  // spans referenced by Interacts edges
    std::vector<std::uint32_t> interacts_end;   // per substance: edge index where its Interacts edges end
    // Side index for the pair probe: one bit per substance pair that has compiled rules, kept
    // while it is small (up to kMaxPairBitsSubstances substances: 8 MiB). A check tests a bit per
    // ingredient pair and searches the graph only for the few pairs that have rules; measured
    // against walking or binary-searching the graph rows, it is the fastest probe.
    static constexpr std::uint32_t kMaxPairBitsSubstances = 8192;
    std::vector<std::uint64_t> pair_bits;
    std::uint32_t pair_bits_stride = 0;
    [[nodiscard]] bool pair_bit(std::uint32_t a, std::uint32_t b) const {
        const std::uint64_t k = static_cast<std::uint64_t>(a) * pair_bits_stride + b;
        return (pair_bits[k >> 6] >> (k & 63)) & 1u;
    }
    // Pair index for checks, rebuilt at load from pair_bits and the Interacts edges
    // (build_check_index; never stored). Only pairs lo < hi are kept: per substance lo, a row of
    // pair_row_words words; word q holds in its low 48 bits the pairs (lo, hi) for hi in
    // [48q, 48q + 48), and in its high 16 bits how many pairs the row's earlier words hold. So
    // the one word a probe reads also gives the pair's rank within its row; with the row's first
    // rank (pair_row_base, a few KiB) that is the pair's position in pair_hot, a compact 8-byte
    // record of its rules that holds the rule itself when the pair has one (nearly all pairs):
    // a check reads one word per ingredient pair, and one record per pair that has rules, where
    // a bit index, a separate rank table, a span and the rule pool took four reads.
    static constexpr unsigned kPairWordBits = 48;
    HugeVector<std::uint64_t> pair_rows;  // read at random by every check: huge pages (huge_pages.hpp)
    std::uint32_t pair_row_words = 0;
    std::vector<std::uint32_t> pair_row_base;
    struct PairHot {
        // One rule: the rule. Several (or none): the offset of the pair's span in pair_rule_pool.
        std::uint32_t word;
        // One rule: severity | evidence << 8 | filter_severity << 16 | supersedes << 24.
        // Otherwise kSpan | the span's length.
        std::uint32_t meta;
        static constexpr std::uint32_t kSpan = 1u << 31;
    };
    static_assert(sizeof(PairHot) == 8);
    HugeVector<PairHot> pair_hot;
    // The word of pair (lo, hi), lo < hi, and the pair's bit in it.
    [[nodiscard]] std::uint64_t pair_word(std::uint32_t lo, std::uint32_t hi) const {
        return pair_rows[static_cast<std::size_t>(lo) * pair_row_words + hi / kPairWordBits];
    }
    // The position in pair_hot of pair (lo, hi), lo < hi, whose bit is set in its word w.
    [[nodiscard]] std::size_t pair_hot_index(std::uint32_t lo, std::uint32_t hi, std::uint64_t w) const {
        const unsigned r = hi % kPairWordBits;
        return pair_row_base[lo] + static_cast<std::size_t>(w >> kPairWordBits) +
               static_cast<std::size_t>(popcount64(w & ((std::uint64_t{1} << r) - 1)));
    }
    // Set bits, inline: without -mpopcnt (the library is built for any x86-64) the builtin is a
    // call into libgcc, on the path of every pair that has rules.
    [[nodiscard]] static unsigned popcount64(std::uint64_t x) {
        x = x - ((x >> 1) & 0x5555555555555555ull);
        x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
        x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
        return static_cast<unsigned>((x * 0x0101010101010101ull) >> 56);
    }
    // The record of pair (lo, hi), lo < hi, when it has rules, else nullptr.
    [[nodiscard]] const PairHot* pair_hot_of(std::uint32_t lo, std::uint32_t hi) const {
        const std::uint64_t w = pair_word(lo, hi);
        if (!((w >> (hi % kPairWordBits)) & 1u)) return nullptr;
        return &pair_hot[pair_hot_index(lo, hi, w)];
    }
    // Duplicate-therapy filters (rebuilt at load with the rank index), one bit per class c at
    // c % 64: per substance, the duplicate-therapy classes it starts (duplicate_classes_by_substance)
    // and the duplicate-therapy classes it belongs to (substance_classes). A pair whose masks do
    // not meet can produce no class duplicate, so a check tests two words instead of searching
    // class lists; a pair whose masks meet is then tested exactly.
    std::vector<std::uint64_t> duplicate_starts_mask, duplicate_member_mask;
    // Whether any substance starts a duplicate-therapy class: a pack without such classes (a
    // pair-only pack such as the DDInter-derived one) skips reading the masks, which cost a
    // tenth of a bulk screen's evaluation there (perf) for masks that are all zero.
    bool any_duplicate_starts = false;

    // What a check reads of every rule, packed apart from the rules' text so that a check touches
    // a few bytes per rule rather than a 464-byte struct.
    struct RuleFacts {
        Severity severity;
        EvidenceGrade evidence;
    };
    std::vector<RuleFacts> interaction_facts, contraindication_facts;

    // Layered knowledge bases (pack_layers.cpp): the layer of each interaction rule (empty for a
    // single pack), and, by substance pair (smaller index << 32 | larger), the rules of lower
    // layers on a pair that a higher layer already covers. Those are kept out of the pair index,
    // so check() never sees them; the renderer reads them to annotate the leading warning.
    std::vector<std::uint16_t> rule_layer;
    std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> pair_annotations;
    [[nodiscard]] const std::vector<std::uint32_t>* annotations_for(std::uint32_t a, std::uint32_t b) const {
        if (pair_annotations.empty()) return nullptr;
        const std::uint64_t key = a < b ? (static_cast<std::uint64_t>(a) << 32) | b : (static_cast<std::uint64_t>(b) << 32) | a;
        auto it = pair_annotations.find(key);
        return it == pair_annotations.end() ? nullptr : &it->second;
    }
    [[nodiscard]] bool layered() const { return pack.info.layers.size() > 1; }

    // Interned rule participants.
    std::vector<Part> rule_first, rule_second, contraindication_subject;
    std::vector<std::uint32_t> contraindication_condition;
    std::vector<std::vector<std::uint32_t>> rule_supersedes;  // interaction indexes

    // Class closure, from Boost's breadth-first search over MemberOf/SubclassOf edges. For each
    // substance, each class reached with the class it was reached from (-1: direct member), so
    // explanations print the whole path.
    struct ClassLink {
        std::uint32_t cls;
        std::int32_t via;
    };
    std::vector<std::vector<ClassLink>> substance_classes;  // sorted by cls
    std::vector<std::vector<std::uint32_t>> class_members;  // sorted substance indexes

    // Rules with a product participant fire only when that product itself is an input.
    std::vector<std::vector<std::uint32_t>> interactions_by_product;
    // Per product, the ingredients that are checked (all but its inactive ingredients).
    std::vector<std::vector<std::uint32_t>> product_active_ingredients;
    std::vector<std::vector<std::uint32_t>> product_ingredients;

    std::vector<std::vector<std::uint32_t>> condition_ancestors;  // includes itself
    std::vector<std::vector<std::uint32_t>> contraindications_by_substance;
    std::vector<std::vector<std::uint32_t>> contraindications_by_product;
    std::vector<std::vector<std::uint32_t>> duplicate_classes_by_substance;

    // Cumulative rules (issue 12), interned by compile_cumulative (engine.cpp; rebuilt from the
    // rules when a snapshot is read, so the snapshot stores only the rules): per substance, the
    // rules it can count towards with the requirements it meets as a bit mask, so that a check
    // touches only rules that could fire (O(inputs x such rules)) and never walks a class.
    struct CumulativeHit {
        std::uint32_t rule;
        std::uint32_t mask;  // bit q: the substance meets requirement q
    };
    // Substance s's hits are cumulative_hits[cumulative_slot_base[s], cumulative_slot_base[s + 1]);
    // a hit's position is also its slot (a check marks a hit once counted, so that one substance
    // entered twice, e.g. "methadone" and "Methadose", counts once per rule). Empty when the pack
    // has no cumulative rule: a check then skips the pass entirely.
    std::vector<CumulativeHit> cumulative_hits;
    std::vector<std::uint32_t> cumulative_slot_base;
    [[nodiscard]] bool cumulative_contributes(std::uint32_t substance) const noexcept {
        return cumulative_slot_base[substance] != cumulative_slot_base[substance + 1];
    }
    struct CumulativeFacts {
        Severity severity;
        EvidenceGrade evidence;
        std::uint32_t requirements;      // 1..8
        std::array<std::uint8_t, 8> min;  // per requirement
    };
    std::vector<CumulativeFacts> cumulative_facts;
    std::vector<std::vector<Part>> cumulative_parts;             // per rule, per requirement
    std::vector<std::vector<std::uint32_t>> cumulative_conditions;  // per rule: condition indexes
    std::vector<std::vector<std::uint32_t>> cumulative_dose_substances;  // per rule, per threshold
    // Rank of each cumulative rule's id among the cumulative rules' ids (warnings of different
    // kinds never compare ranks, so this ranking need not be shared with the other rules').
    std::vector<std::uint32_t> cumulative_rank;

    // Sort rank of every rule id (interactions, contraindications, classes and the
    // duplicate-ingredient pseudo rule, together): warnings tied on severity, inputs and kind are
    // ordered by rule id without comparing strings.
    std::vector<std::uint32_t> interaction_rank, contraindication_rank, class_rank;
    std::uint32_t duplicate_ingredient_rank = 0;

    // --- vocabulary and coverage ----------------------------------------------------------------
    // Per substance / product: 1 when at least one rule of the pack could involve it (an
    // interaction or contraindication naming it, its class or its product, or a duplicate-therapy
    // class it belongs to). Decides the `covered` / `no-rules` coverage of an input.
    std::vector<std::uint8_t> substance_has_rules, product_has_rules;
    // The drug vocabulary (shared by every knowledge base; parsed on first use) and its join to
    // this pack's substances: by the DrugBank id, else the UNII, a substance carries. Computed on
    // first use too, so that loading never pays for the vocabulary.
    [[nodiscard]] const Vocabulary* vocabulary() const;
    [[nodiscard]] std::uint32_t vocabulary_substance(std::uint32_t drug) const;  // kNoIndex when not joined
    mutable std::once_flag vocabulary_once;
    mutable std::vector<std::pair<std::uint32_t, std::uint32_t>> vocabulary_join;  // (drug, substance), sorted

    NameTable names;                                                   // normalised text -> entity
    // Condition codes: "icd-10-cm F1120" (dots dropped, upper case) / "snomed-ct 38341003" -> condition.
    mutable TextMap<std::uint32_t> condition_codes;
    // Every condition name and synonym as a sorted set of words (without "of", "the", ...), and
    // the variants of names with "X or Y" ("acute or severe bronchial asthma" is also "acute
    // bronchial asthma" and "severe bronchial asthma"), for word-order-tolerant matching.
    struct ConditionWords {
        std::vector<std::string> words;  // sorted, unique
        std::uint32_t condition;
    };
    mutable std::vector<ConditionWords> condition_words;
    mutable TextMap<std::uint32_t> condition_names;                    // normalised text -> condition
    mutable std::vector<std::pair<std::string, std::uint32_t>> condition_pool;  // every condition name
    // condition_codes, condition_words, condition_names and condition_pool are built on the first
    // condition resolved or suggested: a knowledge base that is never asked about conditions (most
    // loads, every check and screen without conditions) never pays for them.
    mutable std::once_flag condition_index_once;
    void index_conditions_once() const;
    void index_conditions() const;  // call through index_conditions_once
    // Every readable medication name (no ids or codes), in the order added: the name table's
    // entry number and the entity it named when added (a later product/substance tie-break may
    // change the table's target, not the suggestion's).
    std::vector<std::pair<std::uint32_t, NameTarget>> suggestion_pool;

    // --- queries --------------------------------------------------------------------------------
    [[nodiscard]] bool in_class(std::uint32_t substance, std::uint32_t cls) const;
    [[nodiscard]] bool matches(std::uint32_t substance, const Part& p) const;
    // The classes from a direct membership up to `cls`, in that order.
    [[nodiscard]] std::vector<std::uint32_t> class_path(std::uint32_t substance, std::uint32_t cls) const;
    // The rules compiled for a substance pair: a binary search in a's Interacts edges.
    [[nodiscard]] const PoolRule* rules_for_pair(std::uint32_t a, std::uint32_t b, std::size_t& count) const;
    // Walks the partners of substance a in the compiled pair rules (the contiguous, sorted prefix
    // of a's row) and calls f(partner, rules, count) for those that `wanted(partner)` accepts; the
    // edge's rule span is read only for them.
    template <class Want, class F>
    void for_each_partner(std::uint32_t a, Want&& wanted, F&& f) const {
        const auto& fwd = graph.m_forward;
        const Vertex* column = fwd.m_column.data();
        for (std::uint32_t e = fwd.m_rowstart[a], end = interacts_end[a]; e < end; ++e) {
            const Vertex t = column[e];
            if (!wanted(t)) continue;
            const EdgeProps& p = graph[Graph::edge_descriptor(a, e)];
            f(t, pair_rule_pool.data() + p.offset, p.count);
        }
    }
    [[nodiscard]] std::uint32_t partner_count(std::uint32_t a) const { return interacts_end[a] - graph.m_forward.m_rowstart[a]; }
    // Rules naming vertex v as a participant (its Participates edges), appended to out.
    void participating_rules(Vertex v, std::vector<std::uint32_t>& out) const;
    [[nodiscard]] InputRef resolve_ref(std::string_view text) const;
    // Full resolution of what a caller typed (`key` is normalize_name(raw)): pack names, then the
    // vocabulary, then the pack's rewrites, then RxNorm-style names. Composite ingredients go to `pool`.
    [[nodiscard]] InputRef resolve_input(std::string_view raw, std::string_view key, ResolvedParts& pool) const;
    [[nodiscard]] Coverage coverage(const InputRef& ref, const ResolvedParts* pool) const;
    // The same, for text already normalised (normalize_name).
    [[nodiscard]] InputRef resolve_normalized(std::string_view key) const;
    [[nodiscard]] std::int64_t resolve_condition_index(std::string_view text) const;
    // The same, saying how it matched ("code", "name", "synonym", "id", "words").
    [[nodiscard]] std::int64_t resolve_condition_index(std::string_view text, const char*& matched_by) const;
    [[nodiscard]] Resolution resolution(std::string_view text, const InputRef& ref,
                                        std::vector<std::string> suggestions, const ResolvedParts* pool = nullptr) const;
    [[nodiscard]] Resolution resolve(std::string_view text) const;
    [[nodiscard]] ConditionResolution resolve_condition(std::string_view text) const;
    [[nodiscard]] std::vector<std::string> suggest(std::string_view text) const;
    [[nodiscard]] std::vector<std::string> suggest_condition(std::string_view text) const;
};

std::shared_ptr<const KnowledgeBaseImpl> build_impl(PackData pack);
// The parts of build_impl that a snapshot does not store, because they are cheap to rebuild from
// the entities: the vertex ranges, the id indexes and (with `names`; a snapshot stores the name
// table and its suggestion pool) the name table. Throws IntegrityError for a name that two
// entities claim.
void set_vertex_ranges(KnowledgeBaseImpl& kb);
void build_lookups(KnowledgeBaseImpl& kb, bool names = true);
// Fills substance_has_rules and product_has_rules from the compiled rules (engine.cpp); run after
// compile_cumulative, whose requirements count as rules that involve a substance.
void mark_rule_coverage(KnowledgeBaseImpl& kb);
// Fills pair_rows, pair_row_base and pair_hot from pair_bits and the Interacts edges, and the duplicate-therapy
// masks (engine.cpp). Returns false when the bits and the edges disagree, or the two directions of
// a pair differ (a damaged snapshot): then the rank index is left empty. `verify` false skips those
// checks, for a snapshot known to be sound (the built-in pack's, checked when it was built).
[[nodiscard]] bool build_check_index(KnowledgeBaseImpl& kb, bool verify = true);
// Interns pack.cumulative_rules into the cumulative_* tables (engine.cpp). Needs the id indexes
// and class_members. Returns an empty string, or what is wrong with a rule (a snapshot's rules are
// not checked by the pack loader: a reference to nothing or more than 8 requirements is damage).
std::string compile_cumulative(KnowledgeBaseImpl& kb);

// Case/space/punctuation-insensitive form of what a person typed.
std::string normalize_name(std::string_view text);
// The same, into a caller's buffer (no allocation once the buffer is large enough).
void normalize_name_into(std::string_view text, std::string& out);
// Whether normalize_name(text) == text (and text is not empty): most pack names and ids are
// written normalised already, and loading adds them without copying them first.
[[nodiscard]] bool is_normalized_name(std::string_view text) noexcept;

// Runs a check and returns the report (check.cpp).
Report run_check(const std::shared_ptr<const KnowledgeBaseImpl>& kb, std::vector<std::string> medications,
                 const CheckContext& context);

}  // namespace rxcaution::detail
