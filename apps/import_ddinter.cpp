// The DDInter importer (see import_ddinter.hpp). DDInter's CSVs are CC BY-NC-SA 4.0: they are read
// at run time and never become part of this repository.

#include "import_ddinter.hpp"

#include <rxcaution/errors.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <tuple>
#include <array>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace rxcaution::importer {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

constexpr const char* kLicence = "CC BY-NC-SA 4.0 (derived from DDInter; non-commercial use only; share alike)";
// The CSVs give a Level only. Said once per rule, because a warning must not look as if the
// source had described the interaction.
constexpr const char* kNotGiven = "Not given by DDInter's downloadable data, which rates severity only; see DDInter.";
constexpr std::size_t kExamples = 5;

const std::array<const char*, 5> kColumns = {"DDInterID_A", "Drug_A", "DDInterID_B", "Drug_B", "Level"};

[[noreturn]] void fail(const std::string& where, const std::string& what) { throw DataError(where, where + ": " + what); }

// Level -> rank (0 Unknown, no severity); -1 for anything else.
int level_rank(const std::string& level) {
    if (level == "Unknown") return 0;
    if (level == "Minor") return 1;
    if (level == "Moderate") return 2;
    if (level == "Major") return 3;
    return -1;
}
const char* level_name(int rank) {
    static const char* names[] = {"Unknown", "Minor", "Moderate", "Major"};
    return names[rank];
}

// Offset of the first byte that is not valid UTF-8, or npos.
std::size_t invalid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t n = 0;
        unsigned cp = 0;
        if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1Fu; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0Fu; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07u; }
        else return i;
        if (i + n > s.size()) return i;
        for (std::size_t k = 1; k < n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (cc & 0x3Fu);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return i;
        i += n;
    }
    return std::string_view::npos;
}

std::string read_file(const fs::path& path, std::size_t max_bytes) {
    const std::string display = path.generic_string();
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (!fs::exists(status)) fail(display, "no such file");
    if (!fs::is_regular_file(status)) fail(display, "not a regular file");
    const auto size = fs::file_size(path, ec);
    if (ec) fail(display, "cannot read (" + ec.message() + ")");
    if (size > max_bytes)
        fail(display, "file is " + std::to_string(size) + " bytes, over the limit of " + std::to_string(max_bytes) +
                          " bytes (--max-file-bytes)");
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(display, "cannot open");
    std::string text(static_cast<std::size_t>(size), '\0');
    in.read(text.data(), static_cast<std::streamsize>(size));
    if (static_cast<std::uintmax_t>(in.gcount()) != size) fail(display, "cannot read (file changed while read)");
    return text;
}

// RFC 4180 records: fields may be quoted ("Thyroid, porcine"), quotes doubled inside; LF or CRLF.
class CsvReader {
public:
    CsvReader(std::string text, std::string display) : text_(std::move(text)), display_(std::move(display)) {
        if (text_.rfind("\xEF\xBB\xBF", 0) == 0) pos_ = 3;  // a byte-order mark is not part of the header
    }
    // The next record, or false at the end; `line` is the line it starts on.
    bool next(std::vector<std::string>& fields, std::size_t& line) {
        fields.clear();
        if (pos_ >= text_.size()) return false;
        line = line_;
        std::string field;
        bool quoted = false, was_quoted = false;
        while (pos_ < text_.size()) {
            const char c = text_[pos_++];
            if (quoted) {
                if (c == '"') {
                    if (pos_ < text_.size() && text_[pos_] == '"') {
                        field += '"';
                        ++pos_;
                    } else {
                        quoted = false;
                    }
                } else {
                    if (c == '\n') ++line_;
                    field += c;
                }
                continue;
            }
            if (c == '"' && field.empty() && !was_quoted) {
                quoted = was_quoted = true;
            } else if (c == ',') {
                fields.push_back(std::move(field));
                field.clear();
                was_quoted = false;
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
                ++line_;
                fields.push_back(std::move(field));
                return true;
            } else if (c == '"') {
                fail(where(line_), "a quote inside an unquoted field");
            } else {
                field += c;
            }
        }
        if (quoted) fail(where(line), "a quoted field is not closed before the end of the file");
        fields.push_back(std::move(field));
        return true;
    }
    [[nodiscard]] std::string where(std::size_t line) const { return display_ + ":" + std::to_string(line); }

private:
    std::string text_;
    std::string display_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;
};

struct Pair {
    int rank;
    std::string where;  // where the kept Level was read
};

struct Drug {
    std::string name;
    std::string where;  // first row naming it
    bool rated = false;
};

