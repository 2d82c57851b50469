// The exception hierarchy of rxcaution/errors.hpp as Python exception classes, and the translator
// that raises them. The classes are created here (not in Python) so that `_core` is complete on its
// own; multiple inheritance (DataError is also a ValueError, NotFoundError also a KeyError) is why
// they are built with PyErr_NewExceptionWithDoc rather than py::register_exception.

#include "bindings.hpp"

#include <rxcaution/errors.hpp>

#include <exception>
#include <string>

namespace rxcaution::python {

namespace {

// Module-lifetime references (the extension is never unloaded).
struct ExceptionTypes {
    py::handle error, data_error, parse_error, schema_error, integrity_error, unsupported_format_version,
        not_found_error, limit_error;
};
ExceptionTypes types;

py::handle make_exception(py::module_& m, const char* name, const char* doc, const py::tuple& bases) {
    // "rxcaution.X" makes __module__ the public package, which is where users (and pickle) find it.
    const std::string qualified = std::string("rxcaution.") + name;
    PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
    if (!cls) throw py::error_already_set();
    m.add_object(name, py::handle(cls));
    return cls;  // the new reference is kept for the life of the process
}

// Raises `type` with the C++ message as its only argument and `attributes` set on the instance.
template <class Fill>
void raise(py::handle type, const std::exception& e, Fill fill) {
    py::object exc = type(py::str(e.what()));
    fill(exc);
    PyErr_SetObject(type.ptr(), exc.ptr());
}

void translate(std::exception_ptr p) {
    if (!p) return;
    // Most-derived first: each catch below would also match the subclasses after it.
    try {
        std::rethrow_exception(p);
    } catch (const ParseError& e) {
        raise(types.parse_error, e, [&](py::object& x) {
            x.attr("file") = e.file();
            x.attr("line") = e.line();
            x.attr("column") = e.column();
            x.attr("byte_offset") = e.byte_offset();
        });
    } catch (const SchemaError& e) {
        raise(types.schema_error, e, [&](py::object& x) {
            x.attr("file") = e.file();
            x.attr("pointer") = e.pointer();
            x.attr("expected") = e.expected();
            x.attr("found") = e.found();
        });
    } catch (const IntegrityError& e) {
        raise(types.integrity_error, e, [&](py::object& x) {
            x.attr("file") = e.file();
            x.attr("problems") = py::cast(e.problems());
        });
    } catch (const UnsupportedFormatVersion& e) {
        raise(types.unsupported_format_version, e, [&](py::object& x) {
            x.attr("file") = e.file();
            x.attr("found") = e.found();
            x.attr("supported") = e.supported();
        });
    } catch (const DataError& e) {
        raise(types.data_error, e, [&](py::object& x) { x.attr("file") = e.file(); });
    } catch (const NotFoundError& e) {
        raise(types.not_found_error, e, [&](py::object& x) {
            x.attr("key") = e.key();
            x.attr("suggestions") = py::cast(e.suggestions());
        });
    } catch (const LimitError& e) {
        raise(types.limit_error, e, [&](py::object& x) {
            x.attr("name") = e.name();
            x.attr("limit") = e.limit();
            x.attr("actual") = e.actual();
        });
    } catch (const Error& e) {
        raise(types.error, e, [](py::object&) {});
    }
    // Anything else propagates to pybind11's own translators (RuntimeError, MemoryError, ...).
}

}  // namespace

void bind_errors(py::module_& m) {
    types.error = make_exception(m, "Error", R"doc(Base class of every exception raised by rxcaution.

``str(error)`` is the full, human-readable message; ``error.args == (message,)``.
)doc",
                                 py::make_tuple(py::handle(PyExc_Exception)));

    types.data_error = make_exception(m, "DataError", R"doc(A knowledge pack could not be used.

Also a ``ValueError``. Raised as such for a missing, unreadable or oversized file
(``max_file_bytes``); the subclasses below name more precise causes.

Attributes
----------
file : str
    The pack file the problem is in (e.g. ``data/interactions.json``), or the ``origin`` given to
    ``KnowledgeBase.from_json`` (``<memory>`` by default).
)doc",
                                      py::make_tuple(types.error, py::handle(PyExc_ValueError)));

    types.parse_error = make_exception(m, "ParseError", R"doc(The text is not valid JSON.

The message reads ``FILE:LINE:COLUMN: invalid JSON at byte OFFSET: detail``.

Attributes
----------
file : str
    The file (or origin) of the text.
line : int
    1-based line of the error.
column : int
    1-based column of the error.
byte_offset : int
    0-based byte offset of the error.
)doc",
                                       py::make_tuple(types.data_error));

    types.schema_error = make_exception(m, "SchemaError", R"doc(A value of the pack has the wrong shape.

The message reads ``FILE:/json/pointer: expected X, got Y``.

Attributes
----------
file : str
    The file (or origin) of the value.
pointer : str
    JSON pointer (RFC 6901) of the offending value.
expected : str
    What the format requires there.
found : str
    What was found (a short rendering of the value, or ``nothing ...`` for a missing field).
)doc",
                                        py::make_tuple(types.data_error));

    types.integrity_error = make_exception(m, "IntegrityError", R"doc(The pack is well-formed but inconsistent.

Dangling references, duplicate ids, class cycles, facts without sources... Every problem found is
listed, not only the first.

Attributes
----------
file : str
    The pack (manifest or bundled file) that was loaded.
problems : list of str
    One entry per problem, each ``FILE:/pointer: description``.
)doc",
                                           py::make_tuple(types.data_error));

    types.unsupported_format_version = make_exception(m, "UnsupportedFormatVersion",
                                                      R"doc(The pack declares a ``format_version`` this library cannot read.

Attributes
----------
file : str
    The file declaring the version.
found : int
    The version the pack declares.
supported : int
    The version this library reads.
)doc",
                                                      py::make_tuple(types.data_error));

    types.not_found_error = make_exception(m, "NotFoundError", R"doc(A name or id was looked up and is not in the knowledge base.

Also a ``KeyError``; unlike a plain ``KeyError``, ``str(error)`` is the message itself, unquoted.

Attributes
----------
key : str
    The text that was looked up.
suggestions : list of str
    Up to three close names, best first (may be empty).
)doc",
                                           py::make_tuple(types.error, py::handle(PyExc_KeyError)));

    types.limit_error = make_exception(m, "LimitError", R"doc(An input exceeds a documented limit (e.g. more medications than one check accepts).

Also a ``ValueError``.

Attributes
----------
name : str
    Which limit: ``medications``, ``conditions``, ...
limit : int
    The largest accepted value.
actual : int
    What was given.
)doc",
                                       py::make_tuple(types.error, py::handle(PyExc_ValueError)));

    // KeyError.__str__ returns repr(key); a message reads better as itself.
    py::object not_found = py::reinterpret_borrow<py::object>(types.not_found_error);
    not_found.attr("__str__") = py::cpp_function(
        [](const py::object& self) -> py::object {
            const py::tuple args = self.attr("args");
            if (args.size() == 1) return py::str(args[0]);
            return py::handle(PyExc_BaseException).attr("__str__")(self);
        },
        py::name("__str__"), py::is_method(not_found), "The message, unquoted.");

    py::register_exception_translator(&translate);
}

}  // namespace rxcaution::python
