// The binary snapshot: the pack's entities (walked through the same field tables as the JSON
// reader and writer, so a new field is carried without touching this file) followed by the
// compiled engine (the CSR graph's arrays, the pair rule pool, the closure and the indexes), as
// little-endian integers. Reading rebuilds only the hash tables (ids and names), which are cheap,
// and trusts nothing: every count is checked against the bytes left, every index against the
// size of what it indexes. The layout is documented in docs/snapshot-format.md.

#include "detail/snapshot.hpp"

#include "detail/encoded_rules.hpp"
#include "detail/pack_fields.hpp"

#include <rxcaution/errors.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <bit>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace rxcaution::detail {

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big);

namespace {

// Written as a native u32: a reader of the other byte order sees 0x0D0C0B0A.
constexpr std::uint32_t kByteOrderMark = 0x0A0B0C0Du;

template <class T>
T to_little(T v) {
    if constexpr (std::endian::native == std::endian::big && sizeof(T) > 1) {
        T out{};
        for (std::size_t i = 0; i < sizeof(T); ++i)
            reinterpret_cast<unsigned char*>(&out)[i] = reinterpret_cast<const unsigned char*>(&v)[sizeof(T) - 1 - i];
        return out;
    }
    return v;
}

std::uint64_t load64(const char* p) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return to_little(v);
}

class Out {
public:
    explicit Out(std::size_t reserve) { bytes_.reserve(reserve); }
    template <class T>
    void num(T v) {
        static_assert(std::is_integral_v<T>);
        v = to_little(v);
        bytes_.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
    // Texts are numbers into one table of distinct strings: a large pack repeats the same few
    // texts (summaries, management, source ids) on thousands of rules.
    std::uint32_t text(std::string_view s) {
        std::uint32_t n;
        if (memo_on_) {
            // The k-th text of a rule is mostly the k-th text of the rule before (a summary, a
            // source, a mechanism type): compared first, it saves most lookups.
            if (memo_next_ == memo_.size()) memo_.emplace_back(std::string(), kNoMemo);
            auto& [last, number] = memo_[memo_next_++];
            if (number != kNoMemo && last == s) {
                n = number;
            } else {
                n = intern(s);
                last.assign(s);
                number = n;
            }
        } else {
            n = intern(s);
        }
        num(n);
        return n;
    }
    // Texts of one record follow (see text()).
    void start_record() {
        memo_on_ = true;
        memo_next_ = 0;
    }
    void count(std::size_t n) { num(static_cast<std::uint32_t>(n)); }
    // A vector of integers as one block: the reader copies it in one go.
    template <class T>
    void block(const std::vector<T>& v) { block(v, bytes_); }
    std::string& bytes() { return bytes_; }
    // The string table: the count and lengths of the strings, then their bytes.
    void write_table(std::string& into) const {
        block(lengths_, into);
        const std::uint64_t n = to_little(static_cast<std::uint64_t>(blob_.size()));
        into.append(reinterpret_cast<const char*>(&n), 8);
        into.append(blob_);
    }

    // The string table as a reader holds it; the writer is spent.
    StringTable take_table() {
        StringTable t;
        t.offsets.reserve(lengths_.size() + 1);
        t.offsets.push_back(0);
        std::uint32_t at = 0;
        for (std::uint32_t n : lengths_) t.offsets.push_back(at += n);
        t.blob = std::move(blob_);
        std::vector<Slot>().swap(slots_);
        std::vector<std::uint64_t>().swap(hashes_);
        std::vector<std::uint32_t>().swap(starts_);
        std::vector<std::uint32_t>().swap(lengths_);
        return t;
    }

private:
    // The string's number, numbered in order of first use. An open-addressing index over the
    // strings kept in blob_ (no node or copy per string): a JSON load interns a million texts.
    std::uint32_t intern(std::string_view s) {
        if (2 * (lengths_.size() + 1) > slots_.size()) grow();
        const std::uint64_t h = TextHash{}(s);
        const auto tag = static_cast<std::uint32_t>(h >> 32);
        const std::size_t mask = slots_.size() - 1;
        std::size_t i = h & mask;
        for (; slots_[i].entry != 0; i = (i + 1) & mask) {
            const Slot slot = slots_[i];
            const std::uint32_t e = slot.entry - 1;
            if (slot.tag == tag && lengths_[e] == s.size() &&
                std::string_view(blob_.data() + starts_[e], lengths_[e]) == s)
                return e;
        }
        const auto e = static_cast<std::uint32_t>(lengths_.size());
        slots_[i] = Slot{e + 1, tag};
        hashes_.push_back(h);
        starts_.push_back(static_cast<std::uint32_t>(blob_.size()));
        lengths_.push_back(static_cast<std::uint32_t>(s.size()));
        blob_.append(s);
        return e;
    }
    void grow() {
        slots_.assign(std::max<std::size_t>(1024, 2 * slots_.size()), Slot{});
        const std::size_t mask = slots_.size() - 1;
        for (std::uint32_t e = 0; e < hashes_.size(); ++e) {
            std::size_t i = hashes_[e] & mask;
            while (slots_[i].entry != 0) i = (i + 1) & mask;
            slots_[i] = Slot{e + 1, static_cast<std::uint32_t>(hashes_[e] >> 32)};
        }
    }
    struct Slot {
        std::uint32_t entry = 0;  // string number + 1; 0: empty
        std::uint32_t tag = 0;
    };
    static constexpr std::uint32_t kNoMemo = 0xFFFFFFFFu;
    bool memo_on_ = false;
    std::size_t memo_next_ = 0;
    std::vector<std::pair<std::string, std::uint32_t>> memo_;
    std::vector<Slot> slots_;
    std::vector<std::uint64_t> hashes_;
    std::vector<std::uint32_t> starts_;

    template <class T>
    static void block(const std::vector<T>& v, std::string& into) {
        static_assert(std::is_integral_v<T>);
        const std::uint64_t n = to_little(static_cast<std::uint64_t>(v.size()));
        into.append(reinterpret_cast<const char*>(&n), 8);
        if constexpr (std::endian::native == std::endian::little) {
            into.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
        } else {
            for (T x : v) {
                const T y = to_little(x);
                into.append(reinterpret_cast<const char*>(&y), sizeof y);
            }
        }
    }
    std::string bytes_;
    std::vector<std::uint32_t> lengths_;
    std::string blob_;
};

class In {
public:
    In(std::string_view payload, const std::string& file) : begin_(payload.data()), p_(payload.data()),
                                                          end_(payload.data() + payload.size()), file_(file) {}

    [[noreturn, gnu::cold]] void fail(const std::string& what) const { fail_at(p_, what); }
    // The same, for a reader that went ahead of p_ (RawReading).
    [[noreturn, gnu::cold]] void fail_at(const char* at, const std::string& what) const {
        throw DataError(file_, file_ + ": damaged snapshot: " + what + " (at payload byte " +
                                   std::to_string(at - begin_) + ")");
    }
    std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }
    template <class T>
    [[gnu::always_inline]] T num() {
        static_assert(std::is_integral_v<T>);
        if (left() < sizeof(T)) fail("data ends inside a number");
        T v;
        std::memcpy(&v, p_, sizeof v);
        p_ += sizeof v;
        return to_little(v);
    }
    // A count of items that each take at least `min_bytes`: more than the bytes left is damage,
    // caught before anything is allocated for them.
    std::size_t count(std::size_t min_bytes, const char* what) {
        const auto n = num<std::uint64_t>();
        if (n > left() / std::max<std::size_t>(min_bytes, 1)) fail(std::string("count of ") + what + " larger than the file");
        return static_cast<std::size_t>(n);
    }
    // A string of the table (the table is read first; texts before it are raw, see read_table).
    // Every use counts towards a limit on the text the entities expand to, so that a small file
    // naming one long string many times cannot ask for gigabytes.
    // Inlined: a snapshot's entities are mostly strings (about 18,000 in the built-in pack).
    [[gnu::always_inline]] std::string_view text_view() {
        const auto i = num<std::uint32_t>();
        if (i >= table_size_) [[unlikely]] fail("string number out of range");
        const std::uint32_t begin = table_offsets_[i], end = table_offsets_[i + 1];
        expanded_ += end - begin;
        if (expanded_ > expand_limit_) [[unlikely]] fail_expansion();
        return {table_bytes_ + begin, end - begin};
    }
    [[noreturn, gnu::cold]] void fail_expansion() const {
        fail("its texts expand to more than " + std::to_string(expand_limit_) + " bytes");
    }
    // At most 8 times the data, and never less than 256 MiB: a real pack's texts repeat far less,
    // and its JSON (limited by LoadOptions::max_file_bytes) holds every text in full anyway.
    void limit_expansion(std::uint64_t payload_bytes, std::uint64_t limit) {
        expand_limit_ = limit ? limit : std::max<std::uint64_t>(8 * payload_bytes, 256ull << 20);
    }
    // Inlined (every list of an entity has one); a 32-bit count times a record's few bytes cannot
    // overflow, so the test is a multiplication rather than a division.
    [[gnu::always_inline]] std::size_t count32(std::size_t min_bytes, const char* what) {
        const auto n = num<std::uint32_t>();
        if (std::uint64_t{n} * std::max<std::size_t>(min_bytes, 1) > left()) [[unlikely]] fail_count(what);
        return n;
    }
    [[noreturn, gnu::cold]] void fail_count(const char* what) const {
        fail(std::string("count of ") + what + " larger than the file");
    }
    void set_table(const StringTable* table) {
        table_size_ = table ? table->size() : 0;
        table_offsets_ = table ? table->offsets.data() : nullptr;
        table_bytes_ = table ? (table->external.data() ? table->external.data() : table->blob.data()) : nullptr;
    }
    [[nodiscard]] std::size_t position() const { return static_cast<std::size_t>(p_ - begin_); }
    [[nodiscard]] const char* here() const { return p_; }
    void skip(std::size_t n) {
        if (n > left()) fail("data runs past the end");
        p_ += n;
    }
    template <class T>
    void block(std::vector<T>& v, const char* what) {
        const std::size_t n = count(sizeof(T), what);
        v.resize(n);
        if constexpr (std::endian::native == std::endian::little) {
            if (n) std::memcpy(v.data(), p_, n * sizeof(T));
            p_ += n * sizeof(T);
        } else {
            for (auto& x : v) x = num<T>();
        }
    }
    bool at_end() const { return p_ == end_; }

private:
    const char* begin_;
    const char* p_;
    const char* end_;
    const std::string& file_;
    // The string table (set_table), unpacked: text_view() reads three loads, not a table's members.
    std::size_t table_size_ = 0;
    const std::uint32_t* table_offsets_ = nullptr;
    const char* table_bytes_ = nullptr;
    std::uint64_t expanded_ = 0;
    std::uint64_t expand_limit_ = std::numeric_limits<std::uint64_t>::max();  // decoding one checked rule
};

