// Pack reading: JSON events -> entity structs, driven by the field tables of pack_fields.cpp.
//
// Shape errors (wrong type, unknown or missing field) stop reading at the first one: the rest of
// the document cannot be trusted to be read. Problems a curator should see all at once (bad enum
// values, facts without sources) are gathered and reported with the integrity problems. Nothing
// here builds indexes: a PackData leaves load_pack() only when complete and consistent.

#include "detail/encoded_rules.hpp"
#include "detail/json_reader.hpp"
#include "detail/pack_fields.hpp"

#include <rxcaution/errors.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <memory>

namespace rxcaution::detail {

namespace {

constexpr const char* kRequired = "nothing (the field is required)";
constexpr const char* kNoSource = "no source cited (every fact needs at least one source)";
constexpr const char* kOneParticipant = "exactly one of {\"substance\": id}, {\"class\": id}, {\"product\": id}";

// "expected ..." for a value of the wrong type in a field of this kind.
const char* field_expected(FieldKind kind) {
    switch (kind) {
        case FieldKind::Texts:
        case FieldKind::TextOrTexts: return "an array of strings";
        case FieldKind::FormatVersion:
        case FieldKind::Count: return "an integer";
        case FieldKind::Amount: return "a number";
        case FieldKind::TextMap:
        case FieldKind::Object:
        case FieldKind::OptionalObject:
        case FieldKind::Participant: return "an object";
        case FieldKind::Objects:
        case FieldKind::Participants: return "an array";
        default: return "a string";
    }
}
// ... and for an element of an array field of this kind.
const char* element_expected(FieldKind kind) {
    return kind == FieldKind::Texts || kind == FieldKind::TextOrTexts ? "a string" : "an object";
}

std::string in_quotes(const std::string& s) { return "\"" + s + "\""; }

std::string join(std::span<const std::string_view> items, const char* separator) {
    std::string out;
    for (auto item : items) {
        if (!out.empty()) out += separator;
        out += item;
    }
    return out;
}

// Evidence grades: `derived` is computed by rxcaution, never written in a pack; rules cannot rest
// on weak evidence.
EvidenceGrade read_grade(const std::string& text, bool allow_weak, Problems& problems, const std::string& file,
                         const std::string& pointer) {
    auto g = parse_evidence_grade(text);
    if (!g || *g == EvidenceGrade::Derived || (!allow_weak && *g == EvidenceGrade::Weak)) {
        problems.add(file, pointer,
                     std::string("expected one of label|label-quoted|secondary") + (allow_weak ? "|weak" : "") +
                         ", got \"" + text + "\"" +
                         (text == "unverified" || text == "U" ? " (unverified facts are never encoded)" : ""));
        return EvidenceGrade::Secondary;
    }
    return *g;
}

// Reads one JSON document of a pack into PackData.
class PackConsumer final : public JsonConsumer {
public:
    PackConsumer(PackData& pack, Problems& problems, const std::string& file, std::uint32_t file_index,
                 PackLayout layout, bool data_file)
        : pack_(pack), problems_(problems), file_(file), file_index_(file_index), layout_(layout),
          data_file_(data_file) {
        stack_.reserve(16);
    }

    // Problems found while reading, in the order a tree-based reader met them: sections by name
    // (the order of a sorted JSON object), each in document order. Messages keep that order.
    void flush_problems() {
        std::vector<std::size_t> order(buckets_.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        const auto sections = data_file_type().fields;
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            auto name = [&](std::size_t i) { return i == 0 ? std::string_view() : sections[i - 1].json; };
            return name(a) < name(b);
        });
        for (std::size_t i : order)
            for (auto& p : buckets_[i].list) problems_.list.push_back(std::move(p));
    }

    // After the document: was it a bundled pack (else a manifest)?
    [[nodiscard]] bool bundled() const { return layout_ == PackLayout::Bundled; }

    void null(const std::string& ptr) override {
        if (stack_.empty()) fail(ptr, "an object", "null");
        Frame& f = stack_.back();
        switch (f.mode) {
            case Mode::Object: {
                const Field& field = *f.field;
                if (field.kind == FieldKind::CitationGrade) {
                    *static_cast<EvidenceGrade*>(field.at(f.target)) = kGradeFromSource;
                } else if (field.need == Need::Required && field.kind != FieldKind::Texts) {
                    fail(ptr, field_expected(field.kind), "null");
                }
                return;  // an optional field given as null is absent
            }
            case Mode::Array: fail(ptr, element_expected(f.field->kind), "null");
            case Mode::Participant: participant_value(ptr, "null", "null"); return;
            case Mode::TextMap: fail(ptr, "a string", "null");
            case Mode::Skip: return;
        }
    }

