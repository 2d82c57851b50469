// Enumerations of rxcaution/types.hpp as standard `enum.IntEnum` classes (pybind11 native_enum):
// ordering, hashing and pickling come from the standard library, and the C++ enum converts at the
// boundary. str() and format() give the stable lowercase spelling of the C++ to_string(), and the
// classes accept that spelling as a value (`Severity("major")`).

#include "bindings.hpp"

#include <rxcaution/types.hpp>

#include <pybind11/native_enum.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

namespace rxcaution::python {

namespace {

// Module-lifetime references (the extension is never unloaded), created during module init.
py::handle enum_base;  // enum.Enum

template <class E>
void bind_enum(py::module_& m, const char* name, const char* doc,
               const std::vector<std::pair<const char*, E>>& values, const std::vector<const char*>& member_docs) {
    py::native_enum<E> e(m, name, "enum.IntEnum", doc);
    for (std::size_t i = 0; i < values.size(); ++i) e.value(values[i].first, values[i].second, member_docs[i]);
    e.finalize();

    py::object cls = m.attr(name);
    cls.attr("__str__") = py::cpp_function(
        [](E self) { return std::string(to_string(self)); }, py::name("__str__"), py::is_method(cls),
        "The stable lowercase spelling used in packs and reports (e.g. ``major``).");
    cls.attr("__format__") = py::cpp_function(
        [](E self, const py::str& format_spec) {
            return py::str(std::string(to_string(self))).attr("__format__")(format_spec);
        },
        py::name("__format__"), py::is_method(cls), py::arg("format_spec"),
        "Formats the stable spelling, so that f-strings show ``major`` as str() does.");
    std::vector<E> members;
    for (const auto& v : values) members.push_back(v.second);
    py::cpp_function missing(
        [members](const py::object& enum_class, const py::object& value) -> py::object {
            if (!py::isinstance<py::str>(value)) return py::none();
            std::string text = value.cast<std::string>();
            std::transform(text.begin(), text.end(), text.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            for (E member : members)
                if (text == to_string(member)) return enum_class(static_cast<int>(member));
            return py::none();
        },
        py::name("_missing_"), py::arg("cls"), py::arg("value"),
        "Accepts the stable spelling (case-insensitive) as a value: ``Severity(\"major\")``.");
    cls.attr("_missing_") = py::reinterpret_steal<py::object>(PyClassMethod_New(missing.ptr()));
}

}  // namespace

py::object plain(py::handle value) {
    if (value.is_none() || py::isinstance<py::bool_>(value) || py::isinstance<py::str>(value))
        return py::reinterpret_borrow<py::object>(value);
    if (py::isinstance(value, enum_base)) return py::str(value);
    if (py::isinstance<py::int_>(value) || py::isinstance<py::float_>(value))
        return py::reinterpret_borrow<py::object>(value);
    if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
        py::list out;
        for (auto item : value) out.append(plain(item));
        return out;
    }
    if (py::isinstance<py::dict>(value)) {
        py::dict out;
        for (auto item : py::reinterpret_borrow<py::dict>(value)) out[item.first] = plain(item.second);
        return out;
    }
    if (py::hasattr(value, "to_dict")) return value.attr("to_dict")();
    return py::reinterpret_borrow<py::object>(value);
}

std::string field_repr(py::handle value) {
    if (py::isinstance(value, enum_base))
        return py::type::of(value).attr("__name__").cast<std::string>() + "." + value.attr("name").cast<std::string>();
    return py::repr(value).cast<std::string>();
}

py::str utf8(const std::string& text) {
    PyObject* s = PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "surrogateescape");
    if (!s) throw py::error_already_set();
    return py::reinterpret_steal<py::str>(s);
}