// --- entities, through the field tables ----------------------------------------------------------

void write_object(Out& out, const ObjectType& type, const void* object);

void write_participant(Out& out, const Participant& p) {
    out.num(static_cast<std::uint8_t>(p.kind));
    out.text(p.id);
}

void write_field(Out& out, const Field& field, const void* owner) {
    if (field.kind == FieldKind::Unkept) return;
    void* member = field.at(const_cast<void*>(owner));
    switch (field.kind) {
        case FieldKind::Text:
        case FieldKind::Choice: out.text(*static_cast<const std::string*>(member)); return;
        case FieldKind::Texts:
        case FieldKind::TextOrTexts: {
            const auto& v = *static_cast<const std::vector<std::string>*>(member);
            out.count(v.size());
            for (const auto& s : v) out.text(s);
            return;
        }
        case FieldKind::TextMap: {
            const auto& m = *static_cast<const std::map<std::string, std::string>*>(member);
            out.count(m.size());
            for (const auto& [k, v] : m) {
                out.text(k);
                out.text(v);
            }
            return;
        }
        case FieldKind::FormatVersion:
        case FieldKind::Count: out.num(static_cast<std::int32_t>(*static_cast<const int*>(member))); return;
        case FieldKind::Amount: out.num(std::bit_cast<std::uint64_t>(*static_cast<const double*>(member))); return;
        case FieldKind::Severity: out.num(static_cast<std::uint8_t>(*static_cast<const Severity*>(member))); return;
        case FieldKind::SourceGrade:
        case FieldKind::RuleEvidence:
        case FieldKind::CitationGrade:
            out.num(static_cast<std::uint8_t>(*static_cast<const EvidenceGrade*>(member)));
            return;
        case FieldKind::Object: write_object(out, *field.type, member); return;
        case FieldKind::OptionalObject: {
            const void* value = field.type->get(member);
            out.num(static_cast<std::uint8_t>(value ? 1 : 0));
            if (value) write_object(out, *field.type, value);
            return;
        }
        case FieldKind::Objects: {
            const std::size_t n = field.type->count(member);
            out.count(n);
            for (std::size_t i = 0; i < n; ++i) write_object(out, *field.type, field.type->element(member, i));
            return;
        }
        case FieldKind::Participant: write_participant(out, *static_cast<const Participant*>(member)); return;
        case FieldKind::Participants:
            write_participant(out, *static_cast<const Participant*>(member));
            write_participant(out, *static_cast<const Participant*>(field.at2(const_cast<void*>(owner))));
            return;
        case FieldKind::Unkept: return;
    }
}

void write_object(Out& out, const ObjectType& type, const void* object) {
    for (const Field& field : type.fields) write_field(out, field, object);
}

void read_object(In& in, const ObjectType& type, void* object, int depth);

template <class E>
[[gnu::always_inline]] inline E read_enum(In& in, int last, const char* what) {
    const auto v = in.num<std::uint8_t>();
    if (v > last) in.fail(std::string("invalid ") + what + " " + std::to_string(v));
    return static_cast<E>(v);
}

// The pack loader's bounds (pack_reader.cpp), checked again: a snapshot is not trusted.
int read_count(In& in) {
    const auto v = in.num<std::int32_t>();
    if (v < 1 || v > 16) in.fail("medication count " + std::to_string(v) + " out of range (1 to 16)");
    return v;
}

double read_amount(In& in) {
    const auto v = std::bit_cast<double>(in.num<std::uint64_t>());
    if (!(v > 0) || !(v < 1e9)) in.fail("amount out of range (a positive number below 1e9)");
    return v;
}

// A string of the table into a member. A snapshot's entities are mostly strings, and a fresh
// object's member is empty: it is then built in place with its exact size, leaner than assign()
// (the general replace) or constructing a temporary and moving it in.
[[gnu::always_inline]] inline void read_text(In& in, std::string& member) {
    const std::string_view s = in.text_view();
    if (member.empty()) {
        std::destroy_at(&member);
        std::construct_at(&member, s.data(), s.size());
    } else {
        member.assign(s.data(), s.size());
    }
}

void read_participant(In& in, Participant& p) {
    p.kind = read_enum<EntityKind>(in, static_cast<int>(EntityKind::Treatment), "participant kind");
    read_text(in, p.id);
}

[[gnu::always_inline]] inline void read_field(In& in, const Field& field, void* owner, int depth) {
    if (field.kind == FieldKind::Unkept) return;
    void* member = field.at(owner);
    switch (field.kind) {
        case FieldKind::Text:
        case FieldKind::Choice: read_text(in, *static_cast<std::string*>(member)); return;
        case FieldKind::Texts:
        case FieldKind::TextOrTexts: {
            auto& v = *static_cast<std::vector<std::string>*>(member);
            const std::size_t n = in.count32(4, "texts");
            v.clear();
            v.reserve(n);
            for (std::size_t k = 0; k < n; ++k) v.emplace_back(in.text_view());
            return;
        }
        case FieldKind::TextMap: {
            // Written in key order: each entry goes at the end (the hint); a later duplicate key
            // replaces the value, as before.
            auto& m = *static_cast<std::map<std::string, std::string>*>(member);
            for (std::size_t n = in.count32(8, "map entries"); n > 0; --n) {
                const std::string_view k = in.text_view();
                const std::string_view v = in.text_view();
                auto it = m.try_emplace(m.end(), std::string(k), v);
                if (it->second != v) it->second.assign(v);
            }
            return;
        }
        case FieldKind::FormatVersion: *static_cast<int*>(member) = in.num<std::int32_t>(); return;
        case FieldKind::Count: *static_cast<int*>(member) = read_count(in); return;
        case FieldKind::Amount: *static_cast<double*>(member) = read_amount(in); return;
        case FieldKind::Severity:
            *static_cast<Severity*>(member) = read_enum<Severity>(in, static_cast<int>(Severity::Contraindicated), "severity");
            return;
        case FieldKind::SourceGrade:
        case FieldKind::RuleEvidence:
        case FieldKind::CitationGrade:
            *static_cast<EvidenceGrade*>(member) =
                read_enum<EvidenceGrade>(in, static_cast<int>(EvidenceGrade::Derived), "evidence grade");
            return;
        case FieldKind::Object: read_object(in, *field.type, member, depth + 1); return;
        case FieldKind::OptionalObject: {
            const auto present = in.num<std::uint8_t>();
            if (present > 1) in.fail("invalid presence flag");
            if (present) read_object(in, *field.type, field.type->emplace(member), depth + 1);
            return;
        }
        case FieldKind::Objects: {
            std::size_t n = in.count32(1, field.type->name.data());
            if (field.type->reserve) field.type->reserve(member, n);
            for (; n > 0; --n)
                read_object(in, *field.type, field.type->append(member), depth + 1);
            return;
        }
        case FieldKind::Participant: read_participant(in, *static_cast<Participant*>(member)); return;
        case FieldKind::Participants:
            read_participant(in, *static_cast<Participant*>(member));
            read_participant(in, *static_cast<Participant*>(field.at2(owner)));
            return;
        case FieldKind::Unkept: return;
    }
}

