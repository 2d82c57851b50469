// The build-time pack compiler: loads a pack (validating it) and writes its snapshot, which the
// build then links into the library as the built-in pack. It links the library's objects without
// a built-in pack, so it uses nothing but load() and save(); the snapshot it writes is loaded back,
// with every check a snapshot file gets, before the build embeds it.
//
//   rxcaution_packc PACK OUT.rxpack

#include <rxcaution/rxcaution.hpp>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s PACK OUT.rxpack\n", argv[0]);
        return 1;
    }
    try {
        rxcaution::KnowledgeBase::load(argv[1]).save(argv[2]);
        // Read back as any snapshot file is, with every check (checksum, bounds, shapes, the pair
        // index): the library reads its embedded copy without repeating them on every start.
        (void)rxcaution::KnowledgeBase::load(argv[2]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rxcaution_packc: %s\n", e.what());
        return 1;
    }
    return 0;
}