    void boolean(const std::string& ptr, bool v) override { scalar(ptr, describe_boolean(v), v ? "true" : "false"); }

    void integer(const std::string& ptr, long long v) override {
        if (!stack_.empty() && stack_.back().mode == Mode::Object &&
            stack_.back().field->kind == FieldKind::FormatVersion) {
            if (v != kFormatVersion) throw UnsupportedFormatVersion(file_, v, kFormatVersion);
            *static_cast<int*>(stack_.back().field->at(stack_.back().target)) = static_cast<int>(v);
            return;
        }
        if (!stack_.empty() && stack_.back().mode == Mode::Object) {
            const Field& field = *stack_.back().field;
            // Only these kinds have a number member; `at` may be null (Unkept).
            void* member = field.kind == FieldKind::Count || field.kind == FieldKind::Amount
                               ? field.at(stack_.back().target)
                               : nullptr;
            if (field.kind == FieldKind::Count) {
                if (v < 1 || v > 16) bucket().add(file_, ptr, "expected an integer from 1 to 16, got " + std::to_string(v));
                *static_cast<int*>(member) = static_cast<int>(std::clamp<long long>(v, 1, 16));
                return;
            }
            if (field.kind == FieldKind::Amount) {
                store_amount(field, member, ptr, static_cast<double>(v), std::to_string(v));
                return;
            }
        }
        scalar(ptr, describe_integer(v), std::to_string(v));
    }

    void number(const std::string& ptr, double v, const std::string& text) override {
        if (!stack_.empty() && stack_.back().mode == Mode::Object && stack_.back().field->kind == FieldKind::Amount) {
            store_amount(*stack_.back().field, stack_.back().field->at(stack_.back().target), ptr, v, text);
            return;
        }
        scalar(ptr, describe_number(v), text);
    }

    void store_amount(const Field&, void* member, const std::string& ptr, double v, const std::string& text) {
        if (!(v > 0) || !(v < 1e9)) bucket().add(file_, ptr, "expected a positive number below 1e9, got " + text);
        *static_cast<double*>(member) = v;
    }

    void string(const std::string& ptr, std::string& s) override {
        // A NUL is valid JSON ("\u0000") but no name, id or text of a pack holds one, and C
        // interfaces downstream would silently cut the string there.
        if (s.find('\0') != std::string::npos) fail(ptr, "text without NUL characters", "a string containing \\u0000");
        if (stack_.empty()) fail(ptr, "an object", describe_string(s));
        Frame& f = stack_.back();
        switch (f.mode) {
            case Mode::Object: field_string(*f.field, f.target, ptr, s); return;
            case Mode::Array:
                if (f.field->kind == FieldKind::Texts || f.field->kind == FieldKind::TextOrTexts) {
                    static_cast<std::vector<std::string>*>(f.field->at(f.target))->push_back(std::move(s));
                    return;
                }
                fail(ptr, element_expected(f.field->kind), describe_string(s));
            case Mode::Participant: participant_value(ptr, std::move(s), nullptr); return;
            case Mode::TextMap: (*static_cast<std::map<std::string, std::string>*>(f.target))[map_key_] = std::move(s); return;
            case Mode::Skip: return;
        }
    }