void read_object(In& in, const ObjectType& type, void* object, int depth) {
    // The tables nest a few levels (pack > rule > citation); a deeper walk means a broken table.
    if (depth > 16) in.fail("objects nested too deeply");
    for (const Field& field : type.fields) read_field(in, field, object, depth);
}

// Walks an encoded object without building it: the same checks as read_object (every string
// number, enumeration, flag and count), nothing allocated. Rules are checked this way when a
// snapshot is read and decoded only when a query needs one.
void skip_object(In& in, const ObjectType& type, int depth);

void skip_participant(In& in) {
    (void)read_enum<EntityKind>(in, static_cast<int>(EntityKind::Treatment), "participant kind");
    (void)in.text_view();
}

void skip_field(In& in, const Field& field, int depth) {
    switch (field.kind) {
        case FieldKind::Unkept: return;
        case FieldKind::Text:
        case FieldKind::Choice: (void)in.text_view(); return;
        case FieldKind::Texts:
        case FieldKind::TextOrTexts:
            for (std::size_t n = in.count32(4, "texts"); n > 0; --n) (void)in.text_view();
            return;
        case FieldKind::TextMap:
            for (std::size_t n = in.count32(8, "map entries"); n > 0; --n) {
                (void)in.text_view();
                (void)in.text_view();
            }
            return;
        case FieldKind::FormatVersion: (void)in.num<std::int32_t>(); return;
        case FieldKind::Count: (void)read_count(in); return;
        case FieldKind::Amount: (void)read_amount(in); return;
        case FieldKind::Severity: (void)read_enum<Severity>(in, static_cast<int>(Severity::Contraindicated), "severity"); return;
        case FieldKind::SourceGrade:
        case FieldKind::RuleEvidence:
        case FieldKind::CitationGrade:
            (void)read_enum<EvidenceGrade>(in, static_cast<int>(EvidenceGrade::Derived), "evidence grade");
            return;
        case FieldKind::Object: skip_object(in, *field.type, depth + 1); return;
        case FieldKind::OptionalObject: {
            const auto present = in.num<std::uint8_t>();
            if (present > 1) in.fail("invalid presence flag");
            if (present) skip_object(in, *field.type, depth + 1);
            return;
        }
        case FieldKind::Objects:
            for (std::size_t n = in.count32(1, field.type->name.data()); n > 0; --n) skip_object(in, *field.type, depth + 1);
            return;
        case FieldKind::Participant: skip_participant(in); return;
        case FieldKind::Participants:
            skip_participant(in);
            skip_participant(in);
            return;
    }
}

void skip_object(In& in, const ObjectType& type, int depth) {
    if (depth > 16) in.fail("objects nested too deeply");
    for (const Field& field : type.fields) skip_field(in, field, depth);
}

const Field& interactions_section() {
    static const Field* field = [] {
        for (const Field& f : bundled_pack_type().fields)
            if (f.json == "interactions") return &f;
        return static_cast<const Field*>(nullptr);
    }();
    return *field;
}

}  // namespace

EncodedRules::~EncodedRules() {
    if (!decoded) return;  // a read that failed before the rules were complete
    for (std::size_t r = 0; r + 1 < offsets.size(); ++r) delete decoded[r].load(std::memory_order_relaxed);
}

void EncodedRules::decode(std::uint32_t r, InteractionRule& rule) const {
    In in(std::string_view(records).substr(offsets[r], offsets[r + 1] - offsets[r]), file);
    in.set_table(table.get());
    read_object(in, *interactions_section().type, &rule, 1);
}

// --- rules read from JSON, encoded as they come ---------------------------------------------------

struct RuleEncoder::State {
    Out out{0};
    std::shared_ptr<ReadRules> read = std::make_shared<ReadRules>();
    std::vector<std::uint32_t> offsets{0};
    std::vector<std::uint32_t> ids;
};

RuleEncoder::RuleEncoder() : s_(std::make_unique<State>()) {}
RuleEncoder::~RuleEncoder() = default;
std::size_t RuleEncoder::size() const { return s_->ids.size(); }

namespace {
std::uint32_t load32(const std::string& bytes, std::size_t at) {
    std::uint32_t v;
    std::memcpy(&v, bytes.data() + at, 4);
    return to_little(v);
}
}  // namespace

void RuleEncoder::add(const InteractionRule& rule) {
    // The record is what write_object writes; the string numbers the checks need are read back
    // from it rather than looked up a second time.
    Out& out = s_->out;
    ReadRules& read = *s_->read;
    const std::string& bytes = out.bytes();
    auto* owner = const_cast<InteractionRule*>(&rule);  // the tables' accessors are not const; nothing is written
    RuleHead head;
    head.severity = rule.severity;
    head.evidence = rule.evidence;
    head.first_kind = rule.first.kind;
    head.second_kind = rule.second.kind;
    read.supersedes_begin.push_back(static_cast<std::uint32_t>(read.supersedes.size()));
    read.citations_begin.push_back(static_cast<std::uint32_t>(read.citations.size()));
    out.start_record();
    for (const Field& field : interactions_section().type->fields) {
        const std::size_t at = bytes.size();
        if (field.kind == FieldKind::Objects && field.type == &citation_type()) {
            const auto& cits = *static_cast<const std::vector<Citation>*>(field.at(owner));
            out.count(cits.size());
            for (const Citation& c : cits) {
                RuleCitation rc;
                rc.grade = c.grade;
                for (const Field& f : citation_type().fields) {
                    if (f.kind == FieldKind::CitationGrade) rc.grade_at = static_cast<std::uint32_t>(bytes.size());
                    const std::size_t before = bytes.size();
                    write_field(out, f, &c);
                    if (f.json == "source") rc.source = load32(bytes, before);
                }
                read.citations.push_back(rc);
            }
            continue;
        }
        write_field(out, field, owner);
        if (field.kind == FieldKind::Participants) {
            head.first_id = load32(bytes, at + 1);
            head.second_id = load32(bytes, at + 6);
        } else if (field.json == "id") {
            s_->ids.push_back(load32(bytes, at));
        } else if (field.json == "supersedes") {
            for (std::size_t k = 0; k < rule.supersedes.size(); ++k) read.supersedes.push_back(load32(bytes, at + 4 + 4 * k));
        }
    }
    read.heads.push_back(head);
    if (bytes.size() > std::numeric_limits<std::uint32_t>::max())
        throw DataError("<rules>", "interaction rules larger than 4 GiB encoded");
    s_->offsets.push_back(static_cast<std::uint32_t>(bytes.size()));
}

std::shared_ptr<ReadRules> RuleEncoder::finish(const std::string& file) {
    ReadRules& read = *s_->read;
    read.supersedes_begin.push_back(static_cast<std::uint32_t>(read.supersedes.size()));
    read.citations_begin.push_back(static_cast<std::uint32_t>(read.citations.size()));
    auto rules = std::make_shared<EncodedRules>();
    rules->table = std::make_shared<StringTable>(s_->out.take_table());
    rules->records = std::move(s_->out.bytes());
    rules->records.shrink_to_fit();
    rules->offsets = std::move(s_->offsets);
    rules->ids = std::move(s_->ids);
    rules->file = file;
    rules->decoded = std::make_unique<std::atomic<const InteractionRule*>[]>(rules->size());
    read.rules = std::move(rules);
    auto out = std::move(s_->read);
    s_ = std::make_unique<State>();
    return out;
}

const InteractionRule& KnowledgeBaseImpl::interaction(std::uint32_t r) const {
    if (!encoded_rules) return pack.interactions[r];
    const EncodedRules& e = *encoded_rules;
    if (const InteractionRule* done = e.decoded[r].load(std::memory_order_acquire)) return *done;
    // Decoded outside any lock; when two threads race, one copy is kept and the other discarded.
    auto fresh = std::make_unique<InteractionRule>();
    e.decode(r, *fresh);
    const InteractionRule* expected = nullptr;
    if (e.decoded[r].compare_exchange_strong(expected, fresh.get(), std::memory_order_acq_rel)) return *fresh.release();
    return *expected;
}

std::string_view KnowledgeBaseImpl::interaction_id(std::uint32_t r) const {
    if (!encoded_rules) return pack.interactions[r].id;
    return encoded_rules->table->at(encoded_rules->ids[r]);
}