void bind_types(py::module_& m) {
    enum_base = py::object(py::module_::import("enum").attr("Enum")).release();

    bind_enum<Severity>(m, "Severity",
                        R"doc(How serious an interaction or contraindication is.

An ``enum.IntEnum``: members are ordered (``Severity.MAJOR > Severity.MODERATE``), hashable and
picklable. ``str(Severity.MAJOR) == "major"`` (the stable spelling) and ``Severity("major")`` parses it.
)doc",
                        {{"MINOR", Severity::Minor},
                         {"MODERATE", Severity::Moderate},
                         {"MAJOR", Severity::Major},
                         {"CONTRAINDICATED", Severity::Contraindicated}},
                        {"Minor: usually no action beyond awareness.", "Moderate: monitor or adjust.",
                         "Major: avoid or manage closely.", "Contraindicated: do not combine."});

    bind_enum<EvidenceGrade>(m, "EvidenceGrade",
                             R"doc(Grade of the evidence behind a fact (see docs/data-model.md).

An ``enum.IntEnum`` ordered from strongest (``LABEL``) to weakest; ``str()`` gives the stable spelling
(``label``, ``label-quoted``, ``secondary``, ``weak``, ``derived``).
)doc",
                             {{"LABEL", EvidenceGrade::Label},
                              {"LABEL_QUOTED", EvidenceGrade::LabelQuoted},
                              {"SECONDARY", EvidenceGrade::Secondary},
                              {"WEAK", EvidenceGrade::Weak},
                              {"DERIVED", EvidenceGrade::Derived}},
                             {"FDA label text read directly or through a verbatim mirror (L).",
                              "Label text seen only as a verbatim quote in a third-party repository (LQ).",
                              "Monograph, review, guideline or compendium (S).",
                              "Consumer page; used for names only (W).",
                              "Computed by rxcaution itself (e.g. the same ingredient listed twice)."});

    bind_enum<EntityKind>(m, "EntityKind",
                          R"doc(Kind of an entity of the knowledge pack.

An ``enum.IntEnum``; ``str()`` gives ``substance``, ``product``, ``class``, ``condition`` or ``treatment``.
)doc",
                          {{"SUBSTANCE", EntityKind::Substance},
                           {"PRODUCT", EntityKind::Product},
                           {"CLASS", EntityKind::Class},
                           {"CONDITION", EntityKind::Condition},
                           {"TREATMENT", EntityKind::Treatment}},
                          {"An active ingredient, food, beverage or illicit substance.",
                           "A brand or combination product.", "A drug class.", "A patient condition.",
                           "A treatment or therapy."});

    bind_enum<WarningKind>(m, "WarningKind",
                           R"doc(Kind of a warning in a report.

An ``enum.IntEnum``; ``str()`` gives ``drug-drug``, ``drug-condition``, ``duplicate-therapy`` or
``cumulative``.
)doc",
                           {{"DRUG_DRUG", WarningKind::DrugDrug},
                            {"DRUG_CONDITION", WarningKind::DrugCondition},
                            {"DUPLICATE_THERAPY", WarningKind::DuplicateTherapy},
                            {"CUMULATIVE", WarningKind::Cumulative}},
                           {"An interaction between two medications.",
                            "A medication contraindicated in a patient condition.",
                            "The same ingredient, or two members of a duplicate-therapy class, taken together.",
                            "A risk across a set of medications (a cumulative rule), naming every one of them."});

    bind_enum<Coverage>(m, "Coverage",
                        R"doc(What the loaded pack can say about a medication input.

An ``enum.IntEnum``; ``str()`` gives ``covered``, ``no-rules`` or ``unresolved`` (the JSON report's
``coverage``).
)doc",
                        {{"COVERED", Coverage::Covered}, {"NO_RULES", Coverage::NoRules}, {"UNRESOLVED", Coverage::Unresolved}},
                        {"Resolved, and at least one rule of the pack could involve it.",
                         "Recognised (pack or drug vocabulary), but no rule of the pack involves it: no warning about it means nothing.",
                         "Not recognised: not checked at all."});
}

}  // namespace rxcaution::python
