#pragma once
// The parsed, validated content of a pack, before indexing, and the entry points that produce it.
// Loading is split by what a newcomer would look for:
//   json_reader.cpp     streaming JSON (SAX) with pointers and error positions
//   pack_fields.cpp     one description per field: the table of every entity's JSON fields
//   pack_reader.cpp     sections -> structs, driven by those tables; manifest and bundled packs
//   pack_integrity.cpp  ids, references, cycles, citations (and their default grades)
//   pack_files.cpp      reading files from disk (size limit, non-regular files)
//   pack_writer.cpp     the bundled JSON document written back from the structs (to_json)

#include <rxcaution/entities.hpp>
#include <rxcaution/knowledge_base.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace rxcaution::detail {

inline constexpr int kFormatVersion = 1;

class RuleEncoder;
struct ReadRules;

// The sections of the built-in pack that a check rarely reads (sources, classes, conditions,
// contraindications, treatments, profiles) are decoded from the embedded snapshot on first use rather than
// at load (snapshot.cpp, read_snapshot): building their structs was a quarter of the load, most of
// it the kernel providing fresh pages for them. Whoever decodes them is a Sections loader.
class PendingSections {
public:
    virtual ~PendingSections() = default;
    // Fills every pending section, once; safe to call from several threads at a time.
    virtual void decode() const = 0;
    [[nodiscard]] virtual bool decoded() const noexcept = 0;
};

// A section of a pack: a std::vector of entities that may still be pending (encoded in the
// embedded snapshot). Every access decodes first, so no reader can see it empty by mistake;
// size() and empty() answer from the count alone. Copies and moves decode first and are never
// pending.
template <class T>
class Section {
public:
    using value_type = T;
    using iterator = typename std::vector<T>::iterator;
    using const_iterator = typename std::vector<T>::const_iterator;

    Section() = default;
    Section(const Section& o) : items_(o.all()) {}
    Section(Section&& o) : items_(std::move(o.mut())) {}
    Section& operator=(const Section& o) {
        if (this != &o) {
            const std::vector<T>& from = o.all();
            pending_ = nullptr;
            items_ = from;
        }
        return *this;
    }
    Section& operator=(Section&& o) {
        if (this != &o) {
            std::vector<T>& from = o.mut();
            pending_ = nullptr;
            items_ = std::move(from);
        }
        return *this;
    }

    [[nodiscard]] const std::vector<T>& all() const {
        ensure();
        return items_;
    }
    [[nodiscard]] std::vector<T>& mut() {
        ensure();
        pending_ = nullptr;  // the owner may now change it: size() must count what is there
        return items_;
    }
    [[nodiscard]] std::size_t size() const noexcept { return pending_ ? pending_count_ : items_.size(); }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }
    [[nodiscard]] const T& operator[](std::size_t i) const { return all()[i]; }
    [[nodiscard]] T& operator[](std::size_t i) { return mut()[i]; }
    [[nodiscard]] const T& back() const { return all().back(); }
    [[nodiscard]] T& back() { return mut().back(); }
    [[nodiscard]] const_iterator begin() const { return all().begin(); }
    [[nodiscard]] const_iterator end() const { return all().end(); }
    [[nodiscard]] iterator begin() { return mut().begin(); }
    [[nodiscard]] iterator end() { return mut().end(); }
    void reserve(std::size_t n) { mut().reserve(n); }
    void clear() { mut().clear(); }
    void push_back(const T& x) { mut().push_back(x); }
    void push_back(T&& x) { mut().push_back(std::move(x)); }
    template <class... A>
    T& emplace_back(A&&... a) { return mut().emplace_back(std::forward<A>(a)...); }

    // Whether the snapshot reader left it encoded at load (it stays marked after decoding): then
    // that reader builds its id index, at load or when it decodes it, and build_lookups does not.
    [[nodiscard]] bool pending() const noexcept { return pending_ != nullptr; }
    // For the loader that fills it (the pack tables' member address): no decoding.
    [[nodiscard]] std::vector<T>& raw() noexcept { return items_; }
    // Marks it pending: `count` entities, filled by `pending.decode()`, which must outlive it.
    void set_pending(const PendingSections* pending, std::size_t count) noexcept {
        pending_ = pending;
        pending_count_ = count;
    }

private:
    void ensure() const {
        if (pending_) pending_->decode();
    }
    std::vector<T> items_;
    const PendingSections* pending_ = nullptr;  // until decoded: set by the snapshot reader only
    std::size_t pending_count_ = 0;
};

// The vector a pack table fills (pack_fields.cpp), for either kind of section member.
template <class T>
std::vector<T>& section_vector(std::vector<T>& v) noexcept {
    return v;
}
template <class T>
std::vector<T>& section_vector(Section<T>& s) noexcept {
    return s.raw();
}

// Where an entity was defined, for integrity messages: element `index` of its section in the
// file `PackData::origin_files[file]`, i.e. "data/classes.json:/classes/4".
struct Origin {
    std::uint32_t file = 0;
    std::uint32_t index = 0;
};

struct PackData {
    PackInfo info;
    Section<Source> sources;
    std::vector<Substance> substances;
    std::vector<Product> products;
    Section<DrugClass> classes;
    Section<Condition> conditions;
    std::vector<InteractionRule> interactions;
    Section<ContraindicationRule> contraindications;
    std::vector<CumulativeRule> cumulative_rules;
    Section<Treatment> treatments;
    Section<Profile> profiles;

