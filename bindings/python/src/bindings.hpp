#pragma once
// Internal header of the Python extension `rxcaution._core`: one bind_<area>() per public header,
// plus the helper that binds the library's small value types as read-only Python classes.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace rxcaution::python {

namespace py = pybind11;

/// Text from Python for the library. A Python str may hold lone UTF-16 surrogates ("\ud800"),
/// which have no UTF-8 form: pybind11's std::string conversion then fails with a TypeError. A
/// parameter of this type takes any str instead, with each lone surrogate replaced by U+FFFD
/// (the text is then simply unknown to the pack, and reported as such).
struct Text {
    std::string value;
};

}  // namespace rxcaution::python

namespace pybind11::detail {
template <>
struct type_caster<rxcaution::python::Text> {
    PYBIND11_TYPE_CASTER(rxcaution::python::Text, const_name("str"));
    bool load(handle src, bool) {
        if (!src || !PyUnicode_Check(src.ptr())) return false;
        Py_ssize_t size = 0;
        if (const char* utf8 = PyUnicode_AsUTF8AndSize(src.ptr(), &size)) {
            value.value.assign(utf8, static_cast<std::size_t>(size));
            return true;
        }
        PyErr_Clear();
        // Only lone surrogates make that fail: round-trip through UTF-16 to replace them.
        const object fixed = reinterpret_borrow<object>(src).attr("encode")("utf-16", "surrogatepass")
                                 .attr("decode")("utf-16", "replace");
        const char* utf8 = PyUnicode_AsUTF8AndSize(fixed.ptr(), &size);
        if (!utf8) {
            PyErr_Clear();
            return false;
        }
        value.value.assign(utf8, static_cast<std::size_t>(size));
        return true;
    }
    static handle cast(const rxcaution::python::Text& t, return_value_policy, handle) {
        return PyUnicode_DecodeUTF8(t.value.data(), static_cast<Py_ssize_t>(t.value.size()), "surrogateescape");
    }
};
}  // namespace pybind11::detail

namespace rxcaution::python {

/// The texts of a sequence of str, read as the Text caster reads each one, without the generic
/// list caster's per-item objects and the copy into a second vector (a population's 77,455 texts,
/// every screen call).
/// @throws py::type_error when the argument is not a sequence or an item is not a str.
inline std::vector<std::string> texts_of(const py::handle& sequence, const char* what) {
    const auto fast = py::reinterpret_steal<py::object>(PySequence_Fast(sequence.ptr(), what));
    if (!fast) throw py::error_already_set();
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast.ptr());
    PyObject** items = PySequence_Fast_ITEMS(fast.ptr());
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(n));
    py::detail::make_caster<Text> caster;
    for (Py_ssize_t i = 0; i < n; ++i) {
        if (PyUnicode_Check(items[i]) && PyUnicode_IS_COMPACT_ASCII(items[i])) {  // its bytes are its UTF-8
            out.emplace_back(static_cast<const char*>(PyUnicode_DATA(items[i])),
                             static_cast<std::size_t>(PyUnicode_GET_LENGTH(items[i])));
            continue;
        }
        if (!caster.load(items[i], false)) throw py::type_error(std::string(what));
        out.push_back(std::move(py::detail::cast_op<Text&>(caster).value));
    }
    return out;
}

/// The strings of a list of Text.
inline std::vector<std::string> strings(std::vector<Text>&& texts) {
    std::vector<std::string> out;
    out.reserve(texts.size());
    for (auto& t : texts) out.push_back(std::move(t.value));
    return out;
}

void bind_types(py::module_& m);           // rxcaution/types.hpp
void bind_errors(py::module_& m);          // rxcaution/errors.hpp
void bind_entities(py::module_& m);        // rxcaution/entities.hpp
void bind_report(py::module_& m);          // rxcaution/report.hpp
void bind_knowledge_base(py::module_& m);  // rxcaution/knowledge_base.hpp
void bind_screen(py::module_& m);         // rxcaution/screen.hpp (after bind_knowledge_base)
void bind_factorize(py::module_& m);      // private: Arrow string columns dictionary-encoded for screen
void bind_cli(py::module_& m);             // rxcaution/cli.hpp

