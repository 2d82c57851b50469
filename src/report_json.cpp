// The documented JSON contract of a report (docs/json-output.md). Field names and order are part
// of the contract: add fields, never rename them.
//
// Written straight into a string rather than through a JSON DOM: a report is mostly long text, and
// building then dumping a DOM cost seven times the check itself.

#include "detail/json_report.hpp"

#include <cstdio>

namespace rxcaution::detail {

namespace {

class Writer {
public:
    explicit Writer(int indent) : indent_(indent) { out_.reserve(16384); }

    void begin_object() { open('{'); }
    void end_object() { close('}'); }
    void begin_array() { open('['); }
    void end_array() { close(']'); }

    void key(std::string_view k) {
        separate();
        string_literal(k);
        out_ += indent_ >= 0 ? ": " : ":";
        after_key_ = true;
    }
    void value(std::string_view s) {
        separate();
        string_literal(s);
    }
    void nullable(std::string_view s) {
        if (s.empty()) null();
        else value(s);
    }
    void null() {
        separate();
        out_ += "null";
    }
    void number(std::size_t n) {
        separate();
        out_ += std::to_string(n);
    }
    void boolean(bool b) {
        separate();
        out_ += b ? "true" : "false";
    }
    void strings(const std::vector<std::string>& items) {
        begin_array();
        for (const auto& s : items) value(s);
        end_array();
    }

    std::string take() { return std::move(out_); }

private:
    void open(char c) {
        separate();
        out_ += c;
        first_.push_back(true);
    }
    void close(char c) {
        const bool empty = first_.back();
        first_.pop_back();
        if (!empty) newline();
        out_ += c;
    }
    // Emits the comma and line break that go before a value, unless it follows a key.
    void separate() {
        if (after_key_) {
            after_key_ = false;
            return;
        }
        if (first_.empty()) return;
        if (!first_.back()) out_ += ',';
        first_.back() = false;
        newline();
    }
    void newline() {
        if (indent_ < 0) return;
        out_ += '\n';
        out_.append(first_.size() * static_cast<std::size_t>(indent_), ' ');
    }
    // Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid.
    static std::size_t utf8_length(std::string_view s, std::size_t i) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        unsigned int cp = 0;
        if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1Fu; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0Fu; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07u; }
        else return 0;
        if (i + n > s.size()) return 0;
        for (std::size_t k = 1; k < n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (cc & 0x3Fu);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        return n;
    }

    void string_literal(std::string_view s) {
        out_ += '"';
        std::size_t i = 0;
        while (i < s.size()) {
            // Copy the run of characters that need no escaping in one go: most text is plain.
            std::size_t run = i;
            while (run < s.size()) {
                const auto c = static_cast<unsigned char>(s[run]);
                if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
                ++run;
            }
            out_.append(s.data() + i, run - i);
            i = run;
            if (i == s.size()) break;
            const auto c = static_cast<unsigned char>(s[i]);
            if (c >= 0x80) {
                // Callers' strings may not be UTF-8: replace what is invalid, as JSON requires.
                const std::size_t n = utf8_length(s, i);
                if (n == 0) {
                    out_ += "\ufffd";
                    ++i;
                } else {
                    out_.append(s.substr(i, n));
                    i += n;
                }
                continue;
            }
            switch (c) {
                case '"': out_ += "\\\""; break;
                case '\\': out_ += "\\\\"; break;
                case '\n': out_ += "\\n"; break;
                case '\r': out_ += "\\r"; break;
                case '\t': out_ += "\\t"; break;
                case '\b': out_ += "\\b"; break;
                case '\f': out_ += "\\f"; break;
                default: {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out_ += buf;
                }
            }
            ++i;
        }
        out_ += '"';
    }
    std::string out_;
    std::vector<bool> first_;
    int indent_;
    bool after_key_ = false;
};

// Written straight from the report's data and the pack: no WarningDetails, no copies of the
// rule texts (the fields and their order are those of WarningDetails).
void write_warning(Writer& w, const Renderer& r, const Warning& x, std::string& scratch, std::size_t group, bool lead) {
    w.begin_object();
    w.key("id"); w.value(r.id(x));
    w.key("kind"); w.value(to_string(x.kind));
    w.key("severity"); w.value(to_string(x.severity));
    w.key("rule"); w.value(r.rule_id(x));
    w.key("inputs");
    w.begin_array();
    if (x.kind == WarningKind::Cumulative) {
        for (std::size_t i : r.input_indexes(x)) w.value(r.input_text(static_cast<std::uint32_t>(i)));
    } else {
        w.value(r.input_text(x.input_a));
        if (x.input_b != kNone) w.value(r.input_text(x.input_b));
    }
    w.end_array();
    w.key("substances");
    w.begin_array();
    r.for_each_substance(x, [&](std::string_view id) { w.value(id); });
    w.end_array();
    w.key("condition"); w.nullable(r.condition(x));
    w.key("summary"); w.value(r.summary(x));
    w.key("effect"); w.value(r.effect_view(x, scratch));
    w.key("mechanism"); w.nullable(r.mechanism(x));
    w.key("management"); w.value(r.management_view(x, scratch));
    w.key("evidence"); w.value(to_string(x.evidence));
    w.key("seriousness"); w.nullable(r.seriousness(x));
    w.key("disagreement"); w.nullable(r.disagreement(x));
    w.key("sources");
    w.begin_array();
    if (const auto* cits = r.citations(x))
        for (const auto& c : *cits) {
            const Source& s = r.source_of(c);
            w.begin_object();
            w.key("id"); w.value(s.id);
            w.key("title"); w.value(s.title);
            w.key("section"); w.nullable(c.section);
            w.key("url"); w.nullable(s.url);
            w.key("grade"); w.value(to_string(c.grade));
            w.end_object();
        }
    w.end_array();
    w.key("explanation"); w.strings(r.explanation(x));
    w.key("group"); w.number(group);
    w.key("group_lead"); w.boolean(lead);
    if (r.layered()) {
        // Only for layered knowledge bases, so that a single pack's report keeps its exact bytes.
        w.key("pack"); w.nullable(r.pack_of(x));
        w.key("annotations");
        w.begin_array();
        for (const auto& a : r.annotations(x)) {
            w.begin_object();
            w.key("pack"); w.value(a.pack);
            w.key("rule"); w.value(a.rule);
            w.key("severity"); w.value(to_string(a.severity));
            w.key("agrees"); w.boolean(a.agrees);
            w.key("text"); w.value(a.text);
            w.end_object();
        }
        w.end_array();
    }
    w.end_object();
}

}  // namespace