std::uint32_t id_number(const std::string& id, const std::string& where) {
    constexpr std::string_view prefix = "DDInter";
    if (id.size() <= prefix.size() || id.size() > prefix.size() + 9 || id.compare(0, prefix.size(), prefix) != 0 ||
        !std::all_of(id.begin() + static_cast<std::ptrdiff_t>(prefix.size()), id.end(),
                     [](char c) { return c >= '0' && c <= '9'; }))
        fail(where, "DDInter id \"" + id + "\" is not DDInter followed by a number");
    return static_cast<std::uint32_t>(std::stoul(id.substr(prefix.size())));
}

std::vector<fs::path> input_files(const std::vector<fs::path>& inputs) {
    std::vector<fs::path> files;
    for (const auto& in : inputs) {
        std::error_code ec;
        if (fs::is_directory(in, ec)) {
            std::vector<fs::path> found;
            for (const auto& e : fs::directory_iterator(in, ec)) {
                const std::string name = e.path().filename().string();
                if (name.rfind("ddinter_downloads_code_", 0) == 0 && e.path().extension() == ".csv") found.push_back(e.path());
            }
            if (found.empty())
                fail(in.generic_string(), "no ddinter_downloads_code_*.csv file in this directory");
            std::sort(found.begin(), found.end());
            files.insert(files.end(), found.begin(), found.end());
        } else {
            files.push_back(in);
        }
    }
    if (files.empty()) throw DataError("<ddinter>", "import ddinter: give the DDInter directory or CSV files");
    return files;
}

// Names as the knowledge base compares them (case, spacing and punctuation ignored).
std::string name_key(std::string_view text) {
    std::string out;
    bool space = false;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c >= 0x80) {
            if (space && !out.empty()) out += ' ';
            space = false;
            out += static_cast<char>(std::tolower(c));
        } else if (c != '\'') {
            space = true;
        }
    }
    return out;
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

std::vector<std::string> DDInterSummary::lines() const {
    std::vector<std::string> out;
    std::string names;
    for (const auto& f : files) names += (names.empty() ? "" : ", ") + f;
    out.push_back("DDInter files: " + names);
    out.push_back("rows: " + std::to_string(rows) + "; unique unordered pairs: " + std::to_string(pairs) +
                  " (rows repeating a pair with the same Level, one per ATC file: " + std::to_string(repeated_rows) + ")");
    std::string lv;
    for (const char* l : {"Major", "Moderate", "Minor", "Unknown"}) {
        auto it = levels.find(l);
        lv += (lv.empty() ? "" : ", ") + std::string(l) + " " + std::to_string(it == levels.end() ? 0 : it->second);
    }
    out.push_back("pairs by Level: " + lv);
    auto unknown = levels.find("Unknown");
    out.push_back("Unknown-level pairs left out (DDInter gives no severity; never rated minor): " +
                  std::to_string(unknown == levels.end() ? 0 : unknown->second));
    out.push_back("pairs given two different Levels: " + std::to_string(conflicting_pairs) + " (the most severe kept)");
    for (const auto& c : conflicts) out.push_back("  " + c);
    out.push_back("drugs: " + std::to_string(drugs) + "; with only Unknown pairs (left out): " +
                  std::to_string(drugs_unknown_only));
    std::size_t joined_total = 0;
    std::string how;
    for (const auto& [k, v] : joined) {
        joined_total += v;
        how += (how.empty() ? "" : ", ") + k + " " + std::to_string(v);
    }
    out.push_back("joined to substances of the join pack: " + std::to_string(joined_total) + (how.empty() ? "" : " (by " + how + ")") +
                  "; ambiguous (kept as substances of their own): " + std::to_string(ambiguous) +
                  "; new: " + std::to_string(added));
    for (const auto& a : ambiguous_examples) out.push_back("  " + a);
    if (renamed) out.push_back("names shared by two DDInter drugs (the later one carries its DDInter id): " + std::to_string(renamed));
    out.push_back("pack: " + std::to_string(substances) + " substances, " + std::to_string(rules) +
                  " interaction rules, 1 source (DDInter, CC BY-NC-SA 4.0)");
    return out;
}