const std::vector<InteractionRule>& KnowledgeBaseImpl::all_interactions() const {
    if (!encoded_rules) return pack.interactions;
    const EncodedRules& e = *encoded_rules;
    std::call_once(e.all_once, [&] {
        e.all.resize(e.size());
        for (std::uint32_t r = 0; r < e.size(); ++r) e.decode(r, e.all[r]);
    });
    return e.all;
}

namespace {

// Calls f(rule) for every interaction rule, decoding an encoded one into a scratch struct (so
// writing a snapshot of a snapshot holds one decoded rule at a time, not all of them).
template <class F>
void for_each_interaction(const KnowledgeBaseImpl& kb, F&& f) {
    if (!kb.encoded_rules) {
        for (const auto& rule : kb.pack.interactions) f(rule);
        return;
    }
    for (std::uint32_t r = 0; r < kb.encoded_rules->size(); ++r) {
        InteractionRule rule;
        kb.encoded_rules->decode(r, rule);
        f(rule);
    }
}

// The pack: the manifest's fields (which live on PackData itself), then each section; the
// interaction rules as records that can be decoded one at a time.
void write_pack(Out& out, const KnowledgeBaseImpl& kb) {
    const PackData& pack = kb.pack;
    decode_pending(pack);
    auto* owner = const_cast<PackData*>(&pack);  // the tables' accessors are not const; nothing is written
    const Field& rules = interactions_section();
    for (const Field& field : bundled_pack_type().fields) {
        if (field.kind == FieldKind::Object) {
            for (const Field& f : field.type->fields) write_field(out, f, owner);
        } else if (&field == &rules) {
            out.count(kb.interaction_count());
            for_each_interaction(kb, [&](const InteractionRule& rule) { write_object(out, *rules.type, &rule); });
        } else {
            // Each section after its length in bytes: a reader can leave one encoded without
            // walking it (read_pack), and checks every other against it.
            const std::size_t at = out.bytes().size();
            out.num(std::uint64_t{0});
            write_field(out, field, owner);
            const std::uint64_t length = to_little(static_cast<std::uint64_t>(out.bytes().size() - at - 8));
            std::memcpy(out.bytes().data() + at, &length, 8);
        }
    }
    const PackInfo& i = pack.info;
    for (std::size_t v : {i.substances, i.products, i.classes, i.class_memberships, i.conditions, i.interactions,
                          i.contraindications, i.treatments, i.sources, i.compiled_pairs})
        out.num(static_cast<std::uint64_t>(v));
    // The packs it was built from (one for a single pack), as PackInfo::layers describes them.
    out.count(i.layers.size());
    for (const PackLayer& l : i.layers) {
        // A single pack's origin is where the snapshot is read from, not where it was compiled
        // from: left out, so the same pack gives the same bytes wherever it was compiled.
        const std::string none;
        for (const std::string* t : {&l.name, &l.version, &l.licence, i.layers.size() == 1 ? &none : &l.origin})
            out.text(*t);
        for (std::size_t v : {l.substances, l.interactions, l.unified_by_id, l.unified_by_identifier, l.unified_by_name,
                              l.ambiguous, l.added, l.annotating_rules})
            out.num(static_cast<std::uint64_t>(v));
    }
}

// The built-in pack's sections that a check reads rarely or never, left encoded at load and
// decoded together the first time any of them is read (pack.hpp, Section). Their ids are indexed
// at load, as views of the string table: the embedded snapshot's, which lives as long as the
// process. Decoding cannot fail: rxcaution_packc read this snapshot back with every check when
// the library was built.
class SnapshotSections final : public PendingSections {
public:
    SnapshotSections(KnowledgeBaseImpl& kb, std::string_view payload, std::string file,
                     std::shared_ptr<const StringTable> table)
        : kb_(kb), payload_(payload), file_(std::move(file)), table_(std::move(table)) {}
    void decode() const override {
        std::call_once(once_, [this] {
            // A decode that threw (out of memory) left part of its work behind, and call_once lets
            // the next reader try again: it starts from nothing (the index builders start afresh).
            PackData& p = kb_.pack;
            p.sources.raw().clear();
            p.classes.raw().clear();
            p.conditions.raw().clear();
            p.contraindications.raw().clear();
            p.treatments.raw().clear();
            p.profiles.raw().clear();
            for (const auto& [field, position, index] : sections_) {
                In in(payload_, file_);
                in.limit_expansion(payload_.size(), 0);
                in.set_table(table_.get());
                in.skip(position);
                read_field(in, *field, &kb_.pack, 0);  // into Section::raw(): no recursion
                if (index) index(kb_);
            }
            decoded_.store(true, std::memory_order_release);
        });
    }
    [[nodiscard]] bool decoded() const noexcept override { return decoded_.load(std::memory_order_acquire); }
    // `index` builds the section's id index from its decoded entities (null: indexed at load).
    void add(const Field* field, std::size_t position, void (*index)(KnowledgeBaseImpl&)) {
        sections_.push_back({field, position, index});
    }

private:
    KnowledgeBaseImpl& kb_;
    std::string_view payload_;
    std::string file_;
    std::shared_ptr<const StringTable> table_;
    struct Pending {
        const Field* field;
        std::size_t position;
        void (*index)(KnowledgeBaseImpl&);
    };
    std::vector<Pending> sections_;
    mutable std::once_flag once_;
    mutable std::atomic<bool> decoded_{false};
};

// The sections the built-in pack defers. Classes and conditions are walked at load for their ids
// (compiling the cumulative rules looks them up); the others are skipped by their length and
// indexed when decoded, and every reader of their indexes reads the section first.
IdIndex* walked_index(KnowledgeBaseImpl& kb, std::string_view section) {
    if (section == "classes") return &kb.class_index;
    if (section == "conditions") return &kb.condition_index;
    return nullptr;
}
using IndexDecoded = void (*)(KnowledgeBaseImpl&);
IndexDecoded skipped_index(std::string_view section) {
    if (section == "sources") return [](KnowledgeBaseImpl& kb) { index_ids(kb.pack.sources.raw(), kb.source_index); };
    if (section == "contraindications")
        return [](KnowledgeBaseImpl& kb) { index_ids(kb.pack.contraindications.raw(), kb.contraindication_index); };
    if (section == "treatments")
        return [](KnowledgeBaseImpl& kb) { index_ids(kb.pack.treatments.raw(), kb.treatment_index); };
    if (section == "profiles")
        return [](KnowledgeBaseImpl& kb) { index_by(kb.pack.profiles.raw(), kb.profile_index, &Profile::substance); };
    return nullptr;
}

// Walks a deferred section: its ids into `index`, the rest of each record skipped (and checked
// as skip_object checks it).
std::size_t index_section(In& in, const Field& field, IdIndex& index) {
    const std::span<const Field> fields = field.type->fields;
    const std::size_t n = in.count32(1, field.type->name.data());
    index.reserve(n);
    for (std::uint32_t k = 0; k < n; ++k) {
        index.emplace(in.text_view(), k);  // the id leads every record (read_pack checks the table)
        for (std::size_t f = 1; f < fields.size(); ++f) skip_field(in, fields[f], 1);
    }
    return n;
}

void read_pack(In& in, KnowledgeBaseImpl& kb, std::shared_ptr<const StringTable> table, const std::string& file,
               std::string_view embedded_payload = {}) {
    PackData& pack = kb.pack;
    const Field& rules = interactions_section();
    std::unique_ptr<SnapshotSections> deferred;
    if (embedded_payload.data()) deferred = std::make_unique<SnapshotSections>(kb, embedded_payload, file, table);
    std::vector<std::pair<const Field*, std::size_t>> counts;
    auto encoded = std::make_shared<EncodedRules>();
    encoded->table = std::move(table);
    encoded->file = file;
    encoded->offsets.push_back(0);
    for (const Field& field : bundled_pack_type().fields) {
        if (field.kind == FieldKind::Object) {
            for (const Field& f : field.type->fields) read_field(in, f, &pack, 1);
        } else if (&field == &rules) {
            // Checked now (so that decoding later cannot fail), kept encoded.
            const std::size_t n = in.count32(4, "interaction rules");
            const std::size_t start = in.position();
            const char* first = in.here();
            encoded->offsets.reserve(n + 1);
            encoded->ids.reserve(n);
            for (std::size_t r = 0; r < n; ++r) {
                // The id leads every rule record (the table's first field).
                std::uint32_t id;
                std::memcpy(&id, in.here(), std::min<std::size_t>(4, in.left()));
                skip_object(in, *rules.type, 1);
                encoded->ids.push_back(to_little(id));
                if (in.position() - start > std::numeric_limits<std::uint32_t>::max()) in.fail("rules larger than 4 GiB");
                encoded->offsets.push_back(static_cast<std::uint32_t>(in.position() - start));
            }
            encoded->records.assign(first, in.position() - start);
        } else {
            const auto length = in.num<std::uint64_t>();
            if (length > in.left()) in.fail(std::string("section ") + std::string(field.json) + " longer than the file");
            const std::size_t position = in.position();
            IdIndex* walked = deferred ? walked_index(kb, field.json) : nullptr;
            const IndexDecoded skipped = deferred ? skipped_index(field.json) : nullptr;
            if (skipped) {
                // Its count, then the rest of its bytes left for the first reader.
                counts.emplace_back(&field, in.count32(1, field.type->name.data()));
                if (length < 4) in.fail(std::string("section ") + std::string(field.json) + " shorter than its count");
                in.skip(static_cast<std::size_t>(length) - 4);
                deferred->add(&field, position, skipped);
                continue;
            }
            if (walked) {
                // index_section reads the id as each record's first field.
                if (field.type->fields.empty() || field.type->fields.front().json != "id" ||
                    field.type->fields.front().kind != FieldKind::Text)
                    throw std::logic_error("snapshot reader: the " + std::string(field.json) +
                                           " table does not start with the id");
                counts.emplace_back(&field, index_section(in, field, *walked));
                deferred->add(&field, position, nullptr);
            } else {
                read_field(in, field, &pack, 0);
            }
            if (in.position() - position != length)
                in.fail(std::string("section ") + std::string(field.json) + " disagrees with its length");
        }
    }
    if (deferred) {
        // Pending from now on, answering size() with the number of records walked.
        for (const auto& [field, n] : counts) {
            const std::string_view name = field->json;
            if (name == "sources") pack.sources.set_pending(deferred.get(), n);
            else if (name == "classes") pack.classes.set_pending(deferred.get(), n);
            else if (name == "conditions") pack.conditions.set_pending(deferred.get(), n);
            else if (name == "contraindications") pack.contraindications.set_pending(deferred.get(), n);
            else if (name == "treatments") pack.treatments.set_pending(deferred.get(), n);
            else if (name == "profiles") pack.profiles.set_pending(deferred.get(), n);
        }
        kb.pending_sections = std::move(deferred);
    }
    kb.rule_count = static_cast<std::uint32_t>(encoded->size());
    encoded->decoded = std::make_unique<std::atomic<const InteractionRule*>[]>(encoded->size());
    kb.encoded_rules = std::move(encoded);
    PackInfo& i = pack.info;
    for (std::size_t* v : {&i.substances, &i.products, &i.classes, &i.class_memberships, &i.conditions, &i.interactions,
                           &i.contraindications, &i.treatments, &i.sources, &i.compiled_pairs})
        *v = static_cast<std::size_t>(in.num<std::uint64_t>());
    i.layers.resize(in.count32(4 * 4 + 8 * 8, "packs"));
    for (PackLayer& l : i.layers) {
        for (std::string* t : {&l.name, &l.version, &l.licence, &l.origin}) t->assign(in.text_view());
        for (std::size_t* v : {&l.substances, &l.interactions, &l.unified_by_id, &l.unified_by_identifier,
                               &l.unified_by_name, &l.ambiguous, &l.added, &l.annotating_rules})
            *v = static_cast<std::size_t>(in.num<std::uint64_t>());
    }
    if (i.substances != pack.substances.size() || i.products != pack.products.size() ||
        i.classes != pack.classes.size() || i.conditions != pack.conditions.size() ||
        i.interactions != kb.rule_count || i.contraindications != pack.contraindications.size() ||
        i.treatments != pack.treatments.size() || i.sources != pack.sources.size())
        in.fail("entity counts disagree with the entities");
    if (pack.substances.size() > std::numeric_limits<std::uint32_t>::max() / 8 ||
        kb.rule_count > std::numeric_limits<std::uint32_t>::max() / 8)
        in.fail("more entities than a knowledge base can index");
}

std::shared_ptr<const StringTable> read_table(In& in, bool in_place) {
    auto table = std::make_shared<StringTable>();
    // The lengths are summed straight from the bytes into the offsets (no copy of them is kept).
    const std::size_t strings = in.count(4, "strings");
    const char* lengths = in.here();
    in.skip(strings * 4);
    const std::size_t bytes = in.count(1, "string bytes");
    std::uint64_t total = 0;
    table->offsets.resize(strings + 1);
    std::uint32_t* offsets = table->offsets.data();
    offsets[0] = 0;
    for (std::size_t k = 0; k < strings; ++k) {
        std::uint32_t n;
        std::memcpy(&n, lengths + 4 * k, 4);
        total += to_little(n);
        if (total > bytes) in.fail("string lengths exceed the string bytes");
        offsets[k + 1] = static_cast<std::uint32_t>(total);
    }
    if (total != bytes) in.fail("string lengths disagree with the string bytes");
    if (bytes > std::numeric_limits<std::uint32_t>::max()) in.fail("strings larger than 4 GiB");
    if (in_place) table->external = std::string_view(in.here(), bytes);
    else table->blob.assign(in.here(), bytes);
    in.skip(bytes);
    return table;
}

// --- the compiled engine ---------------------------------------------------------------------------
// One list of what is stored, visited by the writer and by the reader (which also checks every
// index against its bound), so the two cannot drift apart.

struct Writing {
    Out& out;
    void u32(std::uint32_t& v, std::uint64_t /*bound*/, const char*) { out.num(v); }
    void ids(std::vector<std::uint32_t>& v, std::uint64_t /*bound*/, const char*) { out.block(v); }
    void words(std::vector<std::uint64_t>& v, const char*) { out.block(v); }
    void nested(std::vector<std::vector<std::uint32_t>>& v, std::uint64_t /*bound*/, const char*) {
        // Flattened: the row lengths, then every value.
        std::vector<std::uint32_t> lengths, values;
        lengths.reserve(v.size());
        for (const auto& row : v) {
            lengths.push_back(static_cast<std::uint32_t>(row.size()));
            values.insert(values.end(), row.begin(), row.end());
        }
        out.block(lengths);
        out.block(values);
    }
    template <class T, class F>
    void records(std::vector<T>& v, std::size_t /*min_bytes*/, const char*, F&& each) {
        out.num(static_cast<std::uint64_t>(v.size()));
        for (auto& x : v) each(*this, x);
    }
    template <class T, class F>
    void fixed_records(std::vector<T>& v, std::size_t bytes_each, const char* what, F&& each) {
        records(v, bytes_each, what, std::forward<F>(each));
    }
    template <class E>
    void enumeration(E& e, int /*last*/, const char*) { out.num(static_cast<std::uint8_t>(e)); }
    void flag(bool& b, const char*) { out.num(static_cast<std::uint8_t>(b ? 1 : 0)); }
    void i32(std::int32_t& v, std::int64_t /*lo*/, std::int64_t /*hi*/, const char*) { out.num(v); }
    void small(std::uint8_t& v, int /*bound*/, const char*) { out.num(v); }
    void layers(std::vector<std::uint16_t>& v, std::size_t /*bound*/, const char*) { out.block(v); }
    void annotations(std::unordered_map<std::uint64_t, std::vector<std::uint32_t>>& m, std::uint64_t, std::uint64_t,
                     const char* what) {
        std::vector<std::uint64_t> keys;
        keys.reserve(m.size());
        for (const auto& kv : m) keys.push_back(kv.first);
        std::sort(keys.begin(), keys.end());
        std::vector<std::vector<std::uint32_t>> rows;
        rows.reserve(keys.size());
        for (std::uint64_t k : keys) rows.push_back(m.at(k));
        out.block(keys);
        nested(rows, 0, what);
    }
};

// Reads fixed-size records (see Reading::fixed_records) through a cursor of its own, kept in a
// register: their bytes are known to be there once their count is checked. Values are checked
// exactly as Reading checks them, with the same messages and positions.
struct RawReading {
    In& in;
    const char* p;
    template <class T>
    [[gnu::always_inline]] T num() {
        T v;
        std::memcpy(&v, p, sizeof v);
        p += sizeof v;
        return to_little(v);
    }
    [[noreturn, gnu::cold]] void fail(const std::string& what) const { in.fail_at(p, what); }
    [[gnu::always_inline]] void u32(std::uint32_t& v, std::uint64_t bound, const char* what) {
        v = num<std::uint32_t>();
        if (v >= bound) [[unlikely]] fail(std::string(what) + " out of range");
    }
    template <class E>
    [[gnu::always_inline]] void enumeration(E& e, int last, const char* what) {
        const auto v = num<std::uint8_t>();
        if (v > last) [[unlikely]] fail(std::string("invalid ") + what + " " + std::to_string(v));
        e = static_cast<E>(v);
    }
    [[gnu::always_inline]] void flag(bool& b, const char* what) {
        const auto v = num<std::uint8_t>();
        if (v > 1) [[unlikely]] fail(std::string("invalid ") + what);
        b = v == 1;
    }
    [[gnu::always_inline]] void i32(std::int32_t& v, std::int64_t lo, std::int64_t hi, const char* what) {
        v = num<std::int32_t>();
        if (v < lo || v >= hi) [[unlikely]] fail(std::string(what) + " out of range");
    }
    [[gnu::always_inline]] void small(std::uint8_t& v, int bound, const char* what) {
        v = num<std::uint8_t>();
        if (v >= bound) [[unlikely]] fail(std::string(what) + " out of range");
    }
};

struct Reading {
    In& in;
    // Records of exactly `bytes_each` bytes each (every edge, pool rule, fact, participant and
    // class link): the count check covers all their bytes, and they are read without a length
    // check per value. The records must read exactly that many bytes each (checked after).
    template <class T, class F>
    void fixed_records(std::vector<T>& v, std::size_t bytes_each, const char* what, F&& each) {
        v.resize(in.count(bytes_each, what));
        RawReading raw{in, in.here()};
        for (auto& x : v) each(raw, x);
        if (static_cast<std::size_t>(raw.p - in.here()) != v.size() * bytes_each)
            throw std::logic_error(std::string("snapshot reader: ") + what + " records are not " +
                                   std::to_string(bytes_each) + " bytes each");
        in.skip(v.size() * bytes_each);
    }
    // Called for every edge and pool rule: inlined, the checks cost a compare each.
    [[gnu::always_inline]] void u32(std::uint32_t& v, std::uint64_t bound, const char* what) {
        v = in.num<std::uint32_t>();
        if (v >= bound) in.fail(std::string(what) + " out of range");
    }
    void ids(std::vector<std::uint32_t>& v, std::uint64_t bound, const char* what) {
        in.block(v, what);
        // The largest value against the bound: a loop without a branch, which vectorises.
        std::uint32_t top = 0;
        for (std::uint32_t x : v) top = std::max(top, x);
        if (!v.empty() && top >= bound) in.fail(std::string(what) + " out of range");
    }
    void words(std::vector<std::uint64_t>& v, const char* what) { in.block(v, what); }
    // The lengths and values are read where they lie in the bytes: only the rows are allocated.
    void nested(std::vector<std::vector<std::uint32_t>>& v, std::uint64_t bound, const char* what) {
        const std::size_t rows = in.count(4, what);
        const char* lengths = in.here();
        in.skip(rows * 4);
        const std::size_t n = in.count(4, what);
        const char* values = in.here();
        in.skip(n * 4);
        auto at = [](const char* p, std::size_t k) {
            std::uint32_t x;
            std::memcpy(&x, p + 4 * k, 4);
            return to_little(x);
        };
        std::uint64_t total = 0;
        for (std::size_t r = 0; r < rows; ++r) total += at(lengths, r);
        if (total != n) in.fail(std::string(what) + ": row lengths disagree with the values");
        std::uint32_t top = 0;
        for (std::size_t k = 0; k < n; ++k) top = std::max(top, at(values, k));
        if (n && top >= bound) in.fail(std::string(what) + " out of range");
        v.resize(rows);
        std::size_t done = 0;
        for (std::size_t r = 0; r < rows; ++r) {
            const std::uint32_t len = at(lengths, r);
            v[r].resize(len);
            if constexpr (std::endian::native == std::endian::little) {
                if (len) std::memcpy(v[r].data(), values + 4 * done, 4 * std::size_t{len});
            } else {
                for (std::uint32_t k = 0; k < len; ++k) v[r][k] = at(values, done + k);
            }
            done += len;
        }
    }
    template <class T, class F>
    void records(std::vector<T>& v, std::size_t min_bytes, const char* what, F&& each) {
        v.resize(in.count(min_bytes, what));
        for (auto& x : v) each(*this, x);
    }
    template <class E>
    [[gnu::always_inline]] void enumeration(E& e, int last, const char* what) { e = read_enum<E>(in, last, what); }
    void flag(bool& b, const char* what) {
        const auto v = in.num<std::uint8_t>();
        if (v > 1) in.fail(std::string("invalid ") + what);
        b = v == 1;
    }
    void i32(std::int32_t& v, std::int64_t lo, std::int64_t hi, const char* what) {
        v = in.num<std::int32_t>();
        if (v < lo || v >= hi) in.fail(std::string(what) + " out of range");
    }
    void small(std::uint8_t& v, int bound, const char* what) {
        v = in.num<std::uint8_t>();
        if (v >= bound) in.fail(std::string(what) + " out of range");
    }
    void layers(std::vector<std::uint16_t>& v, std::size_t bound, const char* what) {
        in.block(v, what);
        for (std::uint16_t x : v)
            if (x >= bound) in.fail(std::string(what) + " out of range");
    }
    void annotations(std::unordered_map<std::uint64_t, std::vector<std::uint32_t>>& m, std::uint64_t n_sub,
                     std::uint64_t n_rules, const char* what) {
        std::vector<std::uint64_t> keys;
        in.block(keys, what);
        std::vector<std::vector<std::uint32_t>> rows;
        nested(rows, n_rules, what);
        if (rows.size() != keys.size()) in.fail(std::string(what) + ": keys disagree with the rows");
        m.reserve(keys.size());
        for (std::size_t k = 0; k < keys.size(); ++k) {
            const std::uint64_t a = keys[k] >> 32, b = keys[k] & 0xFFFFFFFFu;
            if (a >= b || b >= n_sub || (k > 0 && keys[k - 1] >= keys[k])) in.fail(std::string(what) + ": invalid pair");
            m.emplace(keys[k], std::move(rows[k]));
        }
    }
};

constexpr int kLastSeverity = static_cast<int>(Severity::Contraindicated);
constexpr int kLastGrade = static_cast<int>(EvidenceGrade::Derived);
// Rule participants and contraindication subjects are substances, products or classes only.
constexpr int kLastParticipant = static_cast<int>(EntityKind::Class);
static_assert(static_cast<int>(EntityKind::Substance) < kLastParticipant &&
              static_cast<int>(EntityKind::Product) < kLastParticipant);
constexpr int kLastEdge = static_cast<int>(EdgeKind::Participates);

template <class Io>
void visit_compiled(Io& io, KnowledgeBaseImpl& kb) {
    const auto& p = kb.pack;
    const std::uint64_t n_sub = p.substances.size(), n_cls = p.classes.size(), n_prod = p.products.size(),
                        n_cond = p.conditions.size(), n_rules = kb.rule_count,
                        n_contra = p.contraindications.size(), n_vert = kb.vertex_count;
    auto& fwd = kb.graph.m_forward;
    // The graph: CSR row starts (edge indexes), targets and the edge properties.
    io.ids(fwd.m_rowstart, std::numeric_limits<std::uint32_t>::max(), "graph row start");
    io.ids(fwd.m_column, n_vert, "graph edge target");
    io.fixed_records(fwd.m_edge_properties, 9, "graph edges", [](auto& s, EdgeProps& e) {
        s.enumeration(e.kind, kLastEdge, "edge kind");
        s.u32(e.offset, std::numeric_limits<std::uint32_t>::max(), "edge rule offset");
        s.u32(e.count, std::numeric_limits<std::uint32_t>::max(), "edge rule count");
    });
    io.fixed_records(kb.pair_rule_pool, 8, "pair rules", [n_rules](auto& s, KnowledgeBaseImpl::PoolRule& r) {
        s.u32(r.rule, n_rules, "pair rule");
        s.enumeration(r.severity, kLastSeverity, "severity");
        s.enumeration(r.evidence, kLastGrade, "evidence grade");
        s.flag(r.supersedes, "supersedes flag");
        s.small(r.filter_severity, kLastSeverity + 1, "filter severity");
    });
    io.ids(kb.interacts_end, std::numeric_limits<std::uint32_t>::max(), "interaction edge end");
    io.words(kb.pair_bits, "pair bits");
    io.u32(kb.pair_bits_stride, n_sub + 1, "pair bit stride");
    auto facts = [](auto& s, KnowledgeBaseImpl::RuleFacts& f) {
        s.enumeration(f.severity, kLastSeverity, "severity");
        s.enumeration(f.evidence, kLastGrade, "evidence grade");
    };
    io.fixed_records(kb.interaction_facts, 2, "interaction facts", facts);
    io.fixed_records(kb.contraindication_facts, 2, "contraindication facts", facts);
    auto part = [&](auto& s, Part& x) {
        s.enumeration(x.kind, kLastParticipant, "participant kind");
        const std::uint64_t bound = x.kind == EntityKind::Class ? n_cls : x.kind == EntityKind::Product ? n_prod : n_sub;
        s.u32(x.index, bound, "participant");
    };
    io.fixed_records(kb.rule_first, 5, "rule participants", part);
    io.fixed_records(kb.rule_second, 5, "rule participants", part);
    io.fixed_records(kb.contraindication_subject, 5, "contraindication subjects", part);
    io.ids(kb.contraindication_condition, n_cond, "contraindication condition");
    io.nested(kb.rule_supersedes, n_rules, "superseded rules");
    io.records(kb.substance_classes, 8, "substance classes", [&](auto& s, std::vector<KnowledgeBaseImpl::ClassLink>& row) {
        s.fixed_records(row, 8, "class links", [&](auto& t, KnowledgeBaseImpl::ClassLink& l) {
            t.u32(l.cls, n_cls, "class link");
            t.i32(l.via, -1, static_cast<std::int64_t>(n_cls), "class link origin");
        });
    });
    io.nested(kb.class_members, n_sub, "class members");
    io.nested(kb.interactions_by_product, n_rules, "product rules");
    io.nested(kb.product_active_ingredients, n_sub, "product ingredients");
    io.nested(kb.product_ingredients, n_sub, "product ingredients");
    io.nested(kb.condition_ancestors, n_cond, "condition ancestors");
    io.nested(kb.contraindications_by_substance, n_contra, "substance contraindications");
    io.nested(kb.contraindications_by_product, n_contra, "product contraindications");
    io.nested(kb.duplicate_classes_by_substance, n_cls, "duplicate-therapy classes");
    const std::uint64_t ranks = n_rules + n_contra + n_cls + 1;
    io.ids(kb.interaction_rank, ranks, "rule rank");
    io.ids(kb.contraindication_rank, ranks, "rule rank");
    io.ids(kb.class_rank, ranks, "rule rank");
    io.u32(kb.duplicate_ingredient_rank, ranks, "rule rank");
    // Layered knowledge bases: each rule's layer, and the lower layers' rules that annotate a
    // pair a higher layer covers (keys in ascending order, so the bytes are canonical).
    io.layers(kb.rule_layer, p.info.layers.size(), "rule layer");
    io.annotations(kb.pair_annotations, n_sub, n_rules, "pair annotations");
}

// The sizes and shapes the queries rely on (they index without checks).
void check_shapes(In& in, const KnowledgeBaseImpl& kb) {
    const auto& p = kb.pack;
    const auto& fwd = kb.graph.m_forward;
    const std::size_t n_sub = p.substances.size();
    auto need = [&](bool ok, const char* what) {
        if (!ok) in.fail(what);
    };
    need(fwd.m_rowstart.size() == static_cast<std::size_t>(kb.vertex_count) + 1, "graph has the wrong number of vertices");
    need(fwd.m_rowstart.front() == 0 && fwd.m_rowstart.back() == fwd.m_column.size(), "graph rows disagree with its edges");
    need(std::is_sorted(fwd.m_rowstart.begin(), fwd.m_rowstart.end()), "graph rows out of order");
    need(fwd.m_edge_properties.size() == fwd.m_column.size(), "graph edge properties disagree with its edges");
    for (const EdgeProps& e : fwd.m_edge_properties)
        need(e.kind != EdgeKind::Interacts ||
                 (e.offset <= kb.pair_rule_pool.size() && e.count <= kb.pair_rule_pool.size() - e.offset),
             "pair rule span out of range");
    // Every reader of an edge indexes a table by (target - base): each edge kind must join the
    // vertex ranges it was built between, or a crafted file reads past a table.
    if (fwd.m_rowstart.size() == static_cast<std::size_t>(kb.vertex_count) + 1 &&
        fwd.m_edge_properties.size() == fwd.m_column.size()) {
        const auto in_range = [](std::uint32_t v, std::uint32_t lo, std::uint32_t hi) { return v >= lo && v < hi; };
        for (std::uint32_t v = 0; v < kb.vertex_count; ++v) {
            for (std::uint32_t e = fwd.m_rowstart[v]; e < fwd.m_rowstart[v + 1] && e < fwd.m_column.size(); ++e) {
                const std::uint32_t t = fwd.m_column[e];
                bool ok = false;
                switch (fwd.m_edge_properties[e].kind) {
                    case EdgeKind::Interacts: ok = v < kb.class_base && t < kb.class_base; break;
                    case EdgeKind::MemberOf:
                        ok = v < kb.class_base && in_range(t, kb.class_base, kb.product_base);
                        break;
                    case EdgeKind::SubclassOf:
                        ok = in_range(v, kb.class_base, kb.product_base) && in_range(t, kb.class_base, kb.product_base);
                        break;
                    case EdgeKind::HasIngredient:
                        ok = in_range(v, kb.product_base, kb.condition_base) && t < kb.class_base;
                        break;
                    case EdgeKind::ConditionParent:
                        ok = in_range(v, kb.condition_base, kb.rule_base) && in_range(t, kb.condition_base, kb.rule_base);
                        break;
                    case EdgeKind::Participates:
                        ok = v < kb.condition_base && in_range(t, kb.rule_base, kb.vertex_count);
                        break;
                }
                need(ok, "graph edge joins the wrong kinds of vertex");
            }
        }
    }
    need(kb.interacts_end.size() == n_sub, "interaction edge ends have the wrong size");
    for (std::size_t a = 0; a < n_sub; ++a) {
        need(kb.interacts_end[a] >= fwd.m_rowstart[a] && kb.interacts_end[a] <= fwd.m_rowstart[a + 1],
             "interaction edge end out of range");
        // Interacts edges lead the row and are sorted by target: the pair probe binary-searches them.
        for (std::uint32_t e = fwd.m_rowstart[a]; e < kb.interacts_end[a]; ++e) {
            need(fwd.m_column[e] < n_sub && fwd.m_edge_properties[e].kind == EdgeKind::Interacts,
                 "interaction edges out of place");
            need(e == fwd.m_rowstart[a] || fwd.m_column[e - 1] < fwd.m_column[e], "interaction edges out of order");
        }
    }
    if (kb.pair_bits_stride == 0) {
        need(kb.pair_bits.empty(), "pair bits without a stride");
    } else {
        need(kb.pair_bits_stride == n_sub &&
                 kb.pair_bits.size() == (static_cast<std::size_t>(n_sub) * n_sub + 63) / 64,
             "pair bits have the wrong size");
    }
    const std::size_t n_rules = kb.rule_count, n_contra = p.contraindications.size();
    const std::size_t n_prod = p.products.size(), n_cls = p.classes.size();
    need(kb.interaction_facts.size() == n_rules && kb.rule_first.size() == n_rules && kb.rule_second.size() == n_rules &&
             kb.rule_supersedes.size() == n_rules && kb.interaction_rank.size() == n_rules,
         "rule tables have the wrong size");
    need(kb.contraindication_facts.size() == n_contra && kb.contraindication_subject.size() == n_contra &&
             kb.contraindication_condition.size() == n_contra && kb.contraindication_rank.size() == n_contra,
         "contraindication tables have the wrong size");
    need(kb.substance_classes.size() == n_sub && kb.class_members.size() == n_cls && kb.class_rank.size() == n_cls &&
             kb.duplicate_classes_by_substance.size() == n_sub && kb.contraindications_by_substance.size() == n_sub,
         "class tables have the wrong size");
    for (const auto& links : kb.substance_classes)
        need(std::is_sorted(links.begin(), links.end(), [](const auto& a, const auto& b) { return a.cls < b.cls; }),
             "class links out of order");
    need(kb.interactions_by_product.size() == n_prod && kb.product_active_ingredients.size() == n_prod &&
             kb.product_ingredients.size() == n_prod && kb.contraindications_by_product.size() == n_prod,
         "product tables have the wrong size");
    need(kb.condition_ancestors.size() == p.conditions.size(), "condition tables have the wrong size");
    // The renderer indexes the layers by each rule's layer when there is more than one pack.
    need(p.info.layers.size() < 65536 && (p.info.layers.size() <= 1 ? kb.rule_layer.empty() || kb.rule_layer.size() == n_rules
                                                                 : kb.rule_layer.size() == n_rules),
         "rule layers have the wrong size");
}

}  // namespace