    void start_object(const std::string& ptr) override {
        if (stack_.empty()) {
            const ObjectType* root = nullptr;
            if (data_file_) root = &data_file_type();
            else if (layout_ == PackLayout::Bundled) root = &bundled_pack_type();
            else if (layout_ == PackLayout::Manifest) root = &manifest_file_type();
            push_object(root, &pack_);  // Either: decided by the first key
            return;
        }
        Frame& f = stack_.back();
        switch (f.mode) {
            case Mode::Object: {
                const Field& field = *f.field;
                void* member = field.at ? field.at(f.target) : nullptr;
                switch (field.kind) {
                    case FieldKind::Object: push_object(field.type, member); return;
                    case FieldKind::OptionalObject: push_object(field.type, field.type->emplace(member)); return;
                    case FieldKind::TextMap: stack_.push_back({Mode::TextMap, nullptr, nullptr, member}); return;
                    case FieldKind::Participant: start_participant(static_cast<Participant*>(member)); return;
                    default: fail(ptr, field_expected(field.kind), "an object");
                }
            }
            case Mode::Array: {
                const Field& field = *f.field;
                const std::size_t index = f.count++;
                if (field.kind == FieldKind::Objects) {
                    void* items = field.at(f.target);
                    if (field.origins)
                        field.origins(f.target)->push_back({file_index_, static_cast<std::uint32_t>(index)});
                    if (field.origins && pack_.rule_encoder && field.json == "interactions") {
                        // Read into one reused struct and encoded when complete (encoded_rules.hpp).
                        scratch_rule_ = InteractionRule{};
                        push_object(field.type, &scratch_rule_);
                        stack_.back().encode = true;
                        return;
                    }
                    push_object(field.type, field.type->append(items));
                    return;
                }
                if (field.kind == FieldKind::Participants) {
                    void* target = index == 0 ? field.at(f.target) : index == 1 ? field.at2(f.target) : &extra_;
                    start_participant(static_cast<Participant*>(target));
                    return;
                }
                fail(ptr, element_expected(field.kind), "an object");
            }
            case Mode::Participant:
                participant_value(ptr, "{...}", "an object");
                stack_.push_back({Mode::Skip, nullptr, nullptr, nullptr});
                return;
            case Mode::TextMap: fail(ptr, "a string", "an object");
            case Mode::Skip: ++f.count; return;
        }
    }

    void key(const std::string& ptr, std::string& k) override {
        Frame& f = stack_.back();
        switch (f.mode) {
            case Mode::Object: {
                if (!f.type) f.type = decide_layout(k);
                const auto fields = f.type->fields;
                std::size_t i = 0;
                while (i < fields.size() && fields[i].json != k) ++i;
                if (i == fields.size()) {
                    std::string list;
                    for (std::size_t j = f.type->list_skip; j < fields.size(); ++j)
                        list += (list.empty() ? "" : ", ") + std::string(fields[j].json);
                    fail(ptr, std::string(f.type->list_prefix) + list,
                         "unknown " + std::string(f.type->unknown_noun) + " \"" + k + "\"");
                }
                // A repeated key would silently drop or merge data (a parsed tree keeps the last).
                if (f.seen & (std::uint64_t{1} << i)) fail(ptr, "each field once", in_quotes(k) + " a second time");
                f.seen |= std::uint64_t{1} << i;
                f.field = &fields[i];
                if (stack_.size() == 1) {
                    // Root keys: a section (bucket 1 + its index among the sections) or the manifest.
                    bucket_ = 0;
                    const auto sections = data_file_type().fields;
                    for (std::size_t j = 0; j < sections.size(); ++j)
                        if (sections[j].json == k) bucket_ = j + 1;
                }
                return;
            }
            case Mode::Participant:
                part_key_ = k;
                return;
            case Mode::TextMap:
                if (k.find('\0') != std::string::npos) fail(ptr, "text without NUL characters", "a key containing \\u0000");
                map_key_ = k;
                return;
            default: return;
        }
    }

    void end_object(const std::string& ptr) override {
        Frame& f = stack_.back();
        switch (f.mode) {
            case Mode::Object: {
                if (!f.type) f.type = decide_layout("");
                complete_object(f, ptr);
                if (f.encode) pack_.rule_encoder->add(scratch_rule_);
                break;
            }
            case Mode::Participant: end_participant(ptr); break;
            case Mode::Skip:
                if (f.count > 0) {
                    --f.count;
                    return;
                }
                break;
            default: break;
        }
        stack_.pop_back();
    }

    void start_array(const std::string& ptr) override {
        if (stack_.empty()) fail(ptr, "an object", "an array");
        Frame& f = stack_.back();
        switch (f.mode) {
            case Mode::Object: {
                const Field& field = *f.field;
                switch (field.kind) {
                    case FieldKind::Texts:
                    case FieldKind::TextOrTexts:
                    case FieldKind::Objects:
                    case FieldKind::Participants: stack_.push_back({Mode::Array, nullptr, &field, f.target}); return;
                    default: fail(ptr, field_expected(field.kind), "an array");
                }
            }
            case Mode::Array: fail(ptr, element_expected(f.field->kind), "an array");
            case Mode::Participant:
                participant_value(ptr, "[...]", "an array");
                stack_.push_back({Mode::Skip, nullptr, nullptr, nullptr});
                return;
            case Mode::TextMap: fail(ptr, "a string", "an array");
            case Mode::Skip: ++f.count; return;
        }
    }

