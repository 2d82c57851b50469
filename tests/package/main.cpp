// The snippet from the README, compiled against the installed package.
#include <rxcaution/rxcaution.hpp>

#include <iostream>

int main() {
    const auto kb = rxcaution::KnowledgeBase::builtin();
    const rxcaution::Report report = kb.check({"methadone", "clarithromycin"});
    for (const rxcaution::Warning& w : report.warnings())
        std::cout << rxcaution::to_string(w.severity) << ": " << report.summary(w) << "\n";
    return report.warnings().empty() ? 1 : 0;
}