PackData pack_of(const KnowledgeBaseImpl& kb) {
    PackData copy = kb.pack;
    if (kb.encoded_rules) {
        copy.interactions.clear();
        copy.interactions.reserve(kb.interaction_count());
        for_each_interaction(kb, [&](const InteractionRule& rule) { copy.interactions.push_back(rule); });
    }
    if (kb.layered()) copy.interaction_layers = kb.rule_layer;
    return copy;
}

bool looks_like_snapshot(std::string_view head) noexcept { return head.substr(0, kSnapshotMagic.size()) == kSnapshotMagic; }

std::uint64_t snapshot_checksum(std::string_view payload) noexcept {
    // Four independent multiply-rotate lanes over 8-byte words (several GB/s), then the tail and
    // the length; detects damage, not tampering.
    constexpr std::uint64_t k1 = 0x9E3779B185EBCA87ull, k2 = 0xC2B2AE3D27D4EB4Full;
    std::uint64_t h[4] = {k1, k2, ~k1, ~k2};
    const char* p = payload.data();
    std::size_t n = payload.size(), i = 0;
    for (; i + 32 <= n; i += 32)
        for (int l = 0; l < 4; ++l) h[l] = std::rotl(h[l] ^ (load64(p + i + 8 * l) * k2), 31) * k1;
    std::uint64_t tail = 0;
    for (std::size_t j = 0; i + j < n; ++j) tail = tail * 131 + static_cast<unsigned char>(p[i + j]) + 1;
    std::uint64_t out = n * k1;
    for (int l = 0; l < 4; ++l) out = std::rotl(out ^ (h[l] * k2), 27) * k1 + 0x52DCE729ull;
    out ^= tail * k2;
    out ^= out >> 33;
    out *= k2;
    out ^= out >> 29;
    return out;
}

