#pragma once
/// @file cli.hpp
/// The `rxcaution` command-line tool as a function, so that the executable and
/// `python -m rxcaution` share one implementation. Not part of the library: it is built as the
/// static target `rxcaution_cli_lib`, linked into the executable and into the Python module, so
/// that the core library spawns no processes and writes no temporary files.


#include <ostream>
#include <string>
#include <vector>

namespace rxcaution::cli {

/// Exit statuses of the command-line tool.
enum ExitCode : int {
    kOk = 0,              ///< success
    kUsage = 1,           ///< bad arguments, bad pack, unknown id
    kUnresolved = 2,      ///< an input could not be resolved (without --allow-unresolved)
    kSeverityFound = 3,   ///< a warning at or above --fail-on was found
};

/// Runs the tool. @param args the arguments after the program name;
/// @param out standard output; @param err standard error.
/// @return the exit status (see ExitCode). Never throws.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace rxcaution::cli