    // Parallel to the vectors above while the pack is read and checked (emptied afterwards).
    std::vector<Origin> source_origins, substance_origins, product_origins, class_origins, condition_origins,
        interaction_origins, contraindication_origins, cumulative_origins, treatment_origins, profile_origins;
    // Layered knowledge bases (pack_layers.cpp): the layer of each interaction rule, parallel to
    // `interactions` (0 is the highest priority); empty when the pack is a single layer.
    std::vector<std::uint16_t> interaction_layers;

    // Interaction rules read straight into their encoded form (detail/encoded_rules.hpp), when the
    // load asked for it: then `interactions` stays empty. The encoder exists while reading.
    std::shared_ptr<RuleEncoder> rule_encoder;
    std::shared_ptr<ReadRules> read_rules;
    [[nodiscard]] std::size_t interaction_count() const;

    // File names as shown in messages, indexed by Origin::file.
    std::vector<std::string> origin_files;
    // The data files a manifest names (empty for a bundled pack).
    std::vector<std::string> files;

    // "data/classes.json:/classes/4"
    [[nodiscard]] std::string where(std::string_view section, const Origin& o) const {
        return origin_files[o.file] + ":" + pointer(section, o);
    }
    [[nodiscard]] static std::string pointer(std::string_view section, const Origin& o) {
        std::string p;
        p.reserve(section.size() + 12);
        p += '/';
        p.append(section);
        p += '/';
        p += std::to_string(o.index);
        return p;
    }
};

// Decodes the sections still pending (a no-op for every pack but the built-in one): for code
// that reads the sections through the pack tables' member addresses (the writers), which see the
// vectors as they are.
inline void decode_pending(const PackData& pack) {
    (void)pack.sources.all();
    (void)pack.classes.all();
    (void)pack.conditions.all();
    (void)pack.contraindications.all();
    (void)pack.treatments.all();
    (void)pack.profiles.all();
}

// Integrity problems, gathered rather than thrown so that a curator fixes a pack in one round.
struct Problems {
    std::vector<std::string> list;
    void add(const std::string& file, const std::string& pointer, const std::string& text) {
        list.push_back(file + ":" + pointer + ": " + text);
    }
};

// One input document of a pack: text in memory (embedded, or given to from_json; it must outlive
// the load), or a file streamed from disk in chunks so that its whole text is never held.
struct PackFile {
    std::string name;  // as shown in messages
    std::string_view text;
    std::filesystem::path path;  // when not empty, the file to stream (`text` is unused)
};

// An open pack file, read in chunks. Opening checks it: a regular file within the size limit;
// anything else (missing, a directory, a FIFO, a device...) is a DataError saying what it is,
// found without blocking (a FIFO is never waited on).
class PackFileReader {
public:
    PackFileReader(const std::filesystem::path& path, const std::string& display, std::size_t max_bytes);
    ~PackFileReader();
    PackFileReader(const PackFileReader&) = delete;
    PackFileReader& operator=(const PackFileReader&) = delete;
    // Fills up to `capacity` bytes; 0 at the end. Throws DataError on a read error or when the
    // file grows past the limit while being read.
    std::size_t read(char* buffer, std::size_t capacity);

private:
    std::string display_;
    std::size_t max_bytes_;
    std::size_t total_ = 0;
    int fd_ = -1;
    void* stream_ = nullptr;  // std::ifstream where POSIX descriptors are not available
};

// Loads a pack from a directory, a manifest file or a bundled file.
// With `encode_rules`, the interaction rules are read into PackData::read_rules (for a knowledge
// base of this pack alone; layering merges structs).
PackData load_pack_path(const std::filesystem::path& path, const LoadOptions& options, bool encode_rules = false);

// How the first document of a pack is laid out: a bundled pack ({"manifest": {...}, sections...}),
// a manifest naming data files, or either (decided by the document's first key).
enum class PackLayout { Bundled, Manifest, Either };

// Parses and validates a pack whose first document is `first`; a
// manifest's data files are fetched through `read` (relative name -> file), one at a time, each
// parsed once. Throws the rxcaution error hierarchy; never returns partial data.
PackData load_pack(const PackFile& first, PackLayout layout,
                   const std::function<PackFile(const std::string& relative)>& read, const LoadOptions& options,
                   bool encode_rules = false);

// Integrity checks over a completely read pack; fills default citation grades. Throws
// IntegrityError listing every problem (`problems` may already hold some from reading).
void check_pack(PackData& pack, Problems& problems, const std::string& pack_file);
// The entity counts of PackInfo, from the sections.
void count_entities(PackData& pack);

// The bundled document of a pack (manifest without `files`, then every section), written from the
// structs. Loading it gives the same knowledge base.
std::string write_bundled_json(const PackData& pack);
// The same, with the interaction rules given one at a time by `decode(r, rule)` (rules kept
// encoded) instead of `pack.interactions`.
std::string write_bundled_json(const PackData& pack, std::size_t interactions,
                               const std::function<void(std::size_t, InteractionRule&)>& decode);

}  // namespace rxcaution::detail