// The name table, after the compiled engine: every entry in order (its normalised key, then the
// entity it names and how), then the suggestion pool (entry number and the entity it named when
// added). Stored rather than rebuilt because building it (normalising every name, salt and code
// variant, settling clashes) was a sixth of the built-in pack's load; reading keeps each key as a
// view of the string table, which the knowledge base holds (EncodedRules::table).
void write_name_target(Out& out, const NameTarget& t) {
    out.num(static_cast<std::uint8_t>(t.kind));
    out.num(t.index);
    out.num(static_cast<std::uint8_t>(t.matched_by));
}

void write_names(Out& out, const KnowledgeBaseImpl& kb) {
    out.count(kb.names.size());
    for (std::size_t e = 0; e < kb.names.size(); ++e) {
        out.start_record();  // no memo: names do not repeat from one entry to the next
        out.text(kb.names.entry(e).first);
        write_name_target(out, kb.names.entry(e).second);
    }
    out.count(kb.suggestion_pool.size());
    for (const auto& [entry, target] : kb.suggestion_pool) {
        out.num(entry);
        write_name_target(out, target);
    }
}

NameTarget read_name_target(In& in, const KnowledgeBaseImpl& kb) {
    NameTarget t;
    const auto kind = in.num<std::uint8_t>();
    if (kind != static_cast<std::uint8_t>(EntityKind::Substance) && kind != static_cast<std::uint8_t>(EntityKind::Product))
        in.fail("name target is neither a substance nor a product");
    t.kind = static_cast<EntityKind>(kind);
    t.index = in.num<std::uint32_t>();
    const std::size_t bound = t.kind == EntityKind::Product ? kb.pack.products.size() : kb.pack.substances.size();
    if (t.index >= bound) in.fail("name target out of range");
    const auto by = in.num<std::uint8_t>();
    if (by > static_cast<std::uint8_t>(MatchedBy::RxnormBrand)) in.fail("invalid name match kind");
    t.matched_by = static_cast<MatchedBy>(by);
    return t;
}

