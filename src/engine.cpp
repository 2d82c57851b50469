// Compiling a validated pack into the engine: ids interned to integers, one compressed-sparse-row
// Boost.Graph holding every relation the queries walk, the class closure computed with Boost's
// breadth-first search over that graph, and the name tables.

#include "detail/encoded_rules.hpp"
#include "detail/impl.hpp"

#include <rxcaution/errors.hpp>

#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/filtered_graph.hpp>

#include <algorithm>
#include <limits>
#include <set>
#include <stdexcept>
#include <tuple>

namespace rxcaution::detail {

const char* to_text(MatchedBy m) noexcept {
    switch (m) {
        case MatchedBy::Name: return "name";
        case MatchedBy::Id: return "id";
        case MatchedBy::Synonym: return "synonym";
        case MatchedBy::Salt: return "salt";
        case MatchedBy::Brand: return "brand";
        case MatchedBy::Rxcui: return "rxcui";
        case MatchedBy::Drugbank: return "drugbank";
        case MatchedBy::Unii: return "unii";
        case MatchedBy::Normalized: return "normalized";
        case MatchedBy::VocabularyName: return "vocabulary-name";
        case MatchedBy::VocabularySynonym: return "vocabulary-synonym";
        case MatchedBy::Cas: return "cas";
        case MatchedBy::RxnormName: return "rxnorm-name";
        case MatchedBy::RxnormBrand: return "rxnorm-brand";
    }
    return "name";
}

void NameTable::reserve(std::size_t entries) {
    entries_.reserve(entries);
    hashes_.reserve(entries);
    std::size_t cap = 16;
    while (cap < 2 * entries) cap *= 2;
    if (cap > slots_.size()) grow(cap);
}

void NameTable::grow(std::size_t slots) {
    slots_.assign(slots, Slot{});
    const std::size_t mask = slots - 1;
    for (std::uint32_t e = 0; e < entries_.size(); ++e) {
        std::size_t i = hashes_[e] & mask;
        while (slots_[i].entry != 0) i = (i + 1) & mask;
        slots_[i] = Slot{e + 1, static_cast<std::uint32_t>(hashes_[e] >> 32)};
    }
}

const NameTable::Entry* NameTable::find(std::string_view key, std::uint64_t h) const noexcept {
    if (slots_.empty()) return nullptr;
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
        const Slot s = slots_[i];
        if (s.entry == 0) return nullptr;
        if (s.tag == tag && entries_[s.entry - 1].first == key) return &entries_[s.entry - 1];
    }
}

std::pair<NameTable::Entry*, bool> NameTable::emplace(std::string_view key, const NameTarget& target) {
    return insert(key, target, true);
}

std::pair<NameTable::Entry*, bool> NameTable::emplace_view(std::string_view key, const NameTarget& target) {
    return insert(key, target, false);
}

std::pair<NameTable::Entry*, bool> NameTable::insert(std::string_view key, const NameTarget& target, bool copy) {
    if (2 * (entries_.size() + 1) > slots_.size()) grow(std::max<std::size_t>(16, 2 * slots_.size()));
    const std::uint64_t h = hash(key);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = h & mask;
    for (; slots_[i].entry != 0; i = (i + 1) & mask) {
        const Slot s = slots_[i];
        if (s.tag == tag && entries_[s.entry - 1].first == key) return {&entries_[s.entry - 1], false};
    }
    entries_.emplace_back(copy ? std::string_view(owned_.emplace_back(key)) : key, target);
    hashes_.push_back(h);
    slots_[i] = Slot{static_cast<std::uint32_t>(entries_.size()), tag};
    return {&entries_.back(), true};
}

void IdIndex::reserve(std::size_t entries) {
    entries_.reserve(entries);
    std::size_t cap = 16;
    while (cap < 2 * entries) cap *= 2;
    if (cap > slots_.size()) grow(cap);
}

void IdIndex::grow(std::size_t slots) {
    slots_.assign(slots, 0);
    const std::size_t mask = slots - 1;
    for (std::uint32_t e = 0; e < entries_.size(); ++e) {
        std::size_t i = NameTable::hash(entries_[e].first) & mask;
        while (slots_[i] != 0) i = (i + 1) & mask;
        slots_[i] = e + 1;
    }
}

const IdIndex::Entry* IdIndex::find(std::string_view key) const noexcept {
    if (slots_.empty()) return nullptr;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = NameTable::hash(key) & mask; slots_[i] != 0; i = (i + 1) & mask)
        if (entries_[slots_[i] - 1].first == key) return &entries_[slots_[i] - 1];
    return nullptr;
}

std::uint32_t IdIndex::at(std::string_view key) const {
    if (const Entry* e = find(key)) return e->second;
    throw std::out_of_range("IdIndex::at: unknown id");
}

bool IdIndex::emplace(std::string_view key, std::uint32_t value) {
    if (2 * (entries_.size() + 1) > slots_.size()) grow(std::max<std::size_t>(16, 2 * slots_.size()));
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = NameTable::hash(key) & mask;
    for (; slots_[i] != 0; i = (i + 1) & mask)
        if (entries_[slots_[i] - 1].first == key) return false;
    entries_.emplace_back(key, value);
    slots_[i] = static_cast<std::uint32_t>(entries_.size());
    return true;
}

