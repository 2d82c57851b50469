// Plain-text rendering for people: severity first, then what to do, then why.

#include "detail/json_report.hpp"

#include <sstream>

namespace rxcaution {

namespace {
std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}
}  // namespace

std::string to_text(const Report& report) {
    std::ostringstream out;
    out << "rxcaution check - pack " << report.pack_name << " " << report.pack_version << "\n";
    out << "Reference software, not medical advice.\n\n";
    out << "Medications:\n";
    for (const auto& r : report.inputs) {
        if (r.resolved) {
            out << "  " << r.input << " -> " << r.name << " (" << to_string(r.kind);
            if (r.kind == EntityKind::Product) {
                out << ": ";
                for (std::size_t k = 0; k < r.ingredients.size(); ++k) out << (k ? " + " : "") << r.ingredients[k];
            }
            out << ")\n";
        } else {
            out << "  " << r.input << " -> NOT CHECKED: unknown medication";
            if (!r.suggestions.empty()) {
                out << "; did you mean ";
                for (std::size_t k = 0; k < r.suggestions.size(); ++k) out << (k ? ", " : "") << r.suggestions[k];
                out << "?";
            }
            out << "\n";
        }
    }
    if (!report.conditions.empty()) {
        out << "Conditions:\n";
        for (const auto& c : report.conditions) {
            if (c.resolved) out << "  " << c.input << " -> " << c.name << "\n";
            else {
                out << "  " << c.input << " -> NOT CHECKED: unknown condition";
                if (!c.suggestions.empty()) {
                    out << "; did you mean ";
                    for (std::size_t k = 0; k < c.suggestions.size(); ++k) out << (k ? ", " : "") << c.suggestions[k];
                    out << "?";
                }
                out << "\n";
            }
        }
    }
    out << "\n";
    if (report.warnings.empty()) {
        out << "No warning found in this pack for the inputs that were checked.\n"
               "This does not mean the combination is safe.\n";
    } else {
        out << report.warnings.size() << (report.warnings.size() == 1 ? " warning" : " warnings") << " (highest: "
            << upper(to_string(*report.max_severity)) << ")\n";
        std::size_t k = 0;
        for (const auto& w : report.warnings) {
            out << "\n" << ++k << ". " << upper(to_string(w.severity)) << " [" << to_string(w.kind) << "] " << w.summary
                << "\n";
            out << "   Do: " << w.management << "\n";
            out << "   Effect: " << w.effect << "\n";
            if (!w.mechanism.empty()) out << "   Mechanism: " << w.mechanism << "\n";
            out << "   Evidence: " << to_string(w.evidence);
            if (!w.seriousness.empty()) out << " (label placement: " << w.seriousness << ")";
            out << "\n";
            if (!w.disagreement.empty()) out << "   Sources disagree: " << w.disagreement << "\n";
            out << "   Why:\n";
            for (const auto& step : w.explanation) out << "     - " << step << "\n";
            if (!w.sources.empty()) {
                out << "   Sources:\n";
                for (const auto& s : w.sources) {
                    out << "     - " << s.title;
                    if (!s.section.empty()) out << ", " << s.section;
                    out << " [" << to_string(s.grade) << "]";
                    if (!s.url.empty()) out << " " << s.url;
                    out << "\n";
                }
            }
        }
    }
    const auto unresolved = report.unresolved();
    if (!unresolved.empty()) {
        out << "\nWARNING: " << unresolved.size() << " medication" << (unresolved.size() == 1 ? " was" : "s were")
            << " NOT CHECKED: ";
        for (std::size_t k = 0; k < unresolved.size(); ++k) out << (k ? ", " : "") << "'" << unresolved[k] << "'";
        out << ". Their interactions are unknown.\n";
    }
    return out.str();
}

}  // namespace rxcaution