void read_names(In& in, KnowledgeBaseImpl& kb) {
    const std::size_t n = in.count32(10, "names");
    kb.names.reserve(n);
    for (std::size_t e = 0; e < n; ++e) {
        const std::string_view key = in.text_view();
        const NameTarget target = read_name_target(in, kb);
        if (key.empty()) in.fail("empty name");
        if (!kb.names.emplace_view(key, target).second) in.fail("name table holds a name twice");
    }
    const std::size_t m = in.count32(10, "suggestions");
    kb.suggestion_pool.reserve(m);
    for (std::size_t k = 0; k < m; ++k) {
        const auto entry = in.num<std::uint32_t>();
        if (entry >= n) in.fail("suggestion out of range");
        kb.suggestion_pool.emplace_back(entry, read_name_target(in, kb));
    }
}

std::string write_snapshot(const KnowledgeBaseImpl& kb) {
    // The body first (it fills the string table), then header + table + body.
    Out body(256 + kb.interaction_count() * 64 + kb.graph.m_forward.m_column.size() * 16);
    write_pack(body, kb);
    Writing w{body};
    visit_compiled(w, const_cast<KnowledgeBaseImpl&>(kb));  // the writer only reads
    write_names(body, kb);
    std::string bytes;
    bytes.reserve(kSnapshotHeaderBytes + body.bytes().size() + kb.interaction_count() * 24 + 4096);
    bytes.append(kSnapshotMagic);
    for (std::uint32_t v : {kSnapshotFormatVersion, kByteOrderMark}) {
        const std::uint32_t x = to_little(v);
        bytes.append(reinterpret_cast<const char*>(&x), 4);
    }
    bytes.append(16, '\0');  // payload size and checksum, filled below
    body.write_table(bytes);
    bytes.append(body.bytes());
    const std::string_view payload = std::string_view(bytes).substr(kSnapshotHeaderBytes);
    const std::uint64_t size = to_little(static_cast<std::uint64_t>(payload.size()));
    const std::uint64_t sum = to_little(snapshot_checksum(payload));
    std::memcpy(bytes.data() + 16, &size, 8);
    std::memcpy(bytes.data() + 24, &sum, 8);
    return bytes;
}