namespace {

template <class T>
void index_ids(const Section<T>& items, IdIndex& index) {
    // A section the snapshot reader left encoded is indexed by that reader, at load or when it
    // decodes the section (snapshot.cpp, read_pack).
    if (!items.pending()) index_ids(items.all(), index);
}

// Salt words also written as abbreviations; both spellings resolve.
const std::vector<std::pair<std::string, std::string>>& salt_abbreviations() {
    static const std::vector<std::pair<std::string, std::string>> abbreviations = {
        {"hydrochloride", "hcl"}, {"hydrobromide", "hbr"}, {"sulfate", "sulphate"}};
    return abbreviations;
}

// "a b" in a reused buffer (name building runs on every load; temporaries were a tenth of it).
std::string_view joined(std::string_view a, std::string_view b) {
    thread_local std::string text;
    text.assign(a);
    text += ' ';
    text += b;
    return text;
}

std::string describe_target(const KnowledgeBaseImpl& kb, const NameTarget& t) {
    return t.kind == EntityKind::Product ? "product " + kb.pack.products[t.index].id
                                         : "substance " + kb.pack.substances[t.index].id;
}

void add_name(KnowledgeBaseImpl& kb, std::string_view text, NameTarget target, std::set<std::string>& clashes) {
    thread_local std::string buffer;
    std::string_view key = text;
    if (!is_normalized_name(text)) {
        normalize_name_into(text, buffer);
        key = buffer;
    }
    if (key.empty()) return;
    auto [it, inserted] = kb.names.emplace(key, target);
    if (inserted) {
        kb.suggestion_pool.emplace_back(static_cast<std::uint32_t>(kb.names.size() - 1), target);
        return;
    }
    const NameTarget& old = it->second;
    if (old.kind == target.kind && old.index == target.index) return;
    // A substance keeps its own name even when a product is called the same (e.g. a generic
    // product named after its only ingredient); any other clash is a data error.
    if (old.kind == EntityKind::Substance && target.kind == EntityKind::Product) return;
    if (old.kind == EntityKind::Product && target.kind == EntityKind::Substance) {
        it->second = target;
        return;
    }
    clashes.insert("the name \"" + std::string(key) + "\" refers to both " + describe_target(kb, old) + " and " +
                   describe_target(kb, target));
}

// Only class edges: what the class closure walks.
struct ClassEdges {
    const Graph* g = nullptr;
    bool operator()(Graph::edge_descriptor e) const {
        const EdgeKind k = (*g)[e].kind;
        return k == EdgeKind::MemberOf || k == EdgeKind::SubclassOf;
    }
};

// Records every vertex a search reaches and the tree edge that reached it.
struct ClosureVisitor : boost::default_bfs_visitor {
    std::vector<Vertex>* reached;
    std::vector<Vertex>* parent;
    void discover_vertex(Vertex v, const boost::filtered_graph<Graph, ClassEdges>&) const { reached->push_back(v); }
    void tree_edge(boost::filtered_graph<Graph, ClassEdges>::edge_descriptor e,
                   const boost::filtered_graph<Graph, ClassEdges>& g) const {
        (*parent)[boost::target(e, g)] = boost::source(e, g);
    }
};

}  // namespace

std::int64_t KnowledgeBaseImpl::interaction_index_of(std::string_view id) const {
    if (interaction_slots.empty()) return -1;
    const std::size_t mask = interaction_slots.size() - 1;
    for (std::size_t i = NameTable::hash(id) & mask; interaction_slots[i] != 0; i = (i + 1) & mask)
        if (interaction_id(interaction_slots[i] - 1) == id) return interaction_slots[i] - 1;
    return -1;
}

const InteractionRule* KnowledgeBaseImpl::find_interaction(std::string_view id) const {
    const std::int64_t r = interaction_index_of(id);
    return r < 0 ? nullptr : &interaction(static_cast<std::uint32_t>(r));
}

bool KnowledgeBaseImpl::in_class(std::uint32_t substance, std::uint32_t cls) const {
    const auto& links = substance_classes[substance];
    auto it = std::lower_bound(links.begin(), links.end(), cls,
                               [](const ClassLink& l, std::uint32_t c) { return l.cls < c; });
    return it != links.end() && it->cls == cls;
}

bool KnowledgeBaseImpl::matches(std::uint32_t substance, const Part& p) const {
    if (p.kind == EntityKind::Substance) return p.index == substance;
    if (p.kind == EntityKind::Class) return in_class(substance, p.index);
    return false;
}

std::vector<std::uint32_t> KnowledgeBaseImpl::class_path(std::uint32_t substance, std::uint32_t cls) const {
    // Follow the search's tree edges from the target class back down to a direct membership.
    std::vector<std::uint32_t> path;
    const auto& links = substance_classes[substance];
    std::int32_t current = static_cast<std::int32_t>(cls);
    for (std::size_t guard = 0; current >= 0 && guard <= links.size(); ++guard) {
        path.push_back(static_cast<std::uint32_t>(current));
        auto it = std::lower_bound(links.begin(), links.end(), static_cast<std::uint32_t>(current),
                                   [](const ClassLink& l, std::uint32_t c) { return l.cls < c; });
        if (it == links.end() || it->cls != static_cast<std::uint32_t>(current)) break;
        current = it->via;
    }
    std::reverse(path.begin(), path.end());
    return path;
}

const KnowledgeBaseImpl::PoolRule* KnowledgeBaseImpl::rules_for_pair(std::uint32_t a, std::uint32_t b,
                                                                      std::size_t& count) const {
    // The row of `a` starts with its Interacts edges, sorted by target (substances are the lowest
    // vertex numbers), so the partner is found by binary search in contiguous memory. The CSR
    // arrays are read directly: Boost's out_edges iterators are not random access.
    const auto& fwd = graph.m_forward;
    const std::uint32_t lo = fwd.m_rowstart[a], hi = interacts_end[a];
    const Vertex* first = fwd.m_column.data() + lo;
    const Vertex* last = fwd.m_column.data() + hi;
    const Vertex* it = std::lower_bound(first, last, b);
    count = 0;
    if (it == last || *it != b) return nullptr;
    const EdgeProps& e = graph[Graph::edge_descriptor(a, lo + static_cast<std::uint32_t>(it - first))];
    if (e.kind != EdgeKind::Interacts) return nullptr;
    count = e.count;
    return pair_rule_pool.data() + e.offset;
}

void KnowledgeBaseImpl::participating_rules(Vertex v, std::vector<std::uint32_t>& out) const {
    for (auto [e, end] = boost::out_edges(v, graph); e != end; ++e)
        if (graph[*e].kind == EdgeKind::Participates) out.push_back(boost::target(*e, graph) - rule_base);
}

namespace {
// Writes into the high bits of each pair_rows word how many pairs the row's earlier words hold,
// and fills pair_row_base; returns the number of pairs.
std::uint64_t rank_pair_rows(KnowledgeBaseImpl& kb) {
    constexpr std::uint32_t kBits = KnowledgeBaseImpl::kPairWordBits;
    const std::size_t stride = kb.pair_bits_stride, row_words = kb.pair_row_words;
    kb.pair_row_base.resize(stride + 1);
    std::uint64_t upper = 0;
    for (std::size_t a = 0; a < stride; ++a) {
        kb.pair_row_base[a] = static_cast<std::uint32_t>(upper);
        std::uint64_t in_row = 0;
        for (std::size_t q = 0; q < row_words; ++q) {
            std::uint64_t& w = kb.pair_rows[a * row_words + q];
            const std::uint64_t here = KnowledgeBaseImpl::popcount64(w);
            w |= in_row << kBits;
            in_row += here;
        }
        upper += in_row;
    }
    kb.pair_row_base[stride] = static_cast<std::uint32_t>(upper);
    return upper;
}
}  // namespace

