// The result types of rxcaution/report.hpp and their renderings (JSON contract, text, FHIR,
// CDS Hooks). Renderings that are JSON are offered both as text (`*_json`) and parsed (dicts).

#include "bindings.hpp"

#include <rxcaution/report.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace rxcaution::python {

namespace {
py::object parse_json(const std::string& text) { return py::module_::import("json").attr("loads")(utf8(text)); }

// A warning of a report, as Python sees it: the report (cheap to copy: it shares its data) and a
// position. The text is written once, on first access.
struct PyWarning {
    Report report;
    std::size_t index = 0;
    std::optional<WarningDetails> details;
    [[nodiscard]] const Warning& data() const { return report.warnings()[index]; }
    const WarningDetails& text() {
        if (!details) details = report.details(data());
        return *details;
    }
};
}  // namespace

void bind_report(py::module_& m) {
    m.def(
        "disclaimer", [] { return std::string(disclaimer()); },
        R"doc(The not-medical-advice line every output carries.

Returns
-------
str
)doc");

    ValueClass<NotChecked>(m, "NotChecked",
                           "An ingredient of a resolved product that is not checked for interactions, with the reason.")
        .field("substance", &NotChecked::substance, "Substance id.")
        .field("reason", &NotChecked::reason, "Why it is not checked (the pack's note).")
        .finish();

    ValueClass<Resolution>(m, "Resolution", "What a medication text resolved to.")
        .field("input", &Resolution::input, "The caller's text, unchanged.")
        .field("resolved", &Resolution::resolved, "Whether the text was recognised.")
        .field("kind", &Resolution::kind,
               "``EntityKind.SUBSTANCE`` or ``EntityKind.PRODUCT`` (meaningful only when resolved).")
        .field("id", &Resolution::id, "Entity id (empty when unresolved).")
        .field("name", &Resolution::name, "Display name (empty when unresolved).")
        .field("matched_by", &Resolution::matched_by,
               "``id``, ``name``, ``synonym``, ``salt``, ``brand``, ``rxcui``, ``drugbank``, ``unii``, ``normalized``; through the "
               "drug vocabulary ``vocabulary-name``, ``vocabulary-synonym``, ``cas``; ``rxnorm-name``, ``rxnorm-brand`` "
               "(empty when unresolved).")
        .field("ingredients", &Resolution::ingredients, "Substance ids (the substance itself for a substance).")
        .field("not_checked", &Resolution::not_checked,
               "Ingredients of the product not checked for interactions, with the pack's reason, as ``id: reason``.")
        .field("suggestions", &Resolution::suggestions, "Up to 3 close names when unresolved, best first.")
        .field("not_checked_ingredients", &Resolution::not_checked_ingredients,
               "The same ingredients as ``not_checked``, as :class:`NotChecked` data.")
        .field("duplicate_of", &Resolution::duplicate_of,
               "In a check: position of an earlier entry with the same text (checked once, through it), else None.")
        .field("coverage", &Resolution::coverage,
               "Whether the pack's rules can say anything about it (:class:`Coverage`): covered, no-rules, unresolved.")
        .field("drugbank", &Resolution::drugbank,
               "DrugBank id of the vocabulary drug it matched (empty when matched by the pack's own names, or nothing).")
        .field("vocabulary_only", &Resolution::vocabulary_only,
               "True for a drug of the vocabulary the pack has no substance for (``id`` is then its DrugBank id).")
        .field("ambiguous", &Resolution::ambiguous,
               "When unresolved because several vocabulary drugs share the name: those drugs, as ``Name (DrugBank id)``.")
        .repr({"input", "resolved", "kind", "id", "matched_by"})
        .finish();

    ValueClass<ConditionResolution>(m, "ConditionResolution", "What a condition text resolved to.")
        .field("input", &ConditionResolution::input, "The caller's text, unchanged.")
        .field("resolved", &ConditionResolution::resolved, "Whether the text was recognised.")
        .field("id", &ConditionResolution::id, "Condition id (empty when unresolved).")
        .field("name", &ConditionResolution::name, "Display name (empty when unresolved).")
        .field("suggestions", &ConditionResolution::suggestions, "Up to 3 close names when unresolved, best first.")
        .field("matched_by", &ConditionResolution::matched_by,
               "``code``, ``name``, ``synonym``, ``id`` or ``words`` (empty when unresolved).")
        .repr({"input", "resolved", "id"})
        .finish();

    ValueClass<SourceRef>(m, "SourceRef", "A source as cited by a warning.")
        .field("id", &SourceRef::id, "Source id.")
        .field("title", &SourceRef::title, "Title of the source.")
        .field("section", &SourceRef::section, "Section or table cited (may be empty).")
        .field("url", &SourceRef::url, "URL of the source (may be empty).")
        .field("grade", &SourceRef::grade, "Evidence grade of the citation.")
        .repr({"id", "section", "grade"})
        .finish();


    ValueClass<Annotation>(m, "Annotation",
                           "In a layered knowledge base, another pack's rating of a warning's substance pair.")
        .field("pack", &Annotation::pack, "Name of the pack whose rule this is.")
        .field("rule", &Annotation::rule, "That rule's id.")
        .field("severity", &Annotation::severity, "That rule's severity (:class:`Severity`).")
        .field("agrees", &Annotation::agrees, "Whether it is the warning's severity.")
        .field("text", &Annotation::text, "One sentence, e.g. \"DDInter rates this pair Major (agrees).\"")
        .repr({"pack", "rule", "severity", "agrees"})
        .finish();

    // A warning is plain data in C++; here it is the report plus a position, and every text field
    // is written by the library's renderer the first time it is read.
    ValueClass<PyWarning>(m, "Warning",
                          "One warning: a rule that applies to the checked regimen, with the path that made it apply.\n\n"
                          "Text fields are written when first read.")
        .computed("id", [](PyWarning& w) { return w.text().id; }, "Deterministic id: same regimen and pack give the same id.")
        .computed("kind", [](const PyWarning& w) { return w.data().kind; }, "Kind of warning (:class:`WarningKind`).")
        .computed("severity", [](const PyWarning& w) { return w.data().severity; }, "Severity (:class:`Severity`).")
        .computed("rule", [](const PyWarning& w) { return std::string(w.report.rule_id(w.data())); },
                  "Id of the interaction or contraindication rule (or class for duplicates).")
        .computed("inputs", [](PyWarning& w) { return w.text().inputs; }, "The caller's original strings involved.")
        .computed("input_indexes", [](PyWarning& w) { return w.text().input_indexes; },
                  "Their positions in the medication list.")
        .computed("substances", [](PyWarning& w) { return w.text().substances; }, "Substance ids involved.")
        .computed("condition", [](PyWarning& w) { return w.text().condition; },
                  "Condition id (drug-condition warnings; else empty).")
        .computed("summary", [](PyWarning& w) { return w.text().summary; }, "One line for a clinician.")
        .computed("effect", [](PyWarning& w) { return w.text().effect; }, "Clinical consequences.")
        .computed("mechanism", [](PyWarning& w) { return w.text().mechanism; }, "How it happens (may be empty).")
        .computed("management", [](PyWarning& w) { return w.text().management; }, "Recommended action.")
        .computed("evidence", [](const PyWarning& w) { return w.data().evidence; }, "Evidence grade of the rule.")
        .computed("seriousness", [](PyWarning& w) { return w.text().seriousness; }, "Where the label puts it (may be empty).")
        .computed("disagreement", [](PyWarning& w) { return w.text().disagreement; },
                  "A disagreement between sources (may be empty).")
        .computed("sources", [](PyWarning& w) { return w.text().sources; }, "Sources cited (:class:`SourceRef`).")
        .computed("explanation", [](PyWarning& w) { return w.text().explanation; },
                  "Input -> ingredient -> class -> rule, one step per entry.")
        .computed("pack", [](PyWarning& w) { return w.text().pack; },
                  "Layered knowledge bases: the pack whose rule this is (drug-drug); else empty.")
        .computed("annotations", [](PyWarning& w) { return w.text().annotations; },
                  "Layered knowledge bases: the other packs' ratings of this pair (:class:`Annotation`).")
        .computed("group", [](PyWarning& w) { return w.text().group; },
                  "Position in ``Report.groups`` of the alert this warning belongs to (warnings about the same inputs).")
        .computed("group_lead", [](PyWarning& w) { return w.text().group_lead; },
                  "True for the leading (most severe) warning of its alert group.")
        .repr({"kind", "severity", "rule", "inputs"})
        .finish();

    ValueClass<Implicated>(m, "Implicated", "One medication of a cumulative warning and the ingredient that met the rule.")
        .field("input", &Implicated::input, "Position in the medication list.")
        .field("substance", &Implicated::substance, "Index into ``KnowledgeBase.substances()``.")
        .finish();

    ValueClass<WarningGroup>(m, "WarningGroup",
                             "Warnings about the same inputs, shown as one alert: the most severe leads.")
        .field("lead", &WarningGroup::lead, "Index into ``Report.warnings`` of the leading warning.")
        .field("members", &WarningGroup::members,
               "Indexes into ``Report.warnings`` of every warning of the group, lead first.")
        .repr({"lead", "members"})
        .finish();

    auto report = ValueClass<Report>(m, "Report", R"doc(The answer to :meth:`KnowledgeBase.check`.

Medications that did not resolve are listed in ``inputs`` and were NOT checked: look at
``complete`` before reading "no warning" as reassurance. Warnings are data; their text is written
when read.
)doc");
    report.computed("pack_name", [](const Report& r) { return r.pack_name(); }, "Name of the pack that was used.")
        .computed("pack_version", [](const Report& r) { return r.pack_version(); }, "Version of the pack that was used.")
        .computed("inputs", [](const Report& r) { return r.inputs(); },
                  "What every medication resolved to, in input order (:class:`Resolution`).")
        .computed("conditions", [](const Report& r) { return r.conditions(); },
                  "What every condition resolved to (:class:`ConditionResolution`).")
        .computed(
            "warnings",
            [](const Report& r) {
                std::vector<PyWarning> out;
                out.reserve(r.warnings().size());
                for (std::size_t i = 0; i < r.warnings().size(); ++i) out.push_back(PyWarning{r, i, std::nullopt});
                return out;
            },
            "Warnings, most severe first, then in input order (:class:`Warning`).")
        .computed("groups", [](const Report& r) { return r.groups(); },
                  "Warnings grouped by the inputs they are about, one group per alert, most severe first "
                  "(:class:`WarningGroup`).")
        .computed("max_severity", [](const Report& r) { return r.max_severity(); },
                  "Highest severity among the warnings, or ``None`` when there is none.");
    report.cls()
        .def_property_readonly("complete", &Report::complete,
                               "True when every medication and condition resolved, i.e. nothing was skipped.")
        .def_property_readonly("unresolved", &Report::unresolved,
                               "The medication texts that could not be resolved (and were therefore NOT checked).")
        .def(
            "to_json", [](const Report& r, int indent) { return utf8(to_json(r, indent)); }, py::arg("indent") = 2,
            R"doc(The report in the documented JSON contract (docs/json-output.md).

Parameters
----------
indent : int, default 2
    Spaces per level, or -1 for one line.

Returns
-------
str
    JSON text.
)doc")
        .def(
            "to_dict", [](const Report& r) { return parse_json(to_json(r, -1)); },
            R"doc(The report as plain data: the JSON contract, parsed.

Returns
-------
dict
    Equal to ``json.loads(report.to_json())``.
)doc")
        .def(
            "to_text", [](const Report& r) { return utf8(to_text(r)); },
            R"doc(The report as plain text for a clinician-developer: severity first, what to do, why.

Returns
-------
str
    Multi-line text (what ``rxcaution check`` prints).
)doc")
        .def(
            "to_fhir_json", [](const Report& r, int indent) { return utf8(to_fhir(r, indent)); },
            py::arg("indent") = 2,
            R"doc(The report as an HL7 FHIR R4 Bundle (type ``collection``) of DetectedIssue resources.

Parameters
----------
indent : int, default 2
    Spaces per level, or -1 for one line.

Returns
-------
str
    JSON text.
)doc")
        .def(
            "to_fhir", [](const Report& r) { return parse_json(to_fhir(r, -1)); },
            R"doc(The report as an HL7 FHIR R4 Bundle of DetectedIssue resources, parsed.

Returns
-------
dict
    Equal to ``json.loads(report.to_fhir_json())``.
)doc")
        .def(
            "to_cds_hooks_json", [](const Report& r, int indent) { return utf8(to_cds_hooks(r, indent)); },
            py::arg("indent") = 2,
            R"doc(The report as a CDS Hooks response: one card per warning, plus an info card per input not checked.

Parameters
----------
indent : int, default 2
    Spaces per level, or -1 for one line.

Returns
-------
str
    JSON text (``{"cards": [...]}``).
)doc")
        .def(
            "to_cds_hooks",
            [](const Report& r, std::optional<std::vector<bool>> focus, bool include_active_interactions,
               std::optional<std::vector<std::string>> input_labels, bool unresolved_condition_card,
               std::vector<std::tuple<std::string, std::string, std::string>> info_cards) {
                CdsHooksOptions options;
                if (focus) options.focus = std::move(*focus);
                options.include_active_interactions = include_active_interactions;
                if (input_labels) options.input_labels = std::move(*input_labels);
                options.unresolved_condition_card = unresolved_condition_card;
                for (auto& [key, summary, detail] : info_cards) options.info_cards.push_back({key, summary, detail});
                try {
                    return parse_json(to_cds_hooks(r, options, -1));
                } catch (const std::invalid_argument& e) {
                    throw py::value_error(e.what());
                }
            },
            py::kw_only(), py::arg("focus") = py::none(), py::arg("include_active_interactions") = false,
            py::arg("input_labels") = py::none(), py::arg("unresolved_condition_card") = false,
            py::arg_v("info_cards", std::vector<std::tuple<std::string, std::string, std::string>>{}, "()"),
            R"doc(The report as a CDS Hooks response, parsed.

Parameters
----------
focus : sequence of bool, optional
    Per medication, whether it is of interest (a draft order). When given, a warning is returned
    only if one of its medications is of interest.
include_active_interactions : bool, default False
    Return warnings between medications that are not of interest too.
input_labels : sequence of str, optional
    Per medication, a line listed under "Orders and medications involved" in the cards about it
    ("" leaves it out).
unresolved_condition_card : bool, default False
    Add an info card listing the patient conditions that were not recognised.
info_cards : sequence of (key, summary, detail), default ()
    Extra info cards; each uuid is derived from its key.

Returns
-------
dict
    With no option given, equal to ``json.loads(report.to_cds_hooks_json())``.

Raises
------
ValueError
    When ``focus`` or ``input_labels`` does not have one entry per medication.
)doc");
    report.cls().def("__repr__", [](const Report& r) {
        std::string text = "Report(pack=" + py::repr(py::str(r.pack_name() + " " + r.pack_version())).cast<std::string>() +
                           ", inputs=" + std::to_string(r.input_count()) +
                           ", warnings=" + std::to_string(r.warnings().size()) + ", max_severity=" +
                           field_repr(py::cast(r.max_severity())) + ", complete=" + (r.complete() ? "True" : "False") +
                           ")";
        return text;
    });
    report.finish(/*with_to_dict=*/false, /*with_repr=*/false);
}

}  // namespace rxcaution::python