std::shared_ptr<const KnowledgeBaseImpl> read_snapshot(std::string_view bytes, const std::string& file,
                                                        std::uint64_t max_expanded_text, bool embedded) {
    if (!looks_like_snapshot(bytes))
        throw DataError(file, file + ": not an rxcaution snapshot (it does not start with the .rxpack signature)");
    if (bytes.size() < kSnapshotHeaderBytes)
        throw DataError(file, file + ": truncated snapshot: " + std::to_string(bytes.size()) + " bytes, shorter than the " +
                                  std::to_string(kSnapshotHeaderBytes) + "-byte header");
    std::uint32_t version, mark;
    std::memcpy(&version, bytes.data() + 8, 4);
    std::memcpy(&mark, bytes.data() + 12, 4);
    if (to_little(mark) != kByteOrderMark) {
        const std::uint32_t m = to_little(mark);
        if (((m & 0xFFu) << 24 | (m & 0xFF00u) << 8 | (m >> 8 & 0xFF00u) | m >> 24) == kByteOrderMark)
            throw DataError(file, file + ": snapshot written on a machine of the other byte order; compile the pack "
                                         "again on this one (rxcaution compile)");
        throw DataError(file, file + ": damaged snapshot: invalid byte-order mark");
    }
    version = to_little(version);
    if (version != kSnapshotFormatVersion)
        throw DataError(file, file + ": snapshot format version " + std::to_string(version) +
                                  " is not supported (this library reads version " +
                                  std::to_string(kSnapshotFormatVersion) + "); compile the pack again (rxcaution compile)");
    const std::uint64_t size = load64(bytes.data() + 16), sum = load64(bytes.data() + 24);
    const std::uint64_t have = bytes.size() - kSnapshotHeaderBytes;
    if (size > have)
        throw DataError(file, file + ": truncated snapshot: the header promises " + std::to_string(size) +
                                  " bytes of data, the file has " + std::to_string(have));
    if (size < have)
        throw DataError(file, file + ": damaged snapshot: " + std::to_string(have - size) +
                                  " bytes after the end of the data");
    const std::string_view payload = bytes.substr(kSnapshotHeaderBytes);
    // The embedded snapshot was written by this build (rxcaution_packc) and lives in the library's
    // read-only data: its checksum is not computed again on every process start.
    if (!embedded && snapshot_checksum(payload) != sum)
        throw DataError(file, file + ": damaged snapshot: checksum mismatch (the file was changed or corrupted after "
                                     "it was written)");

    auto kb = std::make_shared<KnowledgeBaseImpl>();
    In in(payload, file);
    in.limit_expansion(payload.size(), max_expanded_text);
    std::shared_ptr<const StringTable> table = read_table(in, embedded);
    in.set_table(table.get());
    read_pack(in, *kb, table, file, embedded ? payload : std::string_view{});
    set_vertex_ranges(*kb);
    Reading r{in};
    visit_compiled(r, *kb);
    read_names(in, *kb);
    if (!in.at_end()) in.fail("unread bytes after the compiled engine");
    // The built-in pack's snapshot was read back with every check by rxcaution_packc when this
    // library was built (apps/packc.cpp): its shapes are known, as its checksum is.
    if (!embedded) check_shapes(in, *kb);
    if (!build_check_index(*kb, !embedded)) in.fail("pair bits disagree with the interaction edges");
    build_lookups(*kb, false);
    // Cheap to derive from what was read: not stored.
    if (const std::string problem = compile_cumulative(*kb); !problem.empty()) in.fail(problem);
    mark_rule_coverage(*kb);
    return kb;
}

}  // namespace rxcaution::detail