std::string report_json_text(const Report& report, int indent) {
    Writer w(indent);
    w.begin_object();
    w.key("pack");
    w.begin_object();
    w.key("name"); w.value(report.pack_name());
    w.key("version"); w.value(report.pack_version());
    if (report.packs().size() > 1) {
        w.key("layers");
        w.begin_array();
        for (const auto& l : report.packs()) {
            w.begin_object();
            w.key("name"); w.value(l.name);
            w.key("version"); w.value(l.version);
            w.key("licence"); w.value(l.licence);
            w.key("origin"); w.value(l.origin);
            w.end_object();
        }
        w.end_array();
    }
    w.end_object();
    w.key("inputs");
    w.begin_array();
    for (const auto& r : report.inputs()) {
        w.begin_object();
        w.key("input"); w.value(r.input);
        w.key("status"); w.value(r.resolved ? "resolved" : "unresolved");
        w.key("id"); w.nullable(r.id);
        w.key("name"); w.nullable(r.name);
        w.key("kind");
        if (r.resolved) w.value(to_string(r.kind));
        else w.null();
        w.key("matched_by"); w.nullable(r.matched_by);
        w.key("ingredients"); w.strings(r.ingredients);
        w.key("not_checked"); w.strings(r.not_checked);
        w.key("suggestions"); w.strings(r.suggestions);
        w.key("duplicate_of");
        if (r.duplicate_of) w.number(*r.duplicate_of);
        else w.null();
        w.key("coverage"); w.value(to_string(r.coverage));
        w.key("drugbank"); w.nullable(r.drugbank);
        w.key("vocabulary_only"); w.boolean(r.vocabulary_only);
        w.key("ambiguous"); w.strings(r.ambiguous);
        w.end_object();
    }
    w.end_array();
    w.key("conditions");
    w.begin_array();
    for (const auto& c : report.conditions()) {
        w.begin_object();
        w.key("input"); w.value(c.input);
        w.key("status"); w.value(c.resolved ? "resolved" : "unresolved");
        w.key("id"); w.nullable(c.id);
        w.key("name"); w.nullable(c.name);
        w.key("suggestions"); w.strings(c.suggestions);
        w.key("matched_by"); w.nullable(c.matched_by);
        w.end_object();
    }
    w.end_array();
    w.key("warnings");
    w.begin_array();
    const Renderer render(report);
    std::string scratch;
    const auto& warnings = report.warnings();
    const auto& groups = report.groups();
    for (std::size_t k = 0; k < warnings.size(); ++k) {
        const std::size_t g = report.group_of(k);
        write_warning(w, render, warnings[k], scratch, g, groups[g].lead == k);
    }
    w.end_array();
    w.key("max_severity");
    if (report.max_severity()) w.value(to_string(*report.max_severity()));
    else w.null();
    w.key("complete"); w.boolean(report.complete());
    w.key("unresolved"); w.strings(report.unresolved());
    w.key("disclaimer"); w.value(kDisclaimer);
    w.end_object();
    return w.take();
}

std::string dump(const nlohmann::ordered_json& j, int indent) {
    return j.dump(indent < 0 ? -1 : indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace rxcaution::detail

namespace rxcaution {

std::string to_json(const Report& report, int indent) { return detail::report_json_text(report, indent); }

}  // namespace rxcaution