std::string import_ddinter(const DDInterOptions& options, const KnowledgeBase& join, DDInterSummary& summary) {
    summary = {};
    std::map<std::uint32_t, Drug> drugs;
    std::map<std::uint64_t, Pair> pairs;
    std::vector<std::string> file_names;
    for (const auto& path : input_files(options.inputs)) {
        const std::string display = path.generic_string();
        std::string text = read_file(path, options.max_file_bytes);
        // Checked once for the whole file, then located: the error names the line.
        if (const std::size_t bad = invalid_utf8(text); bad != std::string_view::npos) {
            const std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n'));
            char byte[8];
            std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(text[bad]));
            fail(display + ":" + std::to_string(line), std::string("not UTF-8 text (byte ") + byte + ")");
        }
        summary.files.push_back(path.filename().string());
        CsvReader csv(std::move(text), display);
        std::vector<std::string> fields;
        std::size_t line = 0;
        if (!csv.next(fields, line)) fail(display, "empty file (expected the header " + std::string("DDInterID_A,Drug_A,DDInterID_B,Drug_B,Level)"));
        std::array<std::size_t, 5> col{};
        std::string missing;
        for (std::size_t k = 0; k < kColumns.size(); ++k) {
            auto it = std::find(fields.begin(), fields.end(), kColumns[k]);
            if (it == fields.end()) missing += (missing.empty() ? "" : ", ") + std::string(kColumns[k]);
            else col[k] = static_cast<std::size_t>(it - fields.begin());
        }
        if (!missing.empty())
            fail(csv.where(line), "missing column(s) " + missing + " (a DDInter file starts with DDInterID_A,Drug_A,DDInterID_B,Drug_B,Level)");
        const std::size_t width = fields.size();
        while (csv.next(fields, line)) {
            if (fields.size() == 1 && fields[0].empty()) continue;  // a blank line
            const std::string where = csv.where(line);
            if (fields.size() != width)
                fail(where, std::to_string(fields.size()) + " fields, expected " + std::to_string(width) + " as in the header");
            ++summary.rows;
            const std::string& ida = fields[col[0]];
            const std::string& namea = fields[col[1]];
            const std::string& idb = fields[col[2]];
            const std::string& nameb = fields[col[3]];
            const std::string& level = fields[col[4]];
            const int rank = level_rank(level);
            if (rank < 0) fail(where, "unknown Level \"" + level + "\" (expected Major, Moderate, Minor or Unknown)");
            const std::uint32_t a = id_number(ida, where), b = id_number(idb, where);
            if (a == b) fail(where, ida + " is paired with itself");
            for (auto [id, num, name] : {std::tuple{&ida, a, &namea}, std::tuple{&idb, b, &nameb}}) {
                if (name->empty()) fail(where, "empty drug name for " + *id);
                auto [it, inserted] = drugs.try_emplace(num, Drug{*name, where, false});
                if (!inserted && it->second.name != *name)
                    fail(where, *id + " is named \"" + *name + "\" here but \"" + it->second.name + "\" at " + it->second.where);
            }
            const std::uint64_t key = a < b ? (std::uint64_t{a} << 32) | b : (std::uint64_t{b} << 32) | a;
            auto [it, inserted] = pairs.try_emplace(key, Pair{rank, where});
            if (inserted) continue;
            if (it->second.rank == rank) {
                ++summary.repeated_rows;
                continue;
            }
            // Two Levels for one pair: the most severe is kept (a rating beats Unknown), and the
            // decision is counted and shown.
            ++summary.conflicting_pairs;
            if (summary.conflicts.size() < kExamples)
                summary.conflicts.push_back("DDInter" + std::to_string(key >> 32) + " x DDInter" + std::to_string(key & 0xFFFFFFFFu) +
                                            ": " + level_name(it->second.rank) + " (" + it->second.where + ") vs " + level + " (" +
                                            where + "); kept " + level_name(std::max(rank, it->second.rank)));
            if (rank > it->second.rank) it->second = Pair{rank, where};
        }
    }
    summary.pairs = pairs.size();
    summary.drugs = drugs.size();
    for (const auto& [key, p] : pairs) {
        ++summary.levels[level_name(p.rank)];
        if (p.rank > 0) {
            drugs[static_cast<std::uint32_t>(key >> 32)].rated = true;
            drugs[static_cast<std::uint32_t>(key & 0xFFFFFFFFu)].rated = true;
        }
    }

    // --- substances: joined to the join pack where DDInter's name is one of a substance's names ---
    const PackInfo& join_info = join.info();
    std::unordered_map<std::uint32_t, std::string> ids;
    std::unordered_set<std::string> used_ids, used_names;
    json substances = json::array();
    for (const auto& [num, d] : drugs) {
        if (!d.rated) {
            ++summary.drugs_unknown_only;
            continue;
        }
        const std::string ddid = "DDInter" + std::to_string(num);
        const Resolution r = join.resolve(d.name);
        const bool exact = r.resolved && r.kind == EntityKind::Substance &&
                           (r.matched_by == "name" || r.matched_by == "synonym" || r.matched_by == "salt" || r.matched_by == "id");
        json s;
        if (exact && !used_ids.count(r.id)) {
            ++summary.joined[r.matched_by];
            s["id"] = r.id;
            s["name"] = d.name;
            const Substance& curated = join.substance(r.id);
            if (!curated.kind.empty() && curated.kind != "drug") s["kind"] = curated.kind;
            s["notes"] = "DDInter drug " + ddid + "; joined to " + join_info.name + " substance " + r.id + " by " + r.matched_by + ".";
        } else {
            std::string why;
            if (exact) why = "the same substance as another DDInter drug (" + r.id + ")";
            else if (r.resolved) why = std::string(to_string(r.kind)) + " " + r.id + " (matched by " + r.matched_by + ")";
            if (!why.empty()) {
                ++summary.ambiguous;
                if (summary.ambiguous_examples.size() < kExamples)
                    summary.ambiguous_examples.push_back(ddid + " \"" + d.name + "\" resolves to " + why + ": kept as ddinter-" + std::to_string(num));
            } else {
                ++summary.added;
            }
            s["id"] = "ddinter-" + std::to_string(num);
            s["name"] = d.name;
            s["notes"] = "DDInter drug " + ddid + (why.empty() ? std::string(".") : "; not joined: resolves to " + why + ".");
        }
        // Two DDInter drugs whose names differ only in case or punctuation would be one name.
        const std::string nk = name_key(s["name"].get<std::string>());
        if (used_names.count(nk)) {
            s["name"] = s["name"].get<std::string>() + " (" + ddid + ")";
            ++summary.renamed;
        }
        used_names.insert(nk);
        used_names.insert(name_key(s["id"].get<std::string>()));
        ids[num] = s["id"].get<std::string>();
        used_ids.insert(ids[num]);
        substances.push_back(std::move(s));
    }

    json interactions = json::array();
    for (const auto& [key, p] : pairs) {
        if (p.rank == 0) continue;
        const auto a = static_cast<std::uint32_t>(key >> 32), b = static_cast<std::uint32_t>(key & 0xFFFFFFFFu);
        const std::string level = level_name(p.rank);
        json r;
        r["id"] = "ddinter-" + std::to_string(a) + "-" + std::to_string(b);
        r["participants"] = json::array({json{{"substance", ids.at(a)}}, json{{"substance", ids.at(b)}}});
        r["severity"] = lower(level);
        r["summary"] = "DDInter rates this pair " + level;
        r["effect"] = kNotGiven;
        r["mechanism"] = json{{"type", "unknown"}};
        r["management"] = kNotGiven;
        r["evidence"] = "secondary";
        r["sources"] = json::array({json{{"source", "ddinter"}}});
        interactions.push_back(std::move(r));
    }
    summary.substances = substances.size();
    summary.rules = interactions.size();

    std::string files;
    for (const auto& f : summary.files) files += (files.empty() ? "" : ", ") + f;
    json pack;
    pack["manifest"] = {
        {"name", "DDInter"},
        {"version", options.pack_version},
        {"format_version", 1},
        {"licence", kLicence},
        {"description",
         "Imported by rxcaution from the DDInter CSV downloads (" + files + "): one substance per DDInter drug with a "
         "rated pair, one interaction rule per pair with DDInter's Level as severity. " +
             std::to_string(summary.levels["Unknown"]) + " pairs DDInter rates Unknown are left out (no severity). " +
             std::to_string(summary.conflicting_pairs) + " pairs given two Levels: the most severe kept. Substances joined to " +
             join_info.name + " " + join_info.version + ". Not rxcaution's curated content."}};
    pack["sources"] = json::array({json{
        {"id", "ddinter"},
        {"title", "DDInter: an online drug-drug interaction database towards improving clinical decision-making and "
                  "patient safety (CSV downloads)"},
        {"publisher", "Computational Biology & Drug Design group, Central South University (scbdd.com)"},
        {"url", "https://ddinter.scbdd.com/download/"},
        {"kind", "dataset"},
        {"grade", "secondary"},
        {"notes", "Xiong G, Yang Z, Yi J, et al. Nucleic Acids Res. 2022;50(D1):D1200-D1207. Licence CC BY-NC-SA 4.0."}}});
    pack["substances"] = std::move(substances);
    pack["interactions"] = std::move(interactions);
    return pack.dump(-1, ' ', false, json::error_handler_t::strict);
}

}  // namespace rxcaution::importer