bool build_check_index(KnowledgeBaseImpl& kb, bool verify) {
    const std::size_t n_sub = kb.duplicate_classes_by_substance.size();
    kb.duplicate_starts_mask.assign(n_sub, 0);
    kb.duplicate_member_mask.assign(n_sub, 0);
    kb.any_duplicate_starts = false;
    // The duplicate-therapy classes, as the compiled table lists them (a class without members
    // starts nothing and has no member): the built-in pack's classes stay encoded at load.
    std::vector<bool> duplicate_class(kb.pack.classes.size(), false);
    for (const auto& classes : kb.duplicate_classes_by_substance)
        for (std::uint32_t c : classes)
            if (c < duplicate_class.size()) duplicate_class[c] = true;
    for (std::size_t s = 0; s < n_sub; ++s) {
        for (std::uint32_t c : kb.duplicate_classes_by_substance[s]) kb.duplicate_starts_mask[s] |= std::uint64_t{1} << (c % 64);
        kb.any_duplicate_starts = kb.any_duplicate_starts || kb.duplicate_starts_mask[s] != 0;
        if (s < kb.substance_classes.size())
            for (const auto& link : kb.substance_classes[s])
                if (link.cls < duplicate_class.size() && duplicate_class[link.cls])
                    kb.duplicate_member_mask[s] |= std::uint64_t{1} << (link.cls % 64);
    }
    kb.pair_rows.clear();
    kb.pair_row_base.clear();
    kb.pair_hot.clear();
    kb.pair_row_words = 0;
    if (kb.pair_bits.empty()) return true;
    auto fail = [&kb] {
        kb.pair_rows.clear();
        kb.pair_row_base.clear();
        kb.pair_hot.clear();
        kb.pair_row_words = 0;
        return false;
    };
    constexpr std::uint32_t kBits = KnowledgeBaseImpl::kPairWordBits;
    const std::uint64_t stride = kb.pair_bits_stride;
    const auto row_words = static_cast<std::uint32_t>((stride + kBits - 1) / kBits);
    kb.pair_row_words = row_words;
    kb.pair_rows.assign(static_cast<std::size_t>(stride) * row_words, 0);
    auto hot_of = [&kb](const EdgeProps& p) {
        KnowledgeBaseImpl::PairHot h{p.offset, KnowledgeBaseImpl::PairHot::kSpan | p.count};
        if (p.count == 1 && p.offset < kb.pair_rule_pool.size()) {
            const auto& r = kb.pair_rule_pool[p.offset];
            h.word = r.rule;
            h.meta = (static_cast<std::uint32_t>(r.severity) & 0xFFu) | (static_cast<std::uint32_t>(r.evidence) & 0xFFu) << 8 |
                     static_cast<std::uint32_t>(r.filter_severity) << 16 | static_cast<std::uint32_t>(r.supersedes) << 24;
        }
        return h;
    };
    // Every Interacts edge must have its bit, and there must be no other bit. The edges (a, b > a),
    // rows of ascending substances sorted by target, are then the kept pairs in rank order: each
    // sets its bit of pair_rows and appends its record.
    const auto& fwd = kb.graph.m_forward;
    const std::size_t substances = kb.interacts_end.size();
    if (substances > stride) return fail();
    if (!verify) {
        // A snapshot this build wrote and read back with every check (the built-in pack): the
        // edges are known to match the bits and each other, and each row's Interacts edges are
        // sorted by target, so the kept pairs (a, b > a) are the end of the row.
        const std::uint32_t* column = fwd.m_column.data();
        auto upper = [&](std::size_t a) {
            return static_cast<std::uint32_t>(std::upper_bound(column + fwd.m_rowstart[a], column + kb.interacts_end[a],
                                                               static_cast<std::uint32_t>(a)) - column);
        };
        std::size_t kept = 0;
        for (std::size_t a = 0; a < substances; ++a) kept += kb.interacts_end[a] - upper(a);
        kb.pair_hot.reserve(kept);
        for (std::size_t a = 0; a < substances; ++a)
            for (std::uint32_t e = upper(a), end = kb.interacts_end[a]; e < end; ++e) {
                const std::uint32_t b = column[e];
                kb.pair_rows[a * row_words + b / kBits] |= std::uint64_t{1} << (b % kBits);
                kb.pair_hot.push_back(hot_of(fwd.m_edge_properties[e]));
            }
        rank_pair_rows(kb);
        return true;
    }
    // The records are appended in rank order: sized first, so that they are written once, into
    // memory allocated once.
    std::size_t kept = 0;
    for (std::size_t a = 0; a < substances; ++a)
        for (std::uint32_t e = fwd.m_rowstart[a], end = kb.interacts_end[a]; e < end; ++e) kept += fwd.m_column[e] > a;
    kb.pair_hot.reserve(kept);
    std::uint64_t total = 0;
    for (std::uint64_t w : kb.pair_bits) total += KnowledgeBaseImpl::popcount64(w);
    std::uint64_t edges = 0;
    std::vector<std::uint32_t> lower_begin(static_cast<std::size_t>(stride) + 1, 0);  // edges (a, b < a), by b
    for (std::size_t a = 0; a < substances; ++a)
        for (std::uint32_t e = fwd.m_rowstart[a], end = kb.interacts_end[a]; e < end; ++e, ++edges) {
            const std::uint32_t b = fwd.m_column[e];
            const EdgeProps& p = fwd.m_edge_properties[e];
            if (b >= stride || !kb.pair_bit(static_cast<std::uint32_t>(a), b) || p.count >= KnowledgeBaseImpl::PairHot::kSpan)
                return fail();
            if (b > a) {
                kb.pair_rows[a * row_words + b / kBits] |= std::uint64_t{1} << (b % kBits);
                kb.pair_hot.push_back(hot_of(p));
            } else if (b < a) {
                ++lower_begin[b + 1];
            }
        }
    if (edges != total) return fail();
    const std::uint64_t upper = rank_pair_rows(kb);
    // A check probes a pair in one direction only, so (b, a) must carry the rules of (a, b): the
    // edges (a, b < a), gathered by b (in ascending a, so each group is sorted), must be row b's
    // edges (b, a > b) with the same rule span (as compiled packs have: one span per pair).
    for (std::size_t b = 0; b < stride; ++b) lower_begin[b + 1] += lower_begin[b];
    if (lower_begin[stride] != upper) return fail();
    struct Mirror {
        std::uint32_t a, offset, count;
    };
    std::vector<std::uint32_t> cursor(lower_begin.begin(), lower_begin.end() - 1);
    std::vector<Mirror> mirror(static_cast<std::size_t>(upper));
    for (std::size_t a = 0; a < substances; ++a)
        for (std::uint32_t e = fwd.m_rowstart[a], end = kb.interacts_end[a]; e < end; ++e) {
            const std::uint32_t b = fwd.m_column[e];
            const EdgeProps& p = fwd.m_edge_properties[e];
            if (b < a) mirror[cursor[b]++] = {static_cast<std::uint32_t>(a), p.offset, p.count};
        }
    for (std::size_t b = 0; b < substances; ++b) {
        std::size_t m = lower_begin[b];
        for (std::uint32_t e = fwd.m_rowstart[b], end = kb.interacts_end[b]; e < end; ++e) {
            const std::uint32_t a = fwd.m_column[e];
            if (a <= b) continue;
            const EdgeProps& p = fwd.m_edge_properties[e];
            if (m == lower_begin[b + 1] || mirror[m].a != a || mirror[m].offset != p.offset || mirror[m].count != p.count)
                return fail();
            ++m;
        }
        if (m != lower_begin[b + 1]) return fail();
    }
    return true;
}

