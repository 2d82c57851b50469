// to_json: the bundled document of a pack, written from the structs through the field tables
// (no JSON tree: a 130,000-rule pack would need several hundred megabytes for one). Loading the
// result gives the same knowledge base; every citation carries its grade explicitly.

#include "detail/pack_fields.hpp"

#include <charconv>

#include <cstdio>
#include <map>
#include <optional>

namespace rxcaution::detail {

namespace {

class Writer {
public:
    explicit Writer(std::size_t reserve) { out_.reserve(reserve); }

    void text(std::string_view s) {
        out_ += '"';
        for (char ch : s) {
            const auto c = static_cast<unsigned char>(ch);
            switch (c) {
                case '"': out_ += "\\\""; break;
                case '\\': out_ += "\\\\"; break;
                case '\n': out_ += "\\n"; break;
                case '\r': out_ += "\\r"; break;
                case '\t': out_ += "\\t"; break;
                case '\b': out_ += "\\b"; break;
                case '\f': out_ += "\\f"; break;
                default:
                    if (c < 0x20) {
                        char buf[8];
                        std::snprintf(buf, sizeof buf, "\\u%04x", c);
                        out_ += buf;
                    } else {
                        out_ += ch;  // pack strings are valid UTF-8: the reader checked them
                    }
            }
        }
        out_ += '"';
    }
    void key(std::string_view k) {
        comma();
        text(k);
        out_ += ':';
    }
    void comma() {
        if (need_comma_) out_ += ',';
        need_comma_ = false;
    }
    void open(char c) {
        out_ += c;
        need_comma_ = false;
    }
    void close(char c) {
        out_ += c;
        need_comma_ = true;
    }
    void value(std::string_view s) {
        comma();
        text(s);
        need_comma_ = true;
    }
    void raw(std::string_view s) {
        comma();
        out_ += s;
        need_comma_ = true;
    }
    std::size_t size() const { return out_.size(); }
    void truncate(std::size_t n, bool need_comma) {
        out_.resize(n);
        need_comma_ = need_comma;
    }
    bool need_comma() const { return need_comma_; }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
    bool need_comma_ = false;
};

void write_object(Writer& w, const ObjectType& type, const void* object);

void write_participant(Writer& w, const Participant& p) {
    w.comma();
    w.open('{');
    w.key(to_string(p.kind));
    w.value(p.id);
    w.close('}');
}

void write_field(Writer& w, const Field& field, const void* owner) {
    if (field.kind == FieldKind::Unkept) return;  // nothing was kept to write
    const void* member = field.at(const_cast<void*>(owner));
    const bool required = field.need == Need::Required;
    switch (field.kind) {
        case FieldKind::Text:
        case FieldKind::Choice: {
            const auto& s = *static_cast<const std::string*>(member);
            if (s.empty() && !required) return;
            w.key(field.json);
            w.value(s);
            return;
        }
        case FieldKind::Texts:
        case FieldKind::TextOrTexts: {
            const auto& v = *static_cast<const std::vector<std::string>*>(member);
            if (v.empty() && !required) return;
            w.key(field.json);
            w.open('[');
            for (const auto& s : v) w.value(s);
            w.close(']');
            return;
        }
        case FieldKind::TextMap: {
            const auto& m = *static_cast<const std::map<std::string, std::string>*>(member);
            if (m.empty()) return;
            w.key(field.json);
            w.open('{');
            for (const auto& [k, v] : m) {
                w.key(k);
                w.value(v);
            }
            w.close('}');
            return;
        }
        case FieldKind::FormatVersion:
        case FieldKind::Count:
            w.key(field.json);
            w.raw(std::to_string(*static_cast<const int*>(member)));
            return;
        case FieldKind::Amount: {
            // Shortest text that reads back as the same double (a dose like 40 or 2.5 stays as written).
            char buf[32];
            const auto res = std::to_chars(buf, buf + sizeof buf, *static_cast<const double*>(member));
            w.key(field.json);
            w.raw(std::string(buf, res.ptr));
            return;
        }
        case FieldKind::Severity:
            w.key(field.json);
            w.value(to_string(*static_cast<const Severity*>(member)));
            return;
        case FieldKind::SourceGrade:
        case FieldKind::RuleEvidence:
        case FieldKind::CitationGrade:
            w.key(field.json);
            w.value(to_string(*static_cast<const EvidenceGrade*>(member)));
            return;
        case FieldKind::Object: {
            // An optional object with nothing in it (identifiers) is left out.
            const std::size_t mark = w.size();
            const bool comma = w.need_comma();
            w.key(field.json);
            const std::size_t start = w.size();
            write_object(w, *field.type, member);
            if (!required && w.size() == start + 2) w.truncate(mark, comma);
            return;
        }
        case FieldKind::OptionalObject:
            if (const void* value = field.type->get(member)) {
                w.key(field.json);
                write_object(w, *field.type, value);
            }
            return;
        case FieldKind::Objects: {
            const std::size_t n = field.type->count(member);
            if (n == 0 && field.need == Need::Optional) return;
            w.key(field.json);
            w.open('[');
            for (std::size_t i = 0; i < n; ++i)
                write_object(w, *field.type, field.type->element(const_cast<void*>(member), i));
            w.close(']');
            return;
        }
        case FieldKind::Participant:
            w.key(field.json);
            write_participant(w, *static_cast<const Participant*>(member));
            return;
        case FieldKind::Participants:
            w.key(field.json);
            w.open('[');
            write_participant(w, *static_cast<const Participant*>(member));
            write_participant(w, *static_cast<const Participant*>(field.at2(const_cast<void*>(owner))));
            w.close(']');
            return;
        case FieldKind::Unkept: return;
    }
}

void write_object(Writer& w, const ObjectType& type, const void* object) {
    w.comma();
    w.open('{');
    for (const Field& field : type.fields) write_field(w, field, object);
    w.close('}');
}

}  // namespace

std::string write_bundled_json(const PackData& pack) { return write_bundled_json(pack, pack.interactions.size(), {}); }

std::string write_bundled_json(const PackData& pack, std::size_t interactions,
                               const std::function<void(std::size_t, InteractionRule&)>& decode) {
    decode_pending(pack);
    std::size_t estimate = 1024 + interactions * 400 + pack.substances.size() * 200;
    Writer w(estimate);
    PackData& mutable_pack = const_cast<PackData&>(pack);  // the tables' accessors are not const; nothing is written
    const ObjectType& root = bundled_pack_type();
    w.open('{');
    for (const Field& field : root.fields) {
        if (field.kind == FieldKind::Object) {  // the manifest, without `files`
            w.key(field.json);
            w.open('{');
            for (const Field& f : field.type->fields)
                if (f.json != "files") write_field(w, f, &mutable_pack);
            w.close('}');
            continue;
        }
        if (decode && field.json == "interactions") {
            // Encoded rules: one decoded at a time into a scratch struct, never all at once.
            if (interactions == 0) continue;
            w.key(field.json);
            w.open('[');
            InteractionRule rule;
            for (std::size_t r = 0; r < interactions; ++r) {
                rule = InteractionRule{};
                decode(r, rule);
                write_object(w, *field.type, &rule);
            }
            w.close(']');
            continue;
        }
        if (field.type->count(field.at(&mutable_pack)) > 0) write_field(w, field, &mutable_pack);
    }
    w.close('}');
    return w.take();
}

}  // namespace rxcaution::detail
