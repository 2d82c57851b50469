#pragma once
// Interaction rules kept encoded: the record format of the snapshot (docs/snapshot-format.md,
// "interaction rules"), held by a knowledge base read from a snapshot or from JSON, and decoded
// one rule at a time when a query needs it (KnowledgeBaseImpl::interaction). A whole-formulary
// pack has 100,000+ rules whose text a check never reads; held as 464-byte structs with their
// strings they would be most of the memory and much of the load time.
//
// A JSON load reads each rule into one scratch struct and encodes it at once (RuleEncoder): the
// integrity checks and the graph build then work on the few integers of ReadRules, never on
// 130,000 structs.

#include <rxcaution/entities.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace rxcaution::detail {

// The distinct strings of a snapshot (or of the rules read from JSON), numbered.
struct StringTable {
    std::string blob;
    std::string_view external;           // the bytes, when they are not in blob (the embedded snapshot's)
    std::vector<std::uint32_t> offsets;  // size n + 1
    [[nodiscard]] std::size_t size() const { return offsets.size() - 1; }
    [[nodiscard]] std::string_view at(std::uint32_t i) const {
        const char* bytes = external.data() ? external.data() : blob.data();
        return std::string_view(bytes + offsets[i], offsets[i + 1] - offsets[i]);
    }
};

struct EncodedRules {
    std::shared_ptr<const StringTable> table;
    std::string records;                 // every rule's encoded record, in order
    std::vector<std::uint32_t> offsets;  // rule r is records[offsets[r], offsets[r + 1])
    std::vector<std::uint32_t> ids;      // string number of each rule's id
    std::string file;
    mutable std::unique_ptr<std::atomic<const InteractionRule*>[]> decoded;
    mutable std::once_flag all_once;
    mutable std::vector<InteractionRule> all;

    EncodedRules() = default;
    EncodedRules(const EncodedRules&) = delete;
    EncodedRules& operator=(const EncodedRules&) = delete;
    ~EncodedRules();
    [[nodiscard]] std::size_t size() const { return offsets.size() - 1; }
    void decode(std::uint32_t r, InteractionRule& rule) const;  // snapshot.cpp
};

// What the integrity checks and build_impl need of each rule read from JSON, as string numbers
// of the rules' table.
struct RuleHead {
    std::uint32_t first_id = 0, second_id = 0;
    EntityKind first_kind = EntityKind::Substance, second_kind = EntityKind::Substance;
    Severity severity = Severity::Moderate;
    EvidenceGrade evidence = EvidenceGrade::Secondary;
};
static_assert(sizeof(Severity) == sizeof(int));

// A citation of a rule: its source and grade, and where the grade byte is in the records (a
// citation that names no grade gets its source's grade there once the sources are known).
struct RuleCitation {
    std::uint32_t source = 0;
    std::uint32_t grade_at = 0;
    EvidenceGrade grade = EvidenceGrade::Secondary;
};

struct ReadRules {
    std::shared_ptr<EncodedRules> rules;
    std::vector<RuleHead> heads;
    // Rule r's superseded rule ids are supersedes[supersedes_begin[r], supersedes_begin[r + 1]),
    // its citations (of `sources`) citations[citations_begin[r], citations_begin[r + 1]).
    std::vector<std::uint32_t> supersedes_begin, supersedes;
    std::vector<std::uint32_t> citations_begin;
    std::vector<RuleCitation> citations;
    [[nodiscard]] std::size_t size() const { return heads.size(); }
    [[nodiscard]] std::string_view text(std::uint32_t i) const { return rules->table->at(i); }
    [[nodiscard]] std::string_view id(std::size_t r) const { return rules->table->at(rules->ids[r]); }
};

// Encodes rules as they are read (snapshot.cpp, which owns the record format).
class RuleEncoder {
public:
    RuleEncoder();
    ~RuleEncoder();
    RuleEncoder(const RuleEncoder&) = delete;
    RuleEncoder& operator=(const RuleEncoder&) = delete;
    void add(const InteractionRule& rule);
    [[nodiscard]] std::size_t size() const;
    // The rules read so far, with their table; the encoder is spent.
    [[nodiscard]] std::shared_ptr<ReadRules> finish(const std::string& file);

private:
    struct State;
    std::unique_ptr<State> s_;
};

}  // namespace rxcaution::detail