// Which substances and products some rule could involve (see substance_has_rules).
void mark_rule_coverage(KnowledgeBaseImpl& kb) {
    const auto& p = kb.pack;
    kb.substance_has_rules.assign(p.substances.size(), 0);
    kb.product_has_rules.assign(p.products.size(), 0);
    auto mark = [&kb](const Part& part) {
        switch (part.kind) {
            case EntityKind::Substance: kb.substance_has_rules[part.index] = 1; break;
            case EntityKind::Class:
                for (std::uint32_t s : kb.class_members[part.index]) kb.substance_has_rules[s] = 1;
                break;
            case EntityKind::Product: kb.product_has_rules[part.index] = 1; break;
            default: break;
        }
    };
    for (std::size_t r = 0; r < kb.rule_first.size(); ++r) {
        mark(kb.rule_first[r]);
        mark(kb.rule_second[r]);
    }
    for (const Part& subject : kb.contraindication_subject) mark(subject);
    // The members of every duplicate-therapy class: the substances that have such a class (read
    // from the compiled table, so that the built-in pack's classes stay encoded at load).
    for (std::uint32_t s = 0; s < kb.duplicate_classes_by_substance.size(); ++s)
        if (!kb.duplicate_classes_by_substance[s].empty()) kb.substance_has_rules[s] = 1;
    for (const auto& parts : kb.cumulative_parts)
        for (const Part& part : parts) mark(part);
    for (std::uint32_t x = 0; x < p.products.size(); ++x)
        for (std::uint32_t s : kb.product_active_ingredients[x])
            if (kb.substance_has_rules[s]) kb.product_has_rules[x] = 1;
}


void set_vertex_ranges(KnowledgeBaseImpl& kb) {
    const auto& p = kb.pack;
    kb.class_base = static_cast<std::uint32_t>(p.substances.size());
    kb.product_base = kb.class_base + static_cast<std::uint32_t>(p.classes.size());
    kb.condition_base = kb.product_base + static_cast<std::uint32_t>(p.products.size());
    kb.rule_base = kb.condition_base + static_cast<std::uint32_t>(p.conditions.size());
    kb.vertex_count = kb.rule_base + kb.rule_count;
}

void build_lookups(KnowledgeBaseImpl& kb_ref, bool names) {
    KnowledgeBaseImpl* kb = &kb_ref;
    auto& p = kb->pack;
    index_ids(p.substances, kb->substance_index);
    index_ids(p.products, kb->product_index);
    index_ids(p.classes, kb->class_index);
    index_ids(p.conditions, kb->condition_index);
    index_ids(p.sources, kb->source_index);
    {
        // Power-of-two table at most half full, linear probing.
        std::size_t cap = 16;
        while (cap < 2 * static_cast<std::size_t>(kb->rule_count)) cap *= 2;
        kb->interaction_slots.assign(cap, 0);
        for (std::uint32_t r = 0; r < kb->rule_count; ++r) {
            const std::string_view id = kb->interaction_id(r);
            std::size_t i = NameTable::hash(id) & (cap - 1);
            while (kb->interaction_slots[i] != 0) {
                if (kb->interaction_id(kb->interaction_slots[i] - 1) == id) break;  // first one wins (ids are unique in a valid pack)
                i = (i + 1) & (cap - 1);
            }
            if (kb->interaction_slots[i] == 0) kb->interaction_slots[i] = r + 1;
        }
    }
    index_ids(p.contraindications, kb->contraindication_index);
    index_ids(p.treatments, kb->treatment_index);
    index_ids(p.cumulative_rules, kb->cumulative_index);
    if (!p.profiles.pending())  // else indexed when decoded (snapshot.cpp, SnapshotSections)
        index_by(p.profiles.all(), kb->profile_index, &Profile::substance);

    // --- names (a snapshot stores them: read_names) ---------------------------------------------
    if (!names) return;
    std::set<std::string> clashes;
    // This many names are added; about three in four are new (an id often equals the name; the
    // built-in pack keeps 1,679 of 2,403). Sized for those, the table's slots (zeroed up front, 8
    // bytes each at most half full) are half what sizing for every addition takes, and a pack
    // with fewer repeats rehashes once.
    std::size_t most = 0;
    for (const auto& s : p.substances) {
        most += 2 + s.synonyms.size() + 2 * !s.identifiers.rxcui.empty() + !s.identifiers.drugbank.empty() +
                !s.identifiers.unii.empty();
        for (const auto& salt : s.salts) {
            most += 2;
            for (const auto& [full, abbr] : salt_abbreviations()) most += 2 * (salt == full);
        }
    }
    for (const auto& x : p.products)
        most += 2 + x.synonyms.size() + 2 * (x.identifiers.rxcui_products.size() + !x.identifiers.rxcui.empty());
    kb->names.reserve(most * 3 / 4);
    kb->suggestion_pool.reserve(most * 3 / 4);
    for (std::uint32_t i = 0; i < p.substances.size(); ++i) {
        const auto& s = p.substances[i];
        add_name(*kb, s.name, {EntityKind::Substance, i, MatchedBy::Name}, clashes);
        add_name(*kb, s.id, {EntityKind::Substance, i, MatchedBy::Id}, clashes);
        for (const auto& syn : s.synonyms) add_name(*kb, syn, {EntityKind::Substance, i, MatchedBy::Synonym}, clashes);
        for (const auto& salt : s.salts) {
            for (const std::string* base : {&s.name, &s.id}) {
                add_name(*kb, joined(*base, salt), {EntityKind::Substance, i, MatchedBy::Salt}, clashes);
                for (const auto& [full, abbr] : salt_abbreviations())
                    if (salt == full) add_name(*kb, joined(*base, abbr), {EntityKind::Substance, i, MatchedBy::Salt}, clashes);
            }
        }
        if (!s.identifiers.rxcui.empty()) {
            add_name(*kb, s.identifiers.rxcui, {EntityKind::Substance, i, MatchedBy::Rxcui}, clashes);
            add_name(*kb, joined("rxcui", s.identifiers.rxcui), {EntityKind::Substance, i, MatchedBy::Rxcui}, clashes);
        }
        if (!s.identifiers.drugbank.empty())
            add_name(*kb, s.identifiers.drugbank, {EntityKind::Substance, i, MatchedBy::Drugbank}, clashes);
        if (!s.identifiers.unii.empty())
            add_name(*kb, s.identifiers.unii, {EntityKind::Substance, i, MatchedBy::Unii}, clashes);
    }
    for (std::uint32_t i = 0; i < p.products.size(); ++i) {
        const auto& x = p.products[i];
        add_name(*kb, x.name, {EntityKind::Product, i, MatchedBy::Brand}, clashes);
        add_name(*kb, x.id, {EntityKind::Product, i, MatchedBy::Id}, clashes);
        for (const auto& syn : x.synonyms) add_name(*kb, syn, {EntityKind::Product, i, MatchedBy::Brand}, clashes);
        auto add_code = [&](const std::string& code) {
            add_name(*kb, code, {EntityKind::Product, i, MatchedBy::Rxcui}, clashes);
            add_name(*kb, joined("rxcui", code), {EntityKind::Product, i, MatchedBy::Rxcui}, clashes);
        };
        for (const auto& code : x.identifiers.rxcui_products) add_code(code);
        if (!x.identifiers.rxcui.empty()) add_code(x.identifiers.rxcui);
    }
    if (!clashes.empty()) {
        std::vector<std::string> problems;
        for (const auto& c : clashes) problems.push_back(p.info.origin + ": " + c);
        throw IntegrityError(p.info.origin, problems);
    }
    // The suggestion pool holds only readable names (no ids or codes).
    std::erase_if(kb->suggestion_pool, [](const auto& e) {
        const MatchedBy by = e.second.matched_by;
        return by == MatchedBy::Rxcui || by == MatchedBy::Drugbank || by == MatchedBy::Unii;
    });
    // Condition names are indexed on first use (index_conditions).
}