    void end_array(const std::string& ptr) override {
        Frame& f = stack_.back();
        if (f.mode == Mode::Skip && f.count > 0) {
            --f.count;
            return;
        }
        if (f.mode == Mode::Array && f.field->kind == FieldKind::Participants && f.count != 2)
            fail(ptr, "exactly two participants", std::to_string(f.count));
        stack_.pop_back();
    }

private:
    enum class Mode : std::uint8_t { Object, Array, Participant, TextMap, Skip };
    struct Frame {
        Mode mode;
        const ObjectType* type = nullptr;  // Object
        const Field* field = nullptr;      // Object: the field whose value comes next; Array: the array's field
        void* target = nullptr;            // Object: the struct; Array: the owner of the field; TextMap: the map
        std::uint64_t seen = 0;            // Object: bit i set when field i was given
        std::size_t count = 0;             // Array: elements so far; Skip: nesting depth
        bool encode = false;               // Object: an interaction rule to encode when complete
    };

    [[noreturn]] void fail(const std::string& ptr, const std::string& expected, const std::string& found) const {
        throw SchemaError(file_, ptr.empty() ? "/" : ptr, expected, found);
    }

    void push_object(const ObjectType* type, void* target) { stack_.push_back({Mode::Object, type, nullptr, target}); }

    // A single file given to load(): a bundled pack starts with "manifest" or a section.
    const ObjectType* decide_layout(const std::string& first_key) {
        if (layout_ == PackLayout::Either) {
            bool section = first_key == "manifest";
            for (const Field& f : data_file_type().fields) section = section || f.json == first_key;
            layout_ = section ? PackLayout::Bundled : PackLayout::Manifest;
        }
        return layout_ == PackLayout::Bundled ? &bundled_pack_type() : &manifest_file_type();
    }

    void scalar(const std::string& ptr, const std::string& described, const std::string& text) {
        if (stack_.empty()) fail(ptr, "an object", described);
        const Frame& f = stack_.back();
        switch (f.mode) {
            case Mode::Object: fail(ptr, field_expected(f.field->kind), described);
            case Mode::Array: fail(ptr, element_expected(f.field->kind), described);
            case Mode::Participant: participant_value(ptr, text, described.c_str()); return;
            case Mode::TextMap: fail(ptr, "a string", described);
            case Mode::Skip: return;
        }
    }

    void require_text(const Field& field, const std::string& ptr, const std::string& s) const {
        if (s.empty() && field.need == Need::Required) fail(ptr, "a non-empty string", "\"\"");
    }

    void field_string(const Field& field, void* owner, const std::string& ptr, std::string& s) {
        if (field.kind == FieldKind::Unkept) return;
        void* member = field.at(owner);
        switch (field.kind) {
            case FieldKind::Text:
                require_text(field, ptr, s);
                *static_cast<std::string*>(member) = std::move(s);
                return;
            case FieldKind::Choice:
                require_text(field, ptr, s);
                if (!s.empty() && std::find(field.choices.begin(), field.choices.end(), s) == field.choices.end())
                    bucket().add(file_, ptr, "expected one of " + join(field.choices, "|") + ", got " + in_quotes(s));
                *static_cast<std::string*>(member) = std::move(s);
                return;
            case FieldKind::Severity: {
                if (s.empty()) fail(ptr, "a non-empty string", "\"\"");
                auto severity = parse_severity(s);
                if (!severity)
                    bucket().add(file_, ptr, "expected one of contraindicated|major|moderate|minor, got " + in_quotes(s));
                *static_cast<Severity*>(member) = severity.value_or(Severity::Minor);
                return;
            }
            case FieldKind::SourceGrade:
            case FieldKind::RuleEvidence:
                if (s.empty()) fail(ptr, "a non-empty string", "\"\"");
                *static_cast<EvidenceGrade*>(member) =
                    read_grade(s, field.kind == FieldKind::SourceGrade, bucket(), file_, ptr);
                return;
            case FieldKind::CitationGrade:
                // Only a non-empty grade overrides the source's grade.
                *static_cast<EvidenceGrade*>(member) =
                    s.empty() ? kGradeFromSource : read_grade(s, true, bucket(), file_, ptr);
                return;
            case FieldKind::TextOrTexts:
                static_cast<std::vector<std::string>*>(member)->assign(1, std::move(s));
                return;
            default: fail(ptr, field_expected(field.kind), describe_string(s));
        }
    }

