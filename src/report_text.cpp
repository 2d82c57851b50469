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
// One warning after its number: the headline, then what to do and why, each line indented.
void write_warning(std::ostringstream& out, const WarningDetails& w, const std::string& indent) {
    using detail::printable;
    out << upper(to_string(w.severity)) << " [" << to_string(w.kind) << "] " << printable(w.summary) << "\n";
    out << indent << "Do: " << w.management << "\n";
    out << indent << "Effect: " << w.effect << "\n";
    if (!w.mechanism.empty()) out << indent << "Mechanism: " << w.mechanism << "\n";
    out << indent << "Evidence: " << to_string(w.evidence);
    if (!w.seriousness.empty()) out << " (label placement: " << w.seriousness << ")";
    out << "\n";
    if (!w.disagreement.empty()) out << indent << "Sources disagree: " << w.disagreement << "\n";
    if (!w.pack.empty()) out << indent << "Pack: " << w.pack << "\n";
    for (const auto& a : w.annotations) out << indent << "Also rated: " << a.text << "\n";
    out << indent << "Why:\n";
    for (const auto& step : w.explanation) out << indent << "  - " << printable(step) << "\n";
    if (!w.sources.empty()) {
        out << indent << "Sources:\n";
        for (const auto& s : w.sources) {
            out << indent << "  - " << s.title;
            if (!s.section.empty()) out << ", " << s.section;
            out << " [" << to_string(s.grade) << "]";
            if (!s.url.empty()) out << " " << s.url;
            out << "\n";
        }
    }
}
}  // namespace

std::string to_text(const Report& report) {
    std::ostringstream out;
    using detail::printable;
    if (report.packs().size() > 1) {
        // Every pack in use, with its licence: a layered pack may come under other terms.
        out << "rxcaution check - packs (the first leads where they overlap):\n";
        for (const auto& l : report.packs())
            out << "  " << l.name << " " << l.version << " (licence: " << l.licence << ")\n";
    } else {
        out << "rxcaution check - pack " << report.pack_name() << " " << report.pack_version() << "\n";
    }
    out << "Reference software, not medical advice.\n\n";
    out << "Medications:\n";
    std::vector<std::string> no_rules;  // recognised inputs no rule of the pack involves
    for (const auto& r : report.inputs()) {
        if (r.duplicate_of) {
            out << "  " << printable(r.input) << " -> repeats entry " << (*r.duplicate_of + 1)
                << " (checked once)\n";
            continue;
        }
        if (r.resolved) {
            out << "  " << printable(r.input) << " -> " << r.name << " (" << to_string(r.kind);
            if (r.kind == EntityKind::Product) {
                out << ": ";
                for (std::size_t k = 0; k < r.ingredients.size(); ++k) out << (k ? " + " : "") << r.ingredients[k];
            }
            if (r.vocabulary_only) out << ", DrugBank " << r.drugbank;
            out << ")";
            if (r.coverage == Coverage::NoRules) {
                out << " - recognised, but this pack has no interaction rules for " << r.name;
                no_rules.push_back(r.input);
            }
            out << "\n";
            // Ingredients of an RxNorm-style name that are not checked (a product's inactive
            // ingredients are shown in the warnings' explanations, as before).
            if (r.matched_by == "rxnorm-name" && r.id.empty())
                for (const auto& nc : r.not_checked) out << "      not checked: " << printable(nc) << "\n";
        } else if (!r.ambiguous.empty()) {
            out << "  " << printable(r.input) << " -> NOT CHECKED: ambiguous, it names ";
            for (std::size_t k = 0; k < r.ambiguous.size(); ++k)
                out << (k ? (k + 1 == r.ambiguous.size() ? " and " : ", ") : "") << r.ambiguous[k];
            out << " (not guessed)\n";
        } else {
            out << "  " << printable(r.input) << " -> NOT CHECKED: unknown medication"
                << detail::did_you_mean_clause(r.suggestions) << "\n";
        }
    }
    const auto conditions = report.conditions();
    if (!conditions.empty()) {
        out << "Conditions:\n";
        for (const auto& c : conditions) {
            if (c.resolved) {
                out << "  " << printable(c.input) << " -> " << c.name;
                if (c.matched_by == "code" || c.matched_by == "words") out << " (matched by " << c.matched_by << ")";
                out << "\n";
            }
            else
                out << "  " << printable(c.input) << " -> NOT CHECKED: unknown condition"
                    << detail::did_you_mean_clause(c.suggestions) << "\n";
        }
    }
    out << "\n";
    const auto& warnings = report.warnings();
    if (warnings.empty()) {
        out << "No warning found in this pack for the inputs that were checked.\n"
               "This does not mean the combination is safe.\n";
    } else {
        const auto& groups = report.groups();
        out << warnings.size() << (warnings.size() == 1 ? " warning" : " warnings");
        if (groups.size() != warnings.size())
            out << " in " << groups.size() << (groups.size() == 1 ? " alert" : " alerts");
        out << " (highest: " << upper(to_string(*report.max_severity())) << ")\n";
        const detail::Renderer render(report);
        // One alert per group: the lead as before, then each further reason for the same inputs,
        // numbered under the alert and written out in full (nothing is left out, only ordered).
        for (std::size_t g = 0; g < groups.size(); ++g) {
            const auto& members = groups[g].members;
            out << "\n" << (g + 1) << ". ";
            write_warning(out, render.details(warnings[members[0]]), "   ");
            if (members.size() < 2) continue;
            out << "   Further reasons for the same inputs (" << (members.size() - 1) << "):\n";
            for (std::size_t m = 1; m < members.size(); ++m) {
                const std::string number = std::to_string(g + 1) + "." + std::to_string(m + 1) + ". ";
                out << "   " << number;
                write_warning(out, render.details(warnings[members[m]]), std::string(3 + number.size(), ' '));
            }
        }
    }
    if (!no_rules.empty()) {
        out << "\nNOTE: " << no_rules.size() << " medication" << (no_rules.size() == 1 ? " was" : "s were")
            << " recognised but this pack has no rules for " << (no_rules.size() == 1 ? "it" : "them") << ": ";
        for (std::size_t k = 0; k < no_rules.size(); ++k) out << (k ? ", " : "") << "'" << printable(no_rules[k]) << "'";
        out << ". No warning about " << (no_rules.size() == 1 ? "it" : "them") << " means nothing.\n";
    }
    const auto unresolved = report.unresolved();
    if (!unresolved.empty()) {
        out << "\nWARNING: " << unresolved.size() << " medication" << (unresolved.size() == 1 ? " was" : "s were")
            << " NOT CHECKED: ";
        for (std::size_t k = 0; k < unresolved.size(); ++k) out << (k ? ", " : "") << "'" << printable(unresolved[k]) << "'";
        out << ". Their interactions are unknown.\n";
    }
    return out.str();
}

}  // namespace rxcaution
