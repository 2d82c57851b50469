// The result types of rxcaution/report.hpp and their renderings (JSON contract, text, FHIR,
// CDS Hooks). Renderings that are JSON are offered both as text (`*_json`) and parsed (dicts).

#include "bindings.hpp"

#include <rxcaution/report.hpp>

#include <string>

namespace rxcaution::python {

namespace {
py::object parse_json(const std::string& text) { return py::module_::import("json").attr("loads")(utf8(text)); }
}  // namespace

void bind_report(py::module_& m) {
    ValueClass<Resolution>(m, "Resolution", "What a medication text resolved to.")
        .field("input", &Resolution::input, "The caller's text, unchanged.")
        .field("resolved", &Resolution::resolved, "Whether the text was recognised.")
        .field("kind", &Resolution::kind,
               "``EntityKind.SUBSTANCE`` or ``EntityKind.PRODUCT`` (meaningful only when resolved).")
        .field("id", &Resolution::id, "Entity id (empty when unresolved).")
        .field("name", &Resolution::name, "Display name (empty when unresolved).")
        .field("matched_by", &Resolution::matched_by,
               "``id``, ``name``, ``synonym``, ``salt``, ``brand``, ``rxcui``, ``normalized`` (empty when unresolved).")
        .field("ingredients", &Resolution::ingredients, "Substance ids (the substance itself for a substance).")
        .field("not_checked", &Resolution::not_checked,
               "Ingredients of the product not checked for interactions, with the pack's reason, as ``id: reason``.")
        .field("suggestions", &Resolution::suggestions, "Up to 3 close names when unresolved, best first.")
        .repr({"input", "resolved", "kind", "id", "matched_by"})
        .finish();

    ValueClass<ConditionResolution>(m, "ConditionResolution", "What a condition text resolved to.")
        .field("input", &ConditionResolution::input, "The caller's text, unchanged.")
        .field("resolved", &ConditionResolution::resolved, "Whether the text was recognised.")
        .field("id", &ConditionResolution::id, "Condition id (empty when unresolved).")
        .field("name", &ConditionResolution::name, "Display name (empty when unresolved).")
        .field("suggestions", &ConditionResolution::suggestions, "Up to 3 close names when unresolved, best first.")
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

    ValueClass<Warning>(m, "Warning",
                        "One warning: a rule that applies to the checked regimen, with the path that made it apply.")
        .field("id", &Warning::id, "Deterministic id: same regimen and pack give the same id.")
        .field("kind", &Warning::kind, "Kind of warning (:class:`WarningKind`).")
        .field("severity", &Warning::severity, "Severity (:class:`Severity`).")
        .field("rule", &Warning::rule, "Id of the interaction or contraindication rule (or class for duplicates).")
        .field("inputs", &Warning::inputs, "The caller's original strings involved.")
        .field("input_indexes", &Warning::input_indexes, "Their positions in the medication list.")
        .field("substances", &Warning::substances, "Substance ids involved.")
        .field("condition", &Warning::condition, "Condition id (drug-condition warnings; else empty).")
        .field("summary", &Warning::summary, "One line for a clinician.")
        .field("effect", &Warning::effect, "Clinical consequences.")
        .field("mechanism", &Warning::mechanism, "How it happens (may be empty).")
        .field("management", &Warning::management, "Recommended action.")
        .field("evidence", &Warning::evidence, "Evidence grade of the rule.")
        .field("seriousness", &Warning::seriousness, "Where the label puts it (may be empty).")
        .field("disagreement", &Warning::disagreement, "A disagreement between sources (may be empty).")
        .field("sources", &Warning::sources, "Sources cited (:class:`SourceRef`).")
        .field("explanation", &Warning::explanation,
               "Input -> ingredient -> class -> rule, one step per entry.")
        .repr({"kind", "severity", "rule", "inputs"})
        .finish();

    auto report = ValueClass<Report>(m, "Report", R"doc(The answer to :meth:`KnowledgeBase.check`.

Medications that did not resolve are listed in ``inputs`` and were NOT checked: look at
``complete`` before reading "no warning" as reassurance.
)doc");
    report.field("pack_name", &Report::pack_name, "Name of the pack that was used.")
        .field("pack_version", &Report::pack_version, "Version of the pack that was used.")
        .field("inputs", &Report::inputs, "What every medication resolved to, in input order (:class:`Resolution`).")
        .field("conditions", &Report::conditions, "What every condition resolved to (:class:`ConditionResolution`).")
        .field("warnings", &Report::warnings, "Warnings, most severe first, then in input order (:class:`Warning`).")
        .field("max_severity", &Report::max_severity, "Highest severity among the warnings, or ``None`` when there is none.");
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
            "to_cds_hooks", [](const Report& r) { return parse_json(to_cds_hooks(r, -1)); },
            R"doc(The report as a CDS Hooks response, parsed.

Returns
-------
dict
    Equal to ``json.loads(report.to_cds_hooks_json())``.
)doc");
    report.cls().def("__repr__", [](const Report& r) {
        std::string text = "Report(pack=" + py::repr(py::str(r.pack_name + " " + r.pack_version)).cast<std::string>() +
                           ", inputs=" + std::to_string(r.inputs.size()) +
                           ", warnings=" + std::to_string(r.warnings.size()) + ", max_severity=" +
                           field_repr(py::cast(r.max_severity)) + ", complete=" + (r.complete() ? "True" : "False") +
                           ")";
        return text;
    });
    report.finish(/*with_to_dict=*/false, /*with_repr=*/false);
}

}  // namespace rxcaution::python
