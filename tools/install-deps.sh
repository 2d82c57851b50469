#!/usr/bin/env bash
# Installs what rxcaution needs from Debian's packages, only if something is missing (idempotent).
# chromium and chromium-driver are for the checker page's browser tests (tests/python/test_web_browser.py).
# Needs root (or sudo) and a reachable Debian mirror the first time.
set -euo pipefail

# clang: the ASan+UBSan / TSan builds and the libFuzzer targets of tools/run-tests.sh (its
# sanitizer runtimes and libFuzzer come in libclang-rt-N-dev, added below for clang's version).
packages=(g++ cmake ninja-build pkg-config libboost-graph-dev nlohmann-json3-dev libgtest-dev libgmock-dev
          libbenchmark-dev graphviz python3-venv python3-dev chromium chromium-driver clang)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3-venv/python3-dev are only needed when the interpreter on PATH cannot make a venv.
if python3 -c "import venv, sysconfig, os; assert os.path.exists(sysconfig.get_paths()['include'] + '/Python.h')" 2>/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == python3-venv || "$p" == python3-dev ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
# A CMake >= 3.25 already on PATH (e.g. from pip) is good enough.
if command -v cmake >/dev/null && cmake -P /dev/stdin <<<'if(CMAKE_VERSION VERSION_LESS 3.25)
message(FATAL_ERROR old)
endif()' >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == cmake ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
if ((${#missing[@]})); then
  echo "rxcaution: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# libFuzzer and the sanitizer runtimes of the installed clang (Debian packages them separately,
# per LLVM version: libclang-rt-14-dev on bookworm).
clang_major=$(clang++ -dumpversion | cut -d. -f1)
rt="libclang-rt-${clang_major}-dev"
if ! dpkg-query -W -f='${Status}' "$rt" 2>/dev/null | grep -q "install ok installed"; then
  echo "rxcaution: installing $rt"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$rt"
fi
