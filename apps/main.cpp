// The rxcaution command-line tool; all logic is in rxcaution::cli::run (shared with Python).
#include "cli.hpp"

#include <iostream>

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    return rxcaution::cli::run(args, std::cout, std::cerr);
}
