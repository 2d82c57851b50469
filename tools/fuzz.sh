#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz (see tests/fuzz/README.md).
#
#   tools/fuzz.sh TARGET [HOURS]     fuzz one target for HOURS (default 1; fractions allowed),
#                                    continuing past findings; corpus and findings are kept in
#                                    build-asan/fuzz/TARGET/{corpus,findings} between runs
#   tools/fuzz.sh smoke [SECONDS]    every target for SECONDS each (default 20) from the seeds
#                                    (CI; tools/run-tests.sh); fails on any finding that is not
#                                    a known one of tests/fuzz/pending/
#   tools/fuzz.sh triage TARGET      replays each finding of TARGET and groups them by the first
#                                    line that says what broke
#   tools/fuzz.sh list               the targets
#   tools/fuzz.sh seeds-snapshot     rewrites tests/fuzz/corpus/snapshot after a snapshot format change
#
# TARGET is pack_json, check, report or snapshot (or fuzz_pack_json...). The build directory (default
# build-asan, override with RXCAUTION_FUZZ_BUILD) is configured with Clang, ASan+UBSan and
# RXCAUTION_FUZZ=ON when missing. One fuzzer at a time: the machine's cores are shared.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build="${RXCAUTION_FUZZ_BUILD:-$root/build-asan}"
targets=(pack_json check report snapshot)

# What broke, in one line that is the same for every input hitting the same defect (numbers in
# messages and addresses are blanked): the key that groups findings and recognises known ones.
signature() {  # TARGET FILE
  local out sig
  out=$("$build/tests/fuzz/fuzz_$1" -runs=1 -timeout=10 -rss_limit_mb=2048 "$2" 2>&1 || true)
  sig=$(grep -m1 -E "what\(\)|invariant broken|ERROR: AddressSanitizer|runtime error|ERROR: libFuzzer: (timeout|out-of-memory)" <<<"$out" |
        sed -E "s/^ +//; s/parsing '.*'/parsing '...'/; s/0x[0-9a-f]+/0x.../g; s/(.{160}).*/\1.../" || true)
  echo "${sig:-no longer reproduces}"
}

usage() { awk 'NR > 1 && /^set -euo/ {exit} NR > 1' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

seeds_of() {  # the read-only seed directories of a target
  case "$1" in
    pack_json) echo "$root/tests/data" ;;
    check) echo "$root/tests/fuzz/corpus/check" ;;
    report) echo "$root/tests/fuzz/corpus/check $root/tests/fuzz/corpus/report" ;;
    snapshot) echo "$root/tests/fuzz/corpus/snapshot" ;;
  esac
}
dict_of() {
  case "$1" in
    pack_json) echo "-dict=$root/tests/fuzz/dict/pack_json.dict" ;;
    snapshot) echo "" ;;  # binary: no useful dictionary
    *) echo "-dict=$root/tests/fuzz/dict/check.dict" ;;
  esac
}
# Packs need room for a few entities; regimens stay short because every unknown line costs a
# suggestion search over all names.
max_len_of() { case "$1" in pack_json | snapshot) echo 8192 ;; *) echo 512 ;; esac; }

ensure_built() {
  if [[ ! -x "$build/tests/fuzz/fuzz_check" || ! -f "$build/build.ninja" ]]; then
    command -v clang++ >/dev/null || { echo "fuzz: clang++ is missing (bash tools/install-deps.sh)" >&2; exit 1; }
    CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DRXCAUTION_FUZZ=ON -DRXCAUTION_BUILD_TESTS=ON -DRXCAUTION_INSTALL=OFF >/dev/null
  fi
  cmake --build "$build" -j2 --target fuzz_pack_json fuzz_check fuzz_report fuzz_snapshot >/dev/null
}

common_options() {  # TARGET
  # -timeout: one input taking 10 s is a finding (denial of service), as is 2 GB of memory.
  echo "$(dict_of "$1") -max_len=$(max_len_of "$1") -timeout=10 -rss_limit_mb=2048 -print_final_stats=1"
}

