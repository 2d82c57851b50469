#!/usr/bin/env bash
# Fresh machine -> every test: install deps, build and run the C++ suites (GoogleTest, CMake
# package consumer) with warnings as errors, then pip-install the Python package into a fresh
# virtual environment and run the pytest suite against the installed package.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash tools/install-deps.sh

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