// Cumulative rules: each requirement's class expanded once, here, into per-substance hits.
std::string compile_cumulative(KnowledgeBaseImpl& kb) {
    const auto& p = kb.pack;
    const auto n_sub = static_cast<std::uint32_t>(p.substances.size());
    kb.cumulative_hits.clear();
    kb.cumulative_facts.clear();
    kb.cumulative_parts.clear();
    kb.cumulative_conditions.clear();
    kb.cumulative_dose_substances.clear();
    kb.cumulative_rank.clear();
    kb.cumulative_slot_base.assign(n_sub + 1, 0);
    if (p.cumulative_rules.empty()) return {};
    std::vector<std::vector<KnowledgeBaseImpl::CumulativeHit>> by_substance(n_sub);
    auto find = [](const IdIndex& index, const std::string& id) -> std::int64_t {
        const auto it = index.find(id);
        return it == index.end() ? -1 : static_cast<std::int64_t>(it->second);
    };
    for (std::uint32_t r = 0; r < p.cumulative_rules.size(); ++r) {
        const CumulativeRule& rule = p.cumulative_rules[r];
        const std::string where = "cumulative rule '" + rule.id + "'";
        if (rule.requirements.empty() || rule.requirements.size() > 8)
            return where + " has " + std::to_string(rule.requirements.size()) + " requirements (1 to 8)";
        KnowledgeBaseImpl::CumulativeFacts facts{rule.severity, rule.evidence,
                                                 static_cast<std::uint32_t>(rule.requirements.size()), {}};
        std::vector<Part> parts;
        for (std::uint32_t q = 0; q < rule.requirements.size(); ++q) {
            const CumulativeRequirement& req = rule.requirements[q];
            if (req.min < 1 || req.min > 16) return where + " has a requirement that needs 1 to 16 medications";
            Part part{req.member.kind, 0};
            std::int64_t index = -1;
            if (req.member.kind == EntityKind::Class) index = find(kb.class_index, req.member.id);
            else if (req.member.kind == EntityKind::Substance) index = find(kb.substance_index, req.member.id);
            if (index < 0) return where + " names an unknown " + std::string(to_string(req.member.kind)) + " '" + req.member.id + "'";
            part.index = static_cast<std::uint32_t>(index);
            parts.push_back(part);
            facts.min[q] = static_cast<std::uint8_t>(req.min);
            auto mark = [&](std::uint32_t s) {
                auto& hits = by_substance[s];
                if (hits.empty() || hits.back().rule != r) hits.push_back({r, 0});
                hits.back().mask |= 1u << q;
            };
            if (part.kind == EntityKind::Class)
                for (std::uint32_t s : kb.class_members[part.index]) mark(s);
            else mark(part.index);
        }
        kb.cumulative_facts.push_back(facts);
        kb.cumulative_parts.push_back(std::move(parts));
        std::vector<std::uint32_t> conditions;
        for (const auto& c : rule.conditions) {
            const std::int64_t ci = find(kb.condition_index, c);
            if (ci < 0) return where + " names an unknown condition '" + c + "'";
            conditions.push_back(static_cast<std::uint32_t>(ci));
        }
        kb.cumulative_conditions.push_back(std::move(conditions));
        std::vector<std::uint32_t> dose;
        for (const auto& t : rule.dose_thresholds) {
            const std::int64_t si = find(kb.substance_index, t.substance);
            if (si < 0) return where + " names an unknown substance '" + t.substance + "'";
            dose.push_back(static_cast<std::uint32_t>(si));
        }
        kb.cumulative_dose_substances.push_back(std::move(dose));
    }
    for (std::uint32_t sub = 0; sub < n_sub; ++sub) {
        kb.cumulative_hits.insert(kb.cumulative_hits.end(), by_substance[sub].begin(), by_substance[sub].end());
        kb.cumulative_slot_base[sub + 1] = static_cast<std::uint32_t>(kb.cumulative_hits.size());
    }
    std::vector<std::uint32_t> order(p.cumulative_rules.size());
    for (std::uint32_t r = 0; r < order.size(); ++r) order[r] = r;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::uint32_t x, std::uint32_t y) { return p.cumulative_rules[x].id < p.cumulative_rules[y].id; });
    kb.cumulative_rank.assign(order.size(), 0);
    for (std::uint32_t k = 0; k < order.size(); ++k) kb.cumulative_rank[order[k]] = k;
    return {};
}