[[ $# -ge 1 ]] || usage
case "$1" in
  list) printf '%s\n' "${targets[@]}" ;;
  seeds-snapshot)
    # The snapshot seeds are snapshots of the small test packs; rewrite them after a change of the
    # snapshot format (each file: one mode byte, then the snapshot; see fuzz_snapshot.cpp).
    ensure_built
    cmake --build "$build" -j2 --target rxcaution_cli >/dev/null
    seeds="$root/tests/fuzz/corpus/snapshot"
    tmp=$(mktemp -d)
    "$build/rxcaution" compile "$root/tests/data/mini_bundled.json" -o "$tmp/b.rxpack" >/dev/null
    "$build/rxcaution" compile "$root/tests/data/mini" -o "$tmp/d.rxpack" >/dev/null
    { printf '\x00'; cat "$tmp/b.rxpack"; } >"$seeds/mini_bundled-raw"
    { printf '\x01'; cat "$tmp/b.rxpack"; } >"$seeds/mini_bundled-sealed"
    { printf '\x01'; cat "$tmp/d.rxpack"; } >"$seeds/mini-dir-sealed"
    rm -r "$tmp"
    ;;
  triage)
    t="${2#fuzz_}"
    for f in "$build/fuzz/$t/findings"/*; do
      [[ -f "$f" ]] || continue
      printf '%s\t%s\n' "$(signature "$t" "$f")" "$(basename "$f")"
    done | sort | awk -F'\t' '{n[$1]++; ex[$1]=$2} END {for (s in n) printf "%5d  %s\n       e.g. %s\n", n[s], s, ex[s]}'
    ;;
  smoke)
    seconds="${2:-20}"
    ensure_built
    work="$build/fuzz/smoke"
    failed=0
    for t in "${targets[@]}"; do
      rm -rf "${work:?}/$t" && mkdir -p "$work/$t/corpus" "$work/$t/findings"
      # Known defects: the inputs of tests/fuzz/pending/TARGET that still crash. Finding one of
      # them again is reported, not failed (its pending ctest tracks it); anything else fails.
      known=""
      for f in "$root/tests/fuzz/pending/$t"/*; do
        [[ -f "$f" ]] || continue
        sig=$(signature "$t" "$f")
        [[ "$sig" == "no longer reproduces" ]] || known+="$sig"$'\n'
      done
      echo "== fuzz smoke: $t for ${seconds}s"
      # shellcheck disable=SC2046
      "$build/tests/fuzz/fuzz_$t" $(common_options "$t") -max_total_time="$seconds" -seed=1 \
        -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -artifact_prefix="$work/$t/findings/" "$work/$t/corpus" $(seeds_of "$t") >"$work/$t/log" 2>&1 || {
          tail -n 40 "$work/$t/log" >&2; echo "fuzz smoke: $t did not run" >&2; failed=1; continue; }
      runs=$(grep -oE '^#[0-9]+' "$work/$t/log" | tail -1 | tr -d '#')
      echo "   ${runs:-0} executions, $(ls "$work/$t/corpus" | wc -l) corpus inputs, $(ls "$work/$t/findings" | wc -l) findings"
      for f in "$work/$t/findings"/*; do
        [[ -f "$f" ]] || continue
        sig=$(signature "$t" "$f")
        if [[ "$sig" == "no longer reproduces" ]]; then
          echo "   flaky finding (does not reproduce alone): $f" >&2
        elif grep -qxF -- "$sig" <<<"$known"; then
          echo "   known defect (tests/fuzz/pending/$t), found again: $sig"
        else
          echo "FUZZ FINDING in $t: $sig" >&2
          echo "   input: $f (base64: $(base64 -w0 "$f" | head -c 400))" >&2
          failed=1
        fi
      done
    done
    if ((failed)); then
      echo "fuzz smoke: new findings; see tests/fuzz/README.md (minimise, add to pending/ or fix)" >&2
      exit 1
    fi
    ;;
  -h|--help) usage ;;
  *)
    t="${1#fuzz_}"
    [[ " ${targets[*]} " == *" $t "* ]] || { echo "fuzz: unknown target '$1' (one of: ${targets[*]})" >&2; exit 2; }
    hours="${2:-1}"
    seconds=$(python3 -c "import sys; print(max(1, int(float(sys.argv[1]) * 3600)))" "$hours")
    ensure_built
    work="$build/fuzz/$t"
    mkdir -p "$work/corpus" "$work/findings"
    echo "fuzz: $t for ${seconds}s; corpus $work/corpus, findings $work/findings, log $work/log"
    # -fork=1 -ignore_*: a finding is saved and fuzzing goes on (a known, unfixed defect must not
    # end an hours-long run); the child process is restarted after each finding.
    # shellcheck disable=SC2046
    "$build/tests/fuzz/fuzz_$t" $(common_options "$t") -max_total_time="$seconds" \
      -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
      -artifact_prefix="$work/findings/" "$work/corpus" $(seeds_of "$t") 2>&1 | tee "$work/log" | grep -E '^#[0-9]+: |^INFO: (fuzzed|exiting)' || true
    echo "fuzz: $t done; $(ls "$work/corpus" | wc -l) corpus inputs, $(ls "$work/findings" | wc -l) findings in $work/findings"
    ;;
esac