/// Converts a field value read from a bound object to plain, JSON-compatible Python data:
/// enums become their stable spelling, value objects their to_dict(), lists and dicts recurse.
py::object plain(py::handle value);

/// repr() of a field value, with enum members shown as `Severity.MAJOR`.
std::string field_repr(py::handle value);

/// Decodes UTF-8 text from the core without ever failing (invalid bytes are surrogate-escaped, so
/// that encoding back with "surrogateescape" restores the exact bytes).
py::str utf8(const std::string& text);

/// Binds a C++ aggregate as an immutable Python class: one read-only property per field (each read
/// returns a copy: values are returned by value), `to_dict()`, a readable `__repr__` and
/// field-wise `==`. Instances are only ever created by the library. `Holder` is
/// `std::shared_ptr<T>` for the rule types that queries return by reference: the wrapper then keeps
/// the knowledge base alive through an aliasing pointer, which costs far less per object than
/// pybind11's keep_alive bookkeeping (see `references` in bind_knowledge_base.cpp).
template <class T, class Holder = std::unique_ptr<T>>
class ValueClass {
public:
    ValueClass(py::handle scope, const char* name, const char* doc)
        : cls_(scope, name, doc, py::is_final()), name_(name), fields_(std::make_shared<std::vector<std::string>>()),
          repr_fields_(std::make_shared<std::vector<std::string>>()) {}

    /// A read-only attribute mirroring the C++ member of the same name.
    template <class M>
    ValueClass& field(const char* name, M T::*member, const char* doc) {
        cls_.def_property_readonly(name, [member](const T& self) -> M { return self.*member; }, doc);
        fields_->emplace_back(name);
        return *this;
    }

    /// A read-only attribute computed by `getter` (e.g. text written on access).
    template <class F>
    ValueClass& computed(const char* name, F getter, const char* doc) {
        cls_.def_property_readonly(name, std::move(getter), doc);
        fields_->emplace_back(name);
        return *this;
    }

    /// The fields shown by repr() (the default is every field).
    ValueClass& repr(std::initializer_list<const char*> names) {
        repr_fields_->assign(names.begin(), names.end());
        return *this;
    }

    /// Access to the underlying pybind11 class for extra methods.
    py::class_<T, Holder>& cls() { return cls_; }

    /// Adds to_dict and __repr__ (unless the class defines its own) and __eq__ (field-wise; pybind11
    /// then sets __hash__ to None, as for any class defining only __eq__).
    py::class_<T, Holder>& finish(bool with_to_dict = true, bool with_repr = true) {
        auto fields = fields_;
        if (with_to_dict) {
            cls_.def(
                "to_dict",
                [fields](const py::object& self) {
                    py::dict out;
                    for (const auto& f : *fields) out[py::str(f)] = plain(self.attr(f.c_str()));
                    return out;
                },
                R"doc(Every field as plain data.

Returns
-------
dict
    Field name -> value, in declaration order; enums are given as their stable spelling
    (``"major"``), nested objects as dicts, lists as lists. ``json.dumps`` accepts it.
)doc");
        }
        if (with_repr) {
            auto shown = repr_fields_->empty() ? fields_ : repr_fields_;
            std::string name = name_;
            cls_.def("__repr__", [shown, name](const py::object& self) {
                std::string text = name + "(";
                bool first = true;
                for (const auto& f : *shown) {
                    text += (first ? "" : ", ") + f + "=" + field_repr(self.attr(f.c_str()));
                    first = false;
                }
                return text + ")";
            });
        }
        cls_.def(
            "__eq__",
            [fields](const py::object& self, const py::object& other) -> py::object {
                if (!py::type::of(self).is(py::type::of(other)))
                    return py::reinterpret_borrow<py::object>(py::handle(Py_NotImplemented));
                for (const auto& f : *fields)
                    if (!self.attr(f.c_str()).equal(other.attr(f.c_str()))) return py::bool_(false);
                return py::bool_(true);
            },
            py::arg("other"));
        return cls_;
    }

private:
    py::class_<T, Holder> cls_;
    std::string name_;
    std::shared_ptr<std::vector<std::string>> fields_;
    std::shared_ptr<std::vector<std::string>> repr_fields_;
};

}  // namespace rxcaution::python