    void complete_object(const Frame& f, const std::string& ptr) {
        const auto fields = f.type->fields;
        // Without a format version nothing else can be judged: that is the error to report first.
        for (std::size_t i = 0; i < fields.size(); ++i)
            if (fields[i].kind == FieldKind::FormatVersion && !(f.seen & (std::uint64_t{1} << i))) {
                std::string p = ptr;
                append_pointer_token(p, fields[i].json);
                fail(p, std::string(fields[i].missing), kRequired);
            }
        for (std::size_t i = 0; i < fields.size(); ++i) {
            const Field& field = fields[i];
            const bool given = f.seen & (std::uint64_t{1} << i);
            if (!given && field.need == Need::Required) {
                std::string p = ptr;
                append_pointer_token(p, field.json);
                const bool root_manifest = f.type == &bundled_pack_type() && i == 0;
                fail(p, field.missing.empty() ? field_expected(field.kind) : std::string(field.missing),
                     root_manifest ? "nothing" : kRequired);
            }
            switch (field.kind) {
                case FieldKind::CitationGrade:
                    if (!given) *static_cast<EvidenceGrade*>(field.at(f.target)) = kGradeFromSource;
                    break;
                case FieldKind::Choice:
                    if (!field.default_value.empty()) {
                        auto& text = *static_cast<std::string*>(field.at(f.target));
                        if (text.empty()) text = field.default_value;
                    }
                    break;
                case FieldKind::Objects:
                    if (field.need == Need::Cited && field.type->count(field.at(f.target)) == 0) {
                        std::string p = ptr;
                        append_pointer_token(p, field.json);
                        bucket().add(file_, p, kNoSource);
                    }
                    break;
                default: break;
            }
        }
        if (f.type->finish) f.type->finish(f.target, FinishContext{file_, ptr, bucket(), f.seen});
    }

    // --- participants: {"substance": id}, {"class": id} or {"product": id} ---------------------
    void start_participant(Participant* target) {
        participant_ = target;
        part_keys_.clear();
        part_known_ = 0;
        stack_.push_back({Mode::Participant, nullptr, nullptr, target});
    }

    // `described` is null for a string value, else how the value reads in a message.
    void participant_value(const std::string& ptr, std::string text, const char* described) {
        const bool is_string = described == nullptr;
        EntityKind kind{};
        const bool known = part_key_ == "substance"   ? (kind = EntityKind::Substance, true)
                           : part_key_ == "class"     ? (kind = EntityKind::Class, true)
                           : part_key_ == "product"   ? (kind = EntityKind::Product, true)
                                                      : false;
        if (known) {
            if (!is_string) fail(ptr, "a string", described);
            if (text.empty()) fail(ptr, "a non-empty string", "\"\"");
            participant_->kind = kind;
            participant_->id = text;
            ++part_known_;
        }
        part_keys_.push_back({part_key_, std::move(text), is_string});
    }

    void end_participant(const std::string& ptr) {
        if (part_known_ == 1 && part_keys_.size() == 1) return;
        // The object as nlohmann would print it (keys sorted), for the message.
        std::sort(part_keys_.begin(), part_keys_.end(),
                  [](const PartKey& a, const PartKey& b) { return a.key < b.key; });
        std::string shown = "{";
        for (const auto& k : part_keys_)
            shown += (shown.size() > 1 ? "," : "") + nlohmann::json(k.key).dump() + ":" +
                     (k.is_string ? nlohmann::json(k.value).dump() : k.value);
        fail(ptr, kOneParticipant, shown + "}");
    }

