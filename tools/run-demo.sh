#!/usr/bin/env bash
# Fresh machine -> a regimen check on the built-in pack: install deps, build, run the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DRXCAUTION_BUILD_TESTS=OFF >/dev/null
cmake --build build --target rxcaution_cli
if (($#)); then
  ./build/rxcaution check "$@"
else
  ./build/rxcaution check --condition hypertension ketamine Suboxone
fi
