// The private extension module `rxcaution._core`; the public API is the pure-Python package
// `rxcaution`, which re-exports it. One bind_<area>() per public header of the C++ library.

#include "bindings.hpp"

PYBIND11_MODULE(_core, m) {
    m.doc() = "Private extension module of rxcaution; import the public names from `rxcaution`.";
    m.attr("__version__") = RXCAUTION_VERSION;

    // Order matters: enums and errors first (used in default arguments and translators), then
    // the value types before the functions that return them (so that signatures name them).
    rxcaution::python::bind_types(m);
    rxcaution::python::bind_errors(m);
    rxcaution::python::bind_entities(m);
    rxcaution::python::bind_report(m);
    rxcaution::python::bind_knowledge_base(m);
    rxcaution::python::bind_screen(m);
    rxcaution::python::bind_factorize(m);
    rxcaution::python::bind_cli(m);
}
