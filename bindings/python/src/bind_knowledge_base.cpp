// KnowledgeBase (rxcaution/knowledge_base.hpp). The C++ object is immutable and every const member
// is thread-safe, so the GIL is released in the expensive calls: loading (builtin, load,
// from_json, unpickling) and the regimen queries (check, regimen_dot). Cheap lookups keep it:
// releasing and re-taking the GIL would cost more than they do.

#include "bindings.hpp"

#include <rxcaution/errors.hpp>
#include <rxcaution/knowledge_base.hpp>

#include <pybind11/stl/filesystem.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace rxcaution::python {

namespace {

constexpr std::size_t kDefaultMaxFileBytes = LoadOptions{}.max_file_bytes;

// The rules a query returns, as Python objects that refer to the knowledge base's own immutable
// rules rather than copies: a substance at whole-formulary scale has hundreds of rules, and
// copying them cost more than finding them.
//
// Two costs dominated a 145-rule rules_for call (~45 us, of which the C++ query is ~6 us):
// pybind11's keep_alive table (two hash-table updates per object) and creating and destroying one
// Python object per rule per call. So (1) each object holds a shared_ptr aliasing a copy of the
// knowledge base handle, which keeps the compiled data alive without keep_alive, and (2) each
// Python KnowledgeBase keeps the rule objects it has handed out, so a later query that returns the
// same rule finds it through pybind11's registry of live instances instead of building it again.
// The cache is bounded by the pack's rule count (one object per interaction or contraindication
// rule, about 100 bytes each) and is dropped when the KnowledgeBase object dies (a weakref
// callback); the rule objects hold only the C++ handle, never the Python object, so there is no
// reference cycle. The GIL is held throughout, which serialises access to the table.
// The const_cast is sound because the bound classes expose read-only properties only.
std::unordered_map<PyObject*, std::vector<py::object>>& handed_out() {
    static auto* table = new std::unordered_map<PyObject*, std::vector<py::object>>();  // outlives module teardown
    return *table;
}

std::vector<py::object>& handed_out_by(const py::object& owner) {
    auto [it, inserted] = handed_out().try_emplace(owner.ptr());
    if (inserted) {
        PyObject* key = owner.ptr();
        py::cpp_function forget([key](py::handle ref) {
            handed_out().erase(key);
            ref.dec_ref();
        });
        py::weakref(owner, forget).release();  // the callback releases the weakref itself
    }
    return it->second;
}

template <class T>
py::list references(const RefList<T>& list, const py::object& owner) {
    const auto& kb = owner.cast<const KnowledgeBase&>();
    std::vector<py::object>& cache = handed_out_by(owner);
    std::shared_ptr<const KnowledgeBase> keep;
    py::list out(list.size());
    std::size_t k = 0;
    for (const T& item : list) {
        if (!keep) keep = std::make_shared<const KnowledgeBase>(kb);
        py::object obj = py::cast(std::shared_ptr<T>(keep, const_cast<T*>(&item)));
        if (obj.ref_count() == 1) cache.push_back(obj);  // new: nobody else holds it yet
        out[k++] = std::move(obj);
    }
    return out;
}

LoadOptions load_options(std::size_t max_file_bytes) {
    LoadOptions options;
    options.max_file_bytes = max_file_bytes;
    return options;
}

CheckContext context(std::vector<std::string> conditions, Severity min_severity, bool duplicate_therapy) {
    CheckContext ctx;
    ctx.conditions = std::move(conditions);
    ctx.min_severity = min_severity;
    ctx.duplicate_therapy = duplicate_therapy;
    return ctx;
}

// Text (str, lone surrogates replaced) or bytes (taken as they are).
KnowledgeBase from_text(const py::object& text, std::size_t max_file_bytes, const Text& origin) {
    if (!PyBytes_Check(text.ptr()) && !PyUnicode_Check(text.ptr()))
        throw py::type_error("from_json(): text must be str or bytes, not " +
                             std::string(py::str(py::type::of(text).attr("__name__"))));
    // The text is read where Python holds it (bytes, or a str's UTF-8 form: for an ASCII str its
    // own buffer): a pack's JSON is tens of megabytes, and a copy would be one more whole text at
    // the peak of the load. The caller's reference keeps the immutable object alive meanwhile.
    std::string_view json;
    std::string copy;  // only for a str with lone surrogates (replaced, as everywhere)
    if (PyBytes_Check(text.ptr())) {
        char* data = nullptr;
        Py_ssize_t size = 0;
        if (PyBytes_AsStringAndSize(text.ptr(), &data, &size) != 0) throw py::error_already_set();
        json = std::string_view(data, static_cast<std::size_t>(size));
    } else {
        Py_ssize_t size = 0;
        if (const char* utf8 = PyUnicode_AsUTF8AndSize(text.ptr(), &size)) {
            json = std::string_view(utf8, static_cast<std::size_t>(size));
        } else {
            PyErr_Clear();
            copy = text.cast<Text>().value;
            json = copy;
        }
    }
    py::gil_scoped_release release;
    return KnowledgeBase::from_json(json, load_options(max_file_bytes), origin.value);
}

template <class T>
using Finder = const T* (KnowledgeBase::*)(std::string_view) const noexcept;
template <class T>
using Getter = const T& (KnowledgeBase::*)(std::string_view) const;

// Binds `find_x(id) -> T | None` and `x(id) -> T` (raising NotFoundError). Without a C++ finder,
// find_x calls the getter and turns NotFoundError into None.
template <class T>
void lookup(py::class_<KnowledgeBase>& kb, const char* find_name, Finder<T> find, const char* get_name, Getter<T> get,
            const std::string& what, const std::string& type) {
    const std::string params = "Parameters\n----------\nid : str\n    The " + what + " id.\n\n";
    const std::string find_doc =
        "Looks up a " + what + " by id.\n\n" + params + "Returns\n-------\n" + type + " or None\n    ``None`` when absent.\n";
    const std::string get_doc = "Looks up a " + what + " by id.\n\n" + params + "Returns\n-------\n" + type +
                                "\n\nRaises\n------\nNotFoundError\n    When absent.\n";
    kb.def(
        find_name,
        [find, get](const KnowledgeBase& self, const Text& text) -> std::optional<T> {
            const std::string_view id = text.value;
            if (find) {
                if (const T* p = (self.*find)(id)) return *p;
                return std::nullopt;
            }
            try {
                return (self.*get)(id);
            } catch (const NotFoundError&) {
                return std::nullopt;
            }
        },
        py::arg("id"), find_doc.c_str());
    kb.def(
        get_name, [get](const KnowledgeBase& self, const Text& id) -> T { return (self.*get)(id.value); },
        py::arg("id"), get_doc.c_str());
}

// Binds `name() -> list[T]`: every entity of a kind, copied.
template <class T>
void every(py::class_<KnowledgeBase>& kb, const char* name, const std::vector<T>& (KnowledgeBase::*list)() const noexcept,
           const std::string& what, const std::string& type) {
    const std::string doc = "Every " + what + " of the pack, in pack order.\n\nReturns\n-------\nlist of " + type + "\n";
    kb.def(name, [list](const KnowledgeBase& self) -> std::vector<T> { return (self.*list)(); }, doc.c_str());
}

}  // namespace

