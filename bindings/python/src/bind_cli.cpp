// The command-line tool (rxcaution/cli.hpp) as a function, so that `python -m rxcaution` runs the
// very code of the `rxcaution` executable.

#include "bindings.hpp"

#include "cli.hpp"

#include <sstream>
#include <string>
#include <vector>

namespace rxcaution::python {

void bind_cli(py::module_& m) {
    m.def(
        "run_cli",
        [](const std::vector<std::string>& args) {
            std::ostringstream out;
            std::ostringstream err;
            int code = 0;
            {
                py::gil_scoped_release release;
                code = cli::run(args, out, err);
            }
            return py::make_tuple(code, utf8(out.str()), utf8(err.str()));
        },
        py::arg("args"),
        R"doc(Runs the ``rxcaution`` command-line tool in-process.

Parameters
----------
args : sequence of str
    The arguments after the program name, e.g. ``["check", "Suboxone", "alprazolam"]``.

Returns
-------
tuple of (int, str, str)
    The exit status (0 done; 1 usage or pack error; 2 an input could not be resolved; 3 a
    warning at or above ``--fail-on``), then what the tool wrote to standard output and to
    standard error. Bytes that are not UTF-8 are surrogate-escaped: encode with
    ``"surrogateescape"`` to get them back exactly.
)doc");
}

}  // namespace rxcaution::python