    PackData& pack_;
    Problems& problems_;
    // 0: manifest, 1 + i: section i (sized from the table, so a new section gets its bucket).
    std::vector<Problems> buckets_ = std::vector<Problems>(data_file_type().fields.size() + 1);
    std::size_t bucket_ = 0;
    Problems& bucket() { return buckets_[bucket_]; }
    const std::string& file_;
    std::uint32_t file_index_;
    PackLayout layout_;
    bool data_file_;
    std::vector<Frame> stack_;
    std::string map_key_;
    Participant* participant_ = nullptr;
    Participant extra_;  // a third participant or more: read for its errors, then rejected
    InteractionRule scratch_rule_;
    std::string part_key_;
    struct PartKey {
        std::string key;
        std::string value;  // as written for a non-string; rendered only for a message
        bool is_string;
    };
    std::vector<PartKey> part_keys_;
    int part_known_ = 0;
};

// After a shape error, keeps watching for an unsupported format version: a pack of another
// version is not expected to have this version's shape, so that is the error to report.
class VersionWatcher final : public JsonConsumer {
public:
    VersionWatcher(const std::string& file, PackLayout layout) : file_(file), layout_(layout) {}
    void integer(const std::string& ptr, long long v) override {
        const bool at_version = (layout_ != PackLayout::Bundled && ptr == "/format_version") ||
                                (layout_ != PackLayout::Manifest && ptr == "/manifest/format_version");
        if (at_version && v != kFormatVersion) throw UnsupportedFormatVersion(file_, v, kFormatVersion);
    }
    void null(const std::string&) override {}
    void boolean(const std::string&, bool) override {}
    void number(const std::string&, double, const std::string&) override {}
    void string(const std::string&, std::string&) override {}
    void start_object(const std::string&) override {}
    void key(const std::string&, std::string&) override {}
    void end_object(const std::string&) override {}
    void start_array(const std::string&) override {}
    void end_array(const std::string&) override {}

private:
    const std::string& file_;
    PackLayout layout_;
};

// A file read from its start each time (a second time only to explain malformed JSON).
OpenChunks open_chunks(const PackFile& file, const LoadOptions& options) {
    return [&file, &options]() -> ReadChunk {
        auto reader = std::make_shared<PackFileReader>(file.path, file.name, options.max_file_bytes);
        return [reader](char* b, std::size_t n) { return reader->read(b, n); };
    };
}

// Reads one document; returns whether it was a bundled pack.
bool read_document(PackData& pack, Problems& problems, const PackFile& file, PackLayout layout, bool data_file,
                   const LoadOptions& options) {
    const auto index = static_cast<std::uint32_t>(pack.origin_files.size());
    pack.origin_files.push_back(file.name);
    PackConsumer consumer(pack, problems, file.name, index, layout, data_file);
    VersionWatcher watcher(file.name, layout);
    JsonConsumer* const after_error = data_file ? nullptr : &watcher;
    if (file.path.empty()) {
        stream_json(file.name, file.text, options.max_file_bytes, consumer, after_error);
    } else {
        stream_json_chunks(file.name, open_chunks(file, options), consumer, after_error);
    }
    consumer.flush_problems();
    return consumer.bundled();
}

void check_syntax(const PackFile& file, const LoadOptions& options) {
    if (file.path.empty()) {
        check_json_syntax(file.name, file.text);
        return;
    }
    check_json_syntax_chunks(file.name, open_chunks(file, options));
}

}  // namespace

PackData load_pack(const PackFile& first, PackLayout layout, const std::function<PackFile(const std::string&)>& read,
                   const LoadOptions& options, bool encode_rules) {
    PackData pack;
    Problems problems;
    if (encode_rules) pack.rule_encoder = std::make_shared<RuleEncoder>();
    const bool bundled = read_document(pack, problems, first, layout, false, options);
    if (bundled) {
        pack.files.clear();  // a bundled pack may list them; it needs none
    } else {
        // A shape error in one data file is held while the later files are still checked for
        // syntax: malformed JSON anywhere is reported first, as when every file was parsed first.
        std::exception_ptr held;
        for (const auto& relative : pack.files) {
            const PackFile file = read(relative);
            if (held) {
                check_syntax(file, options);
                continue;
            }
            try {
                read_document(pack, problems, file, PackLayout::Manifest, true, options);
            } catch (const ParseError&) {
                throw;
            } catch (const DataError&) {
                held = std::current_exception();
            }
        }
        if (held) std::rethrow_exception(held);
    }
    if (pack.rule_encoder) {
        pack.read_rules = pack.rule_encoder->finish(first.name);
        pack.rule_encoder.reset();
    }
    check_pack(pack, problems, first.name);
    // Origins only serve messages about a pack being loaded; a loaded pack needs none.
    for (auto* origins : {&pack.source_origins, &pack.substance_origins, &pack.product_origins, &pack.class_origins,
                          &pack.condition_origins, &pack.interaction_origins, &pack.contraindication_origins,
                          &pack.cumulative_origins, &pack.treatment_origins, &pack.profile_origins})
        std::vector<Origin>().swap(*origins);
    return pack;
}

}  // namespace rxcaution::detail
