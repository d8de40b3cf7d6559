#!/usr/bin/env bash
# Compares the outputs of two builds of Rafter byte for byte: builds each checkout (a git revision, or a folder
# holding a checkout), runs the same cases with each, and says which files differ. summary.json is compared without
# its "simulator" block and the build hash (so are sweep.json and sweep points; wall time and event rates differ between any two runs).
#
# Usage: scripts/compare-builds.sh OLD NEW [--full] [--study]
#   OLD, NEW   a git revision of this repository (e.g. main, HEAD~1) or a path to a checkout (e.g. a worktree)
#   --full     also the whole GPT-3 run (96 layers + 1024 decode steps, about 15 s each)
#   --study    also the 147-point SRAM x clock x bandwidth study (about 4 minutes each with JOBS=2)
# Exit code: 0 all equal, 1 some file differs, 2 bad arguments or a build failed.
# Environment: COMPARE_DIR (default: a new temporary folder; kept, its path printed).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -lt 2 ]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
old="$1"; new="$2"; shift 2
full=0; study=0
for a in "$@"; do
  case "$a" in
    --full) full=1 ;;
    --study) study=1 ;;
    *) echo "compare-builds: unknown option $a (expected --full or --study)" >&2; exit 2 ;;
  esac
done
work="${COMPARE_DIR:-$(mktemp -d /tmp/rafter-compare.XXXXXX)}"
mkdir -p "$work"

# A checkout of OLD or NEW under $work/src-<side>: a folder as it is, a revision exported by git archive.
checkout() {
  local spec="$1" side="$2"
  local dir="$work/src-$side"
  if [ -d "$spec" ]; then
    dir="$(cd "$spec" && pwd)"
  else
    rm -rf "$dir"; mkdir -p "$dir"
    if ! git -C "$here" archive "$spec" | tar -x -C "$dir"; then
      echo "compare-builds: $spec is neither a folder nor a revision of $here" >&2; exit 2
    fi
  fi
  if ! (cd "$dir" && mvn -q -B -o -DskipTests package >"$work/build-$side.log" 2>&1); then
    echo "compare-builds: the build of $spec failed; see $work/build-$side.log" >&2; exit 2
  fi
  cp "$dir/target/rafter.jar" "$work/rafter-$side.jar"
  echo "$dir"
}

# Runs every case with one build; each case writes under $work/out-<side>/<case>.
run_cases() {
  local side="$1" src="$2"
  local out="$work/out-$side"
  rm -rf "$out"; mkdir -p "$out"
  local jar="$work/rafter-$side.jar"
  local r=(java -Djava.awt.headless=true -jar "$jar")
  local m=models t=traces
  (
    cd "$src"
    "${r[@]}" simulate --hardware $m/hardware/a100.yaml --trace $t/gemm-a100-checks.csv --out "$out/checks"
    "${r[@]}" simulate --hardware $m/hardware/a100.yaml --trace $t/gemm-small.csv --events both --out "$out/small"
    "${r[@]}" simulate --hardware $m/hardware/h100.yaml --workload $m/workloads/tiny.yaml --events both --out "$out/tiny"
    "${r[@]}" simulate --hardware $m/hardware/a100.yaml --workload $m/workloads/gpt3-175b.yaml --layers 1 \
      --phase prefill --out "$out/gpt3-layer"
    "${r[@]}" simulate --hardware $m/hardware/a100.yaml --workload $m/workloads/llama3-8b.yaml --out "$out/llama3-8b"
    "${r[@]}" simulate --hardware $m/hardware/mi300x.yaml --workload $m/workloads/mixtral-8x7b.yaml --layers 2 \
      --set run.batch=2 --set run.prompt_tokens=128 --decode-steps 4 --events both --out "$out/mixtral"
    "${r[@]}" roofline --hardware $m/hardware/a100.yaml --workload $m/workloads/gpt3-175b.yaml --phase decode \
      --out "$out/roofline"
    "${r[@]}" sweep --hardware $m/hardware/sram-study-45nm.yaml --trace validation/findings-prefill.csv \
      --phase prefill --vary core.local_buffer.capacity_kib=16,64 --vary clock_mhz=400,1000 --jobs 2 \
      --out "$out/sweep"
    "${r[@]}" validate --out "$out/validate"
    "${r[@]}" lower --workload $m/workloads/llama3-8b.yaml --phase all --out "$out/lower/llama3-8b.csv"
    if [ "$full" = 1 ]; then
      "${r[@]}" simulate --hardware $m/hardware/a100.yaml --workload $m/workloads/gpt3-175b.yaml \
        --allow-overcommit --out "$out/gpt3-full"
    fi
    if [ "$study" = 1 ]; then
      JOBS="${JOBS:-2}" "$src/studies/sram-clock-bandwidth/run.sh" "$out/study"
    fi
  ) >"$work/run-$side.log" 2>&1 || { echo "compare-builds: a case failed with the $side build; see $work/run-$side.log" >&2; exit 2; }
}

old_src="$(checkout "$old" old)"
new_src="$(checkout "$new" new)"
# The two sides run at once (each case is mostly one thread).
run_cases old "$old_src" & pid_old=$!
run_cases new "$new_src" & pid_new=$!
wait "$pid_old" || exit 2
wait "$pid_new" || exit 2

# summary.json, sweep.json and sweep points without their simulator blocks and the build's own hash (a point's
# "inputs.rafter", sweep.json's "rafter", and a point's digest, which covers that hash); everything else as written.
normalise() {
  local f
  while IFS= read -r f; do
    jq -S 'del(.simulator, .digest, .rafter) | if (.inputs | type) == "object" then .inputs |= del(.rafter) else . end' \
      "$f" > "$f.cmp" && mv "$f.cmp" "$f"
  done < <(find "$1" \( -name summary.json -o -name sweep.json -o -path '*/points/*.json' \))
}
normalise "$work/out-old"
normalise "$work/out-new"

differ=0
while IFS= read -r rel; do
  a="$work/out-old/$rel"; b="$work/out-new/$rel"
  if [ ! -f "$b" ]; then echo "only in old: $rel"; differ=1
  elif ! cmp -s "$a" "$b"; then echo "differs: $rel"; differ=1
  fi
done < <(cd "$work/out-old" && find . -type f | sed 's|^\./||' | sort)
while IFS= read -r rel; do
  [ -f "$work/out-old/$rel" ] || { echo "only in new: $rel"; differ=1; }
done < <(cd "$work/out-new" && find . -type f | sed 's|^\./||' | sort)
files=$(cd "$work/out-old" && find . -type f | wc -l)
if [ "$differ" = 0 ]; then
  echo "compare-builds: all $files files equal ($old vs $new; outputs in $work)"
else
  echo "compare-builds: files differ ($old vs $new; outputs in $work)"
fi
exit "$differ"