std::shared_ptr<const KnowledgeBaseImpl> build_impl(PackData pack) {
    auto kb = std::make_shared<KnowledgeBaseImpl>();
    kb->pack = std::move(pack);
    auto& p = kb->pack;
    // Rules read encoded (PackData::read_rules) stay encoded, as a snapshot's do.
    const std::shared_ptr<ReadRules> read = std::move(p.read_rules);
    if (read) kb->encoded_rules = read->rules;
    kb->rule_count = static_cast<std::uint32_t>(read ? read->size() : p.interactions.size());
    build_lookups(*kb);

    set_vertex_ranges(*kb);
    const auto n_sub = static_cast<std::uint32_t>(p.substances.size());

    // --- intern rule participants -----------------------------------------------------------
    auto intern = [&](const Participant& part) -> Part {
        switch (part.kind) {
            case EntityKind::Class: return {EntityKind::Class, kb->class_index.at(part.id)};
            case EntityKind::Product: return {EntityKind::Product, kb->product_index.at(part.id)};
            default: return {EntityKind::Substance, kb->substance_index.at(part.id)};
        }
    };
    auto part_vertex = [&](const Part& part) -> Vertex {
        switch (part.kind) {
            case EntityKind::Class: return kb->class_vertex(part.index);
            case EntityKind::Product: return kb->product_vertex(part.index);
            default: return kb->substance_vertex(part.index);
        }
    };
    const std::size_t n_rules = kb->rule_count;
    kb->rule_first.resize(n_rules);
    kb->rule_second.resize(n_rules);
    kb->rule_supersedes.resize(n_rules);
    kb->interaction_facts.reserve(n_rules);
    if (read) {
        // The rules name a few thousand distinct ids: each is looked up once, by string number.
        std::vector<Part> known(read->rules->table->size(), Part{EntityKind::Treatment, 0});
        auto intern_number = [&](EntityKind kind, std::uint32_t n) -> Part {
            Part& part = known[n];
            if (part.kind == EntityKind::Treatment) {  // not yet looked up (no rule names a treatment)
                const IdIndex& index = kind == EntityKind::Class     ? kb->class_index
                                                      : kind == EntityKind::Product ? kb->product_index
                                                                                    : kb->substance_index;
                part = {kind == EntityKind::Class || kind == EntityKind::Product ? kind : EntityKind::Substance,
                        index.find(read->text(n))->second};  // checked by the loader
            }
            return part;
        };
        for (std::size_t r = 0; r < n_rules; ++r) {
            const RuleHead& h = read->heads[r];
            kb->rule_first[r] = intern_number(h.first_kind, h.first_id);
            kb->rule_second[r] = intern_number(h.second_kind, h.second_id);
            for (std::uint32_t k = read->supersedes_begin[r]; k < read->supersedes_begin[r + 1]; ++k)
                kb->rule_supersedes[r].push_back(
                    static_cast<std::uint32_t>(kb->interaction_index_of(read->text(read->supersedes[k]))));
            kb->interaction_facts.push_back({h.severity, h.evidence});
        }
    } else {
        for (std::size_t r = 0; r < n_rules; ++r) {
            kb->rule_first[r] = intern(p.interactions[r].first);
            kb->rule_second[r] = intern(p.interactions[r].second);
            for (const auto& s : p.interactions[r].supersedes)
                kb->rule_supersedes[r].push_back(static_cast<std::uint32_t>(kb->interaction_index_of(s)));  // checked by the loader
        }
        for (const auto& r : p.interactions) kb->interaction_facts.push_back({r.severity, r.evidence});
    }
    for (const auto& c : p.contraindications) {
        kb->contraindication_facts.push_back({c.severity, c.evidence});
        kb->contraindication_subject.push_back(intern(c.subject));
        kb->contraindication_condition.push_back(kb->condition_index.at(c.condition));
    }

    // --- the structural edges -----------------------------------------------------------------
    struct EdgeRec {
        Vertex s, t;
        EdgeProps props;
    };
    std::vector<EdgeRec> edges;
    for (std::uint32_t c = 0; c < p.classes.size(); ++c) {
        for (const auto& m : p.classes[c].members)
            edges.push_back({kb->substance_vertex(kb->substance_index.at(m.substance)), kb->class_vertex(c),
                             {EdgeKind::MemberOf, 0, 0}});
        for (const auto& parent : p.classes[c].parents)
            edges.push_back({kb->class_vertex(c), kb->class_vertex(kb->class_index.at(parent)), {EdgeKind::SubclassOf, 0, 0}});
    }
    kb->product_ingredients.resize(p.products.size());
    for (std::uint32_t i = 0; i < p.products.size(); ++i)
        for (const auto& ing : p.products[i].ingredients) {
            const std::uint32_t s = kb->substance_index.at(ing);
            kb->product_ingredients[i].push_back(s);
            edges.push_back({kb->product_vertex(i), kb->substance_vertex(s), {EdgeKind::HasIngredient, 0, 0}});
        }
    for (std::uint32_t c = 0; c < p.conditions.size(); ++c)
        for (const auto& parent : p.conditions[c].parents)
            edges.push_back({kb->condition_vertex(c), kb->condition_vertex(kb->condition_index.at(parent)),
                             {EdgeKind::ConditionParent, 0, 0}});
    for (std::uint32_t r = 0; r < n_rules; ++r) {
        const Vertex a = part_vertex(kb->rule_first[r]), b = part_vertex(kb->rule_second[r]);
        edges.push_back({a, kb->rule_vertex(r), {EdgeKind::Participates, 0, 0}});
        if (b != a) edges.push_back({b, kb->rule_vertex(r), {EdgeKind::Participates, 0, 0}});
    }

    // The class closure needs only the class edges: build them first as their own CSR graph,
    // search it, then compile the rule edges from the closure.
    auto make_graph = [&](std::vector<EdgeRec>& list, bool last_use) {
        // Sorted by (source, target) with two stable counting sorts (target, then source): linear
        // in edges and vertices, where a comparison sort of a 130,000-rule pack's half a million
        // edges was a sixth of its load time.
        {
            std::vector<EdgeRec> sorted(list.size());
            std::vector<std::uint32_t> start(static_cast<std::size_t>(kb->vertex_count) + 1);
            for (const bool by_source : {false, true}) {
                std::fill(start.begin(), start.end(), 0u);
                for (const auto& e : list) ++start[(by_source ? e.s : e.t) + 1];
                for (std::size_t v = 1; v < start.size(); ++v) start[v] += start[v - 1];
                for (const auto& e : list) sorted[start[by_source ? e.s : e.t]++] = e;
                list.swap(sorted);
            }
        }
        // A pack may state a relation twice (a membership with two citations): one edge is enough.
        list.erase(std::unique(list.begin(), list.end(),
                               [](const EdgeRec& x, const EdgeRec& y) {
                                   return x.s == y.s && x.t == y.t && x.props.kind == y.props.kind &&
                                          x.props.kind != EdgeKind::Interacts;
                               }),
                   list.end());
        std::vector<std::pair<Vertex, Vertex>> ends;
        std::vector<EdgeProps> props;
        ends.reserve(list.size());
        props.reserve(list.size());
        for (const auto& e : list) {
            ends.emplace_back(e.s, e.t);
            props.push_back(e.props);
        }
        // The rule graph is built at the peak of a load's memory: the edge list goes first.
        if (last_use) std::vector<EdgeRec>().swap(list);
        return Graph(boost::edges_are_sorted, ends.begin(), ends.end(), props.begin(), kb->vertex_count);
    };
    kb->graph = make_graph(edges, false);

    // --- class closure: Boost BFS from each substance over member-of / subclass-of edges -----
    kb->substance_classes.resize(n_sub);
    kb->class_members.resize(p.classes.size());
    {
        const boost::filtered_graph<Graph, ClassEdges> class_graph(kb->graph, ClassEdges{&kb->graph});
        std::vector<boost::default_color_type> color(kb->vertex_count, boost::white_color);
        std::vector<Vertex> parent(kb->vertex_count, 0), reached;
        boost::queue<Vertex> queue;
        const auto color_map = boost::make_iterator_property_map(color.begin(), boost::get(boost::vertex_index, kb->graph));
        for (std::uint32_t s = 0; s < n_sub; ++s) {
            reached.clear();
            ClosureVisitor vis;
            vis.reached = &reached;
            vis.parent = &parent;
            boost::breadth_first_visit(class_graph, kb->substance_vertex(s), queue, vis, color_map);
            auto& links = kb->substance_classes[s];
            for (Vertex v : reached) {
                color[v] = boost::white_color;  // reset only what this search touched
                if (v < kb->class_base || v >= kb->product_base) continue;
                const std::uint32_t c = v - kb->class_base;
                const Vertex from = parent[v];
                links.push_back({c, from < kb->class_base ? -1 : static_cast<std::int32_t>(from - kb->class_base)});
                kb->class_members[c].push_back(s);
            }
            std::sort(links.begin(), links.end(), [](const auto& a, const auto& b) { return a.cls < b.cls; });
        }
    }

    // --- compile every substance/class rule into substance-pair edges -------------------------
    {
        auto expand = [&](const Part& part) -> std::vector<std::uint32_t> {
            if (part.kind == EntityKind::Substance) return {part.index};
            if (part.kind == EntityKind::Class) return kb->class_members[part.index];
            return {};  // product participants are matched against inputs, never expanded
        };
        // (substance pair, rule) for every compiled pair, then grouped by sorting: a flat vector
        // rather than a hash map of vectors (one allocation per pair, and a large part of the
        // time and of the peak memory of loading a whole-formulary pack).
        std::vector<std::pair<std::uint64_t, std::uint32_t>> compiled;
        compiled.reserve(n_rules);
        kb->interactions_by_product.resize(p.products.size());
        for (std::uint32_t r = 0; r < n_rules; ++r) {
            const Part& f = kb->rule_first[r];
            const Part& s = kb->rule_second[r];
            if (f.kind == EntityKind::Product || s.kind == EntityKind::Product) {
                for (const Part* part : {&f, &s})
                    if (part->kind == EntityKind::Product) {
                        auto& list = kb->interactions_by_product[part->index];
                        if (list.empty() || list.back() != r) list.push_back(r);
                    }
                continue;
            }
            const auto a = expand(f);
            const auto b = expand(s);
            for (std::uint32_t x : a)
                for (std::uint32_t y : b) {
                    if (x == y) continue;
                    const std::uint64_t key = x < y ? (static_cast<std::uint64_t>(x) << 32) | y
                                                    : (static_cast<std::uint64_t>(y) << 32) | x;
                    compiled.emplace_back(key, r);
                }
        }
        // By pair (deterministic pool layout), each pair's rules in rule order, each rule once.
        std::sort(compiled.begin(), compiled.end());
        compiled.erase(std::unique(compiled.begin(), compiled.end()), compiled.end());
        std::vector<std::uint64_t> keys;
        std::vector<std::uint32_t> pair_rules, group_begin, group_end;  // pair k: pair_rules[begin[k], end[k])
        pair_rules.reserve(compiled.size());
        for (const auto& [key, r] : compiled) {
            if (keys.empty() || keys.back() != key) {
                if (!keys.empty()) group_end.push_back(static_cast<std::uint32_t>(pair_rules.size()));
                keys.push_back(key);
                group_begin.push_back(static_cast<std::uint32_t>(pair_rules.size()));
            }
            pair_rules.push_back(r);
        }
        if (!keys.empty()) group_end.push_back(static_cast<std::uint32_t>(pair_rules.size()));
        std::vector<std::pair<std::uint64_t, std::uint32_t>>().swap(compiled);
        if (!p.interaction_layers.empty()) {
            // Precedence of layers: on a pair, only the rules of the highest-priority layer that
            // has any lead; the others become annotations of their warnings.
            kb->rule_layer = p.interaction_layers;
            std::vector<bool> annotating(n_rules, false);
            for (std::size_t k = 0; k < keys.size(); ++k) {
                const auto first = pair_rules.begin() + group_begin[k], last = pair_rules.begin() + group_end[k];
                std::uint16_t lead = 0xFFFF;
                for (auto it = first; it != last; ++it) lead = std::min(lead, kb->rule_layer[*it]);
                auto moved = std::stable_partition(first, last, [&](std::uint32_t r) { return kb->rule_layer[r] == lead; });
                if (moved == last) continue;
                auto& notes = kb->pair_annotations[keys[k]];
                for (auto it = moved; it != last; ++it) {
                    notes.push_back(*it);
                    annotating[*it] = true;
                }
                group_end[k] = static_cast<std::uint32_t>(moved - pair_rules.begin());
            }
            for (auto& layer : p.info.layers) layer.annotating_rules = 0;
            for (std::uint32_t r = 0; r < n_rules; ++r)
                if (annotating[r]) ++p.info.layers[kb->rule_layer[r]].annotating_rules;
        }
        edges.reserve(edges.size() + 2 * keys.size());
        kb->pair_rule_pool.reserve(pair_rules.size());
        for (std::size_t k = 0; k < keys.size(); ++k) {
            const std::uint64_t key = keys[k];
            const EdgeProps props{EdgeKind::Interacts, static_cast<std::uint32_t>(kb->pair_rule_pool.size()),
                                  group_end[k] - group_begin[k]};
            Severity noted = Severity::Minor;
            if (auto notes = kb->pair_annotations.find(key); notes != kb->pair_annotations.end())
                for (std::uint32_t r : notes->second) noted = std::max(noted, kb->interaction_facts[r].severity);
            for (std::uint32_t i = group_begin[k]; i < group_end[k]; ++i) {
                const std::uint32_t r = pair_rules[i];
                const Severity own = kb->interaction_facts[r].severity;
                kb->pair_rule_pool.push_back({r, own, kb->interaction_facts[r].evidence, !kb->rule_supersedes[r].empty(),
                                              static_cast<std::uint8_t>(std::max(own, noted))});
            }
            const auto x = static_cast<Vertex>(key >> 32), y = static_cast<Vertex>(key & 0xFFFFFFFFu);
            edges.push_back({x, y, props});
            edges.push_back({y, x, props});
        }
        p.info.compiled_pairs = keys.size();
        for (auto* v : {&pair_rules, &group_begin, &group_end}) std::vector<std::uint32_t>().swap(*v);
        kb->graph = Graph();  // the class graph has served; let it go before the full one is built
        kb->graph = make_graph(edges, true);
        if (n_sub <= KnowledgeBaseImpl::kMaxPairBitsSubstances) {
            kb->pair_bits_stride = n_sub;
            kb->pair_bits.assign((static_cast<std::size_t>(n_sub) * n_sub + 63) / 64, 0);
            for (std::uint64_t key : keys)
                for (auto [x, y] : {std::pair{key >> 32, key & 0xFFFFFFFFu}, std::pair{key & 0xFFFFFFFFu, key >> 32}}) {
                    const std::uint64_t k = x * n_sub + y;
                    kb->pair_bits[k >> 6] |= std::uint64_t{1} << (k & 63);
                }
        }
        kb->interacts_end.resize(n_sub);
        const auto& fwd = kb->graph.m_forward;
        for (std::uint32_t a = 0; a < n_sub; ++a) {
            std::uint32_t e = fwd.m_rowstart[a];
            while (e < fwd.m_rowstart[a + 1] && fwd.m_column[e] < n_sub) ++e;
            kb->interacts_end[a] = e;
        }
    }

    kb->product_active_ingredients.resize(p.products.size());
    for (std::uint32_t i = 0; i < p.products.size(); ++i)
        for (const auto& ing : p.products[i].ingredients) {
            bool inactive = false;
            for (const auto& ii : p.products[i].inactive_ingredients) inactive = inactive || ii.substance == ing;
            if (!inactive) kb->product_active_ingredients[i].push_back(kb->substance_index.at(ing));
        }

    // --- conditions: ancestors (a rule on a parent applies to its children) -------------------
    kb->condition_ancestors.resize(p.conditions.size());
    for (std::uint32_t c = 0; c < p.conditions.size(); ++c) {
        std::vector<std::uint32_t> out{c};
        for (std::size_t q = 0; q < out.size(); ++q)
            for (auto [e, end] = boost::out_edges(kb->condition_vertex(out[q]), kb->graph); e != end; ++e) {
                if (kb->graph[*e].kind != EdgeKind::ConditionParent) continue;
                const std::uint32_t pi = boost::target(*e, kb->graph) - kb->condition_base;
                if (std::find(out.begin(), out.end(), pi) == out.end()) out.push_back(pi);
            }
        kb->condition_ancestors[c] = std::move(out);
    }
    kb->contraindications_by_substance.resize(n_sub);
    kb->contraindications_by_product.resize(p.products.size());
    for (std::uint32_t r = 0; r < p.contraindications.size(); ++r) {
        const Part& subj = kb->contraindication_subject[r];
        if (subj.kind == EntityKind::Product) kb->contraindications_by_product[subj.index].push_back(r);
        else if (subj.kind == EntityKind::Class)
            for (std::uint32_t s : kb->class_members[subj.index]) kb->contraindications_by_substance[s].push_back(r);
        else kb->contraindications_by_substance[subj.index].push_back(r);
    }
    kb->duplicate_classes_by_substance.resize(n_sub);
    for (std::uint32_t c = 0; c < p.classes.size(); ++c)
        if (p.classes[c].duplicate_therapy)
            for (std::uint32_t s : kb->class_members[c]) kb->duplicate_classes_by_substance[s].push_back(c);

    if (std::string problem = compile_cumulative(*kb); !problem.empty())
        throw std::logic_error("cumulative rules of a checked pack: " + problem);

    // --- rule-id ranks for ordering warnings without string comparisons ---------------------
    {
        std::vector<std::pair<std::string_view, std::uint32_t*>> ids;
        ids.reserve(n_rules + p.contraindications.size() + p.classes.size() + 1);
        kb->interaction_rank.resize(n_rules);
        kb->contraindication_rank.resize(p.contraindications.size());
        kb->class_rank.resize(p.classes.size());
        for (std::uint32_t r = 0; r < n_rules; ++r) ids.emplace_back(kb->interaction_id(r), &kb->interaction_rank[r]);
        for (std::size_t r = 0; r < p.contraindications.size(); ++r)
            ids.emplace_back(p.contraindications[r].id, &kb->contraindication_rank[r]);
        for (std::size_t c = 0; c < p.classes.size(); ++c) ids.emplace_back(p.classes[c].id, &kb->class_rank[c]);
        ids.emplace_back("duplicate-ingredient", &kb->duplicate_ingredient_rank);
        std::stable_sort(ids.begin(), ids.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
        std::uint32_t rank = 0;
        for (std::size_t k = 0; k < ids.size(); ++k) {
            if (k && ids[k].first != ids[k - 1].first) ++rank;
            *ids[k].second = rank;
        }
    }

    if (!build_check_index(*kb)) throw std::logic_error("pair bits disagree with the interaction edges");
    mark_rule_coverage(*kb);
    return kb;
}

}  // namespace rxcaution::detail