void bind_knowledge_base(py::module_& m) {
    py::class_<KnowledgeBase> kb(m, "KnowledgeBase", py::is_final(), R"doc(An immutable knowledge base: a validated pack compiled for fast regimen checks.

Create one with :meth:`builtin` (the curated pack compiled into the library), :meth:`load` or
:meth:`from_json`. Instances are immutable and safe to share between threads: :meth:`check`
releases the GIL. They pickle (as a compiled snapshot) and copy cheaply.

rxcaution is reference software, not medical advice. No warning found does not mean a
combination is safe.
)doc");

    // --- construction --------------------------------------------------------------------------
    kb.def_static(
          "builtin",
          [] {
              py::gil_scoped_release release;
              return KnowledgeBase::builtin();
          },
          R"doc(The curated pack compiled into the library; needs no files.

It is a snapshot compiled (and validated) when the library was built: the first call reads it;
later calls share the same instance.

Returns
-------
KnowledgeBase

Raises
------
DataError
    Never expected: the built-in pack is validated at build and test time.
)doc")
        .def_static(
            "load",
            [](const py::object& path, std::size_t max_file_bytes) {
                // One entry point for a pack or a list of packs (an overload would hide the
                // signature from help() and the stub checks).
                if (py::isinstance<py::list>(path) || py::isinstance<py::tuple>(path)) {
                    std::vector<std::filesystem::path> paths;
                    for (const auto& item : path) {
                        if (!py::isinstance<py::str>(item) && !py::hasattr(item, "__fspath__"))
                            throw py::type_error("load(): each pack must be str or os.PathLike, not " +
                                                 std::string(py::str(py::type::of(item).attr("__name__"))));
                        paths.push_back(item.cast<std::filesystem::path>());
                    }
                    py::gil_scoped_release release;
                    return KnowledgeBase::load(paths, load_options(max_file_bytes));
                }
                if (!py::isinstance<py::str>(path) && !py::hasattr(path, "__fspath__"))
                    throw py::type_error("load(): path must be str, os.PathLike or a list of them, not " +
                                         std::string(py::str(py::type::of(path).attr("__name__"))));
                const auto one = path.cast<std::filesystem::path>();
                py::gil_scoped_release release;
                return KnowledgeBase::load(one, load_options(max_file_bytes));
            },
            py::arg("path"), py::kw_only(), py::arg("max_file_bytes") = kDefaultMaxFileBytes,
            R"doc(Loads a pack directory (containing manifest.json), a manifest file, a bundled pack file, or a compiled snapshot
(``.rxpack``, from :meth:`save` or ``rxcaution compile``; recognised by its first bytes); or, given a list, several packs as one layered knowledge base.

In a list, the first pack has the highest priority and ``"builtin"`` is the built-in pack (a file
of that name is given as ``"./builtin"``). Substances unify by id, then identifier (DrugBank id,
UNII, RxCUI), then normalised name; ``info.layers`` names every pack with its version and licence
and counts how its substances unified. Where an earlier pack has a rule for a substance pair, a
later pack's rules for that pair annotate the leading warning (``Warning.annotations``) instead of
warning again. A list of one entry is the same as loading that entry.

Parameters
----------
path : str, os.PathLike or list of them
    Directory or file, or a list of them (highest priority first).
max_file_bytes : int, default 67108864
    Files larger than this are rejected with a :class:`DataError` before parsing.

Returns
-------
KnowledgeBase

Raises
------
DataError
    A file is missing, unreadable or too large; an empty list.
ParseError
    A file is not valid JSON.
SchemaError
    A value has the wrong shape.
IntegrityError
    The pack is inconsistent (every problem is listed), or an id means different things in two
    layered packs (both are named).
UnsupportedFormatVersion
    The pack has another ``format_version``.

A snapshot that is truncated, damaged, of another snapshot format version or byte order raises
:class:`DataError` naming the file and what is wrong.
)doc")
        .def_static(
            "from_snapshot",
            [](const py::bytes& data, const Text& origin) {
                std::string_view bytes = data;  // valid while `data` lives: the call holds a reference
                py::gil_scoped_release release;
                return KnowledgeBase::from_snapshot(bytes, origin.value);
            },
            py::arg("data"), py::kw_only(), py::arg("origin") = "<memory>",
            R"doc(Reads a compiled snapshot from bytes (what :meth:`to_snapshot` returns).

Parameters
----------
data : bytes
    The snapshot.
origin : str, default "<memory>"
    The name used in error messages and in ``info.origin``.

Returns
-------
KnowledgeBase

Raises
------
DataError
    The bytes are not a snapshot, or are truncated or damaged, or of another snapshot format
    version or byte order.
)doc")
        .def_static(
            "from_json", &from_text, py::arg("text"), py::kw_only(),
            py::arg("max_file_bytes") = kDefaultMaxFileBytes, py::arg("origin") = "<memory>",
            R"doc(Loads a bundled pack (one JSON object with a ``manifest`` and the sections) from text.

Parameters
----------
text : str
    The JSON text (what :meth:`to_json` produces).
max_file_bytes : int, default 67108864
    Longer texts are rejected with a :class:`DataError` before parsing.
origin : str, default "<memory>"
    The name used in error messages and in ``info.origin``.

Returns
-------
KnowledgeBase

Raises
------
DataError, ParseError, SchemaError, IntegrityError, UnsupportedFormatVersion
    As for :meth:`load`.
)doc");

    // --- queries -------------------------------------------------------------------------------
    kb.def_property_readonly(
          "info", [](const KnowledgeBase& self) { return self.info(); },
          "Name, version, licence and counts of the loaded pack (:class:`PackInfo`).")
        .def(
            "resolve", [](const KnowledgeBase& self, const Text& text) { return self.resolve(text.value); },
            py::arg("text"),
            R"doc(Resolves what a person typed to a substance or product.

Understands ids, names, synonyms, salt forms ("methadone hydrochloride"), brands ("Suboxone") and
RxCUIs ("6813" or "rxcui:6813"); case, space and punctuation insensitive.

Parameters
----------
text : str
    The medication as typed.

Returns
-------
Resolution
    Unresolved (with up to 3 suggestions) for unknown text; never raises for it.
)doc")
        .def(
            "resolve_condition",
            [](const KnowledgeBase& self, const Text& text) { return self.resolve_condition(text.value); },
            py::arg("text"),
            R"doc(Resolves a patient condition (id, name or synonym).

Parameters
----------
text : str
    The condition as typed.

Returns
-------
ConditionResolution
    Unresolved (with suggestions) for unknown text; never raises for it.
)doc")
        .def(
            "check",
            [](const KnowledgeBase& self, std::vector<Text> medications, std::vector<Text> conditions,
               Severity min_severity, bool duplicate_therapy) {
                const CheckContext ctx = context(strings(std::move(conditions)), min_severity, duplicate_therapy);
                py::gil_scoped_release release;
                return self.check(strings(std::move(medications)), ctx);
            },
            py::arg("medications"), py::kw_only(), py::arg_v("conditions", std::vector<Text>{}, "()"),
            py::arg_v("min_severity", Severity::Minor, "Severity.MINOR"), py::arg("duplicate_therapy") = true,
            R"doc(Checks a medication list for drug-drug, drug-condition and duplicate-therapy warnings.

Releases the GIL: many threads can check against one knowledge base at once.

Parameters
----------
medications : sequence of str
    What the patient takes, as typed (brands, salts, synonyms and RxCUIs are understood).
conditions : sequence of str, default ()
    Patient conditions as typed ("hypertension", "long QT syndrome").
min_severity : Severity, default Severity.MINOR
    Warnings below this severity are left out.
duplicate_therapy : bool, default True
    Report duplicate-therapy warnings (same ingredient twice, or two members of a class the pack
    marks for duplication).

Returns
-------
Report
    Unresolved inputs are listed in ``Report.inputs`` and were not checked (``Report.complete``).
)doc")
        .def(
            "interactions_between",
            [](const py::object& owner, const Text& a, const Text& b) {
                return references(owner.cast<const KnowledgeBase&>().interactions_between(a.value, b.value), owner);
            },
            py::arg("a"), py::arg("b"),
            R"doc(All drug-drug rules between two medications (direct and class-derived), most severe first.

Parameters
----------
a, b : str
    Medications as typed (resolved like :meth:`resolve`).

Returns
-------
list of InteractionRule
    Views of the knowledge base's own rules (nothing is copied). A rule this knowledge base
    has already returned comes back as the same object; rule objects stay valid after the
    KnowledgeBase object is gone.

Raises
------
NotFoundError
    If either text does not resolve (with suggestions).
)doc");

    // --- lookups by id ------------------------------------------------------------------------
    lookup<Substance>(kb, "find_substance", &KnowledgeBase::find_substance, "substance", &KnowledgeBase::substance,
                      "substance", "Substance");
    lookup<Product>(kb, "find_product", &KnowledgeBase::find_product, "product", &KnowledgeBase::product, "product",
                    "Product");
    lookup<DrugClass>(kb, "find_class", &KnowledgeBase::find_class, "drug_class", &KnowledgeBase::drug_class,
                      "drug class", "DrugClass");
    lookup<Condition>(kb, "find_condition", &KnowledgeBase::find_condition, "condition", &KnowledgeBase::condition,
                      "condition", "Condition");
    lookup<Source>(kb, "find_source", &KnowledgeBase::find_source, "source", &KnowledgeBase::source, "source",
                   "Source");
    // Rules and treatments have only a throwing getter in C++; their find_* catches NotFoundError.
    lookup<InteractionRule>(kb, "find_interaction", &KnowledgeBase::find_interaction, "interaction", &KnowledgeBase::interaction,
                            "drug-drug interaction rule", "InteractionRule");
    lookup<ContraindicationRule>(kb, "find_contraindication", &KnowledgeBase::find_contraindication, "contraindication",
                                 &KnowledgeBase::contraindication, "drug-condition rule", "ContraindicationRule");
    lookup<Treatment>(kb, "find_treatment", &KnowledgeBase::find_treatment, "treatment", &KnowledgeBase::treatment, "treatment",
                      "Treatment");

    kb.def(
        "find_profile",
        [](const KnowledgeBase& self, const Text& substance_text) -> std::optional<Profile> {
            const std::string_view substance_id = substance_text.value;
            if (const Profile* p = self.find_profile(substance_id)) return *p;
            return std::nullopt;
        },
        py::arg("substance_id"),
        R"doc(The profile (mechanisms, benefits, risks) of a substance.

Parameters
----------
substance_id : str
    A substance id.

Returns
-------
Profile or None
    ``None`` when the pack has no profile for it.
)doc");

    // --- whole collections -----------------------------------------------------------------------
    every<Substance>(kb, "substances", &KnowledgeBase::substances, "substance", "Substance");
    every<Product>(kb, "products", &KnowledgeBase::products, "product", "Product");
    every<DrugClass>(kb, "classes", &KnowledgeBase::classes, "drug class", "DrugClass");
    every<Condition>(kb, "conditions", &KnowledgeBase::conditions, "condition", "Condition");
    every<InteractionRule>(kb, "interactions", &KnowledgeBase::interactions, "drug-drug interaction rule",
                           "InteractionRule");
    every<ContraindicationRule>(kb, "contraindications", &KnowledgeBase::contraindications, "drug-condition rule",
                                "ContraindicationRule");
    every<CumulativeRule>(kb, "cumulative_rules", &KnowledgeBase::cumulative_rules,
                          "cumulative rule (a risk across a set of medications)", "CumulativeRule");
    every<Treatment>(kb, "treatments", &KnowledgeBase::treatments, "treatment", "Treatment");
    every<Profile>(kb, "profiles", &KnowledgeBase::profiles, "substance profile", "Profile");
    every<Source>(kb, "sources", &KnowledgeBase::sources, "source", "Source");

    // --- graph queries -------------------------------------------------------------------------
    kb.def(
          "classes_of",
          [](const KnowledgeBase& self, const Text& substance_id) { return self.classes_of(substance_id.value); },
          py::arg("substance_id"),
          R"doc(Classes a substance belongs to, directly or through parent classes.

Parameters
----------
substance_id : str
    A substance id.

Returns
-------
list of str
    Sorted class ids.

Raises
------
NotFoundError
    For an unknown substance id.
)doc")
        .def(
            "members_of",
            [](const KnowledgeBase& self, const Text& class_id) { return self.members_of(class_id.value); },
            py::arg("class_id"),
            R"doc(Substances in a class, directly or through subclasses.

Parameters
----------
class_id : str
    A class id.

Returns
-------
list of str
    Sorted substance ids.

Raises
------
NotFoundError
    For an unknown class id.
)doc")
        .def(
            "rules_for",
            [](const py::object& owner, const Text& id) {
                return references(owner.cast<const KnowledgeBase&>().rules_for(id.value), owner);
            },
            py::arg("id"),
            R"doc(Interaction rules naming an entity as a participant, or reaching a substance through its classes.

Parameters
----------
id : str
    A substance or class id.

Returns
-------
list of InteractionRule
    Views of the knowledge base's own rules (nothing is copied). A rule this knowledge base
    has already returned comes back as the same object; rule objects stay valid after the
    KnowledgeBase object is gone.

Raises
------
NotFoundError
    For an unknown id.
)doc")
        .def(
            "contraindications_for",
            [](const py::object& owner, const Text& id) {
                return references(owner.cast<const KnowledgeBase&>().contraindications_for(id.value), owner);
            },
            py::arg("id"),
            R"doc(Contraindication rules that apply to a substance, product or class (directly or via classes).

Parameters
----------
id : str
    A substance, product or class id.

Returns
-------
list of ContraindicationRule
    Views of the knowledge base's own rules (nothing is copied). A rule this knowledge base
    has already returned comes back as the same object; rule objects stay valid after the
    KnowledgeBase object is gone.

Raises
------
NotFoundError
    For an unknown id.
)doc")
        .def(
            "to_json", [](const KnowledgeBase& self) { return utf8(self.to_json()); },
            R"doc(The pack as one bundled JSON document.

``KnowledgeBase.from_json(kb.to_json())`` gives an identical knowledge base (pickling uses it).

Returns
-------
str
    JSON text.
)doc")
        .def(
            "regimen_dot",
            [](const KnowledgeBase& self, std::vector<Text> medication_texts, std::vector<Text> conditions,
               Severity min_severity, bool duplicate_therapy) {
                const std::vector<std::string> medications = strings(std::move(medication_texts));
                const CheckContext ctx = context(strings(std::move(conditions)), min_severity, duplicate_therapy);
                std::string dot;
                {
                    py::gil_scoped_release release;
                    dot = self.regimen_dot(medications, ctx);
                }
                return utf8(dot);
            },
            py::arg("medications"), py::kw_only(), py::arg_v("conditions", std::vector<Text>{}, "()"),
            py::arg_v("min_severity", Severity::Minor, "Severity.MINOR"), py::arg("duplicate_therapy") = true,
            R"doc(Graphviz DOT of the subgraph a check used: inputs -> ingredients -> classes -> fired rules.

Parameters
----------
medications : sequence of str
    As for :meth:`check`.
conditions : sequence of str, default ()
    As for :meth:`check`.
min_severity : Severity, default Severity.MINOR
    As for :meth:`check`.
duplicate_therapy : bool, default True
    As for :meth:`check`.

Returns
-------
str
    DOT text; edges are coloured by severity.
)doc")
        .def(
            "class_hierarchy_dot", [](const KnowledgeBase& self) { return utf8(self.class_hierarchy_dot()); },
            R"doc(Graphviz DOT of the pack's class hierarchy (classes and their parents).

Returns
-------
str
    DOT text.
)doc");

    kb.def(
          "to_snapshot",
          [](const KnowledgeBase& self) {
              std::string bytes;
              {
                  py::gil_scoped_release release;
                  bytes = self.to_snapshot();
              }
              return py::bytes(bytes);
          },
          R"doc(The compiled knowledge base as a snapshot (entities, graph and indexes; versioned and
checksummed, see docs/snapshot-format.md). :meth:`from_snapshot` reads it back without parsing
or compiling anything.

Returns
-------
bytes
)doc")
        .def(
            "save",
            [](const KnowledgeBase& self, const std::filesystem::path& path) {
                py::gil_scoped_release release;
                self.save(path);
            },
            py::arg("path"),
            R"doc(Writes :meth:`to_snapshot` to a file (through a temporary file renamed over it).

Parameters
----------
path : str or os.PathLike
    Where to write; :meth:`load` reads it back.

Returns
-------
None

Raises
------
DataError
    The file cannot be written.
)doc");

    // --- Python protocols ----------------------------------------------------------------------
    // Pickled as (snapshot, origin): no JSON to write or parse, no pack to validate or compile
    // again, and `info` unpickles equal. Pickles made by earlier versions hold the pack's JSON
    // text; they still load.
    kb.def(py::pickle(
               [](const KnowledgeBase& self) {
                   std::string bytes;
                   {
                       py::gil_scoped_release release;
                       bytes = self.to_snapshot();
                   }
                   return py::make_tuple(py::bytes(bytes), utf8(self.info().origin));
               },
               [](const py::object& state) {
                   if (py::isinstance<py::tuple>(state)) {
                       const auto items = state.cast<py::tuple>();
                       if (items.size() != 2 || !py::isinstance<py::bytes>(items[0]))
                           throw py::value_error("not a pickled KnowledgeBase state");
                       const std::string origin = items[1].cast<Text>().value;
                       std::string_view bytes = items[0].cast<py::bytes>();
                       py::gil_scoped_release release;
                       return KnowledgeBase::from_snapshot(bytes, origin);
                   }
                   return from_text(state, kDefaultMaxFileBytes, Text{"<memory>"});
               }))
        .def("__copy__", [](const KnowledgeBase& self) { return self; },
             "Copies share one immutable implementation, so a copy is cheap.")
        .def(
            "__deepcopy__", [](const KnowledgeBase& self, const py::object&) { return self; }, py::arg("memo"),
            "The knowledge base is immutable: a deep copy may share the implementation too.")
        .def("__repr__", [](const KnowledgeBase& self) {
            const PackInfo& i = self.info();
            return "<KnowledgeBase " + i.name + " " + i.version + " from " + i.origin + ": " +
                   std::to_string(i.substances) + " substances, " + std::to_string(i.products) + " products, " +
                   std::to_string(i.classes) + " classes, " + std::to_string(i.interactions) +
                   " interaction rules, " + std::to_string(i.contraindications) + " contraindication rules>";
        });
}

}  // namespace rxcaution::python
