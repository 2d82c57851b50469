#!/usr/bin/env bash
# Fresh machine -> every test: install deps, build and run the C++ suites (GoogleTest, CMake
# package consumer) with warnings as errors, then pip-install the Python package into a fresh
# virtual environment and run the pytest suite against the installed package; then the C++ suite
# again under ASan+UBSan (build-asan, Clang, with the libFuzzer targets) and under TSan
# (build-tsan), and a short smoke run of each fuzz target.
#
# RXCAUTION_SKIP_SANITIZERS=1 skips the sanitizer builds and the fuzz smoke locally (they add
# roughly 10 minutes on 2 cores); CI (CI=true) always runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash tools/install-deps.sh
start=$SECONDS

echo "== C++: configure, build, test"
cmake -S . -B build-ci -G Ninja -DCMAKE_BUILD_TYPE=Release -DRXCAUTION_BUILD_TESTS=ON -DRXCAUTION_WARNINGS_AS_ERRORS=ON >/dev/null
cmake --build build-ci -j2
(cd build-ci && ctest --output-on-failure -j2)

echo "== Python: pip install . into a fresh venv, then pytest"
venv="$root/build-ci/venv"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q "$root[test]"
# Run from outside the source tree so that `import rxcaution` can only find the installed package.
cd "$root/build-ci"
# The CLI tests also compare `python -m rxcaution` byte for byte with the C++ executable.
export RXCAUTION_CLI="$root/build-ci/rxcaution"
# The checker page's browser tests must run here (install-deps.sh installed Chromium), not skip.
export RXCAUTION_REQUIRE_BROWSER=1 RXCAUTION_WEB_SCREENSHOT="$root/build-ci/web-checker.png"
"$venv/bin/python" -m pytest -c "$root/pyproject.toml" --rootdir "$root" "$root/tests/python"
echo "== C++ and Python suites: $((SECONDS - start)) s"

cd "$root"
if [[ "${RXCAUTION_SKIP_SANITIZERS:-0}" == 1 && "${CI:-}" != true ]]; then
  echo "== sanitizers and fuzz smoke skipped (RXCAUTION_SKIP_SANITIZERS=1)"
  exit 0
fi
# A report is a failure: stop at the first one, with a stack. Leaks count (LeakSanitizer).
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
# The installed-package test links a consumer without sanitizer flags: it runs in build-ci only.
no_package='^package\.'

echo "== C++ under ASan+UBSan (Clang), with the fuzz targets"
t0=$SECONDS
cmake -S . -B build-asan -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRXCAUTION_FUZZ=ON -DRXCAUTION_BUILD_TESTS=ON -DRXCAUTION_INSTALL=OFF >/dev/null
cmake --build build-asan -j2
(cd build-asan && ctest --output-on-failure -j2 -E "$no_package")
echo "== ASan+UBSan: $((SECONDS - t0)) s"

echo "== fuzz smoke (tests/fuzz, ${RXCAUTION_FUZZ_SMOKE_SECONDS:-20} s per target)"
t0=$SECONDS
bash tools/fuzz.sh smoke "${RXCAUTION_FUZZ_SMOKE_SECONDS:-20}"
echo "== fuzz smoke: $((SECONDS - t0)) s"

echo "== C++ under TSan (Clang)"
t0=$SECONDS
cmake -S . -B build-tsan -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRXCAUTION_SANITIZE=thread -DRXCAUTION_BUILD_TESTS=ON -DRXCAUTION_INSTALL=OFF >/dev/null
cmake --build build-tsan -j2
(cd build-tsan && ctest --output-on-failure -j2 -E "$no_package")
echo "== TSan: $((SECONDS - t0)) s"
echo "== all suites: $((SECONDS - start)) s"
