#!/usr/bin/env bash
# The serving speed benchmark of issue 23: Llama-3-8B on h100.yaml at 10 requests/s (Poisson, seed 1). Runs, in
# this order: EXACT_S seconds of traffic with exact and with interpolated step timing (their error and their speed
# ratio), then HOUR_S seconds (default an hour, 36,000 requests) with interpolated timing. Each run under -Xmx1g;
# prints wall time, CPU time and peak RSS per run (GNU time), and the error of interpolated against exact.
#
# Usage: scripts/bench-serve.sh [OUT_DIR]
# Environment: EXACT_S (default 60), HOUR_S (default 3600), RAFTER_JAVA_OPTS (default -Xmx1g).
# Wall time is only meaningful on an idle machine: the load average is printed before each run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
exact_s="${EXACT_S:-60}"
hour_s="${HOUR_S:-3600}"
export RAFTER_JAVA_OPTS="${RAFTER_JAVA_OPTS:--Xmx1g}"
if [ ! -x /usr/bin/time ]; then
  echo "bench-serve: needs GNU time (/usr/bin/time)" >&2
  exit 2
fi
"$here/rafter" describe --hardware "$here/models/hardware/h100.yaml" >/dev/null # builds first, outside the timing

serve() { # LABEL DURATION TIMING
  local label="$1"
  echo "== $label: $2 s of traffic, step timing $3 (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  /usr/bin/time -f "wall %e s, cpu %U s user + %S s sys, peak RSS %M KiB" -o "$out/$label.time" \
    "$here/rafter" serve --hardware "$here/models/hardware/h100.yaml" \
    --workload "$here/models/workloads/llama3-8b.yaml" --arrivals poisson:10 --duration "$2" --step-timing "$3" \
    --out "$out/$label" | grep -v '^goodput'
  cat "$out/$label.time"
}

serve exact "$exact_s" exact
serve interpolated "$exact_s" interpolated
echo "== interpolated against exact over $exact_s s (relative error)"
jq -rn --slurpfile e "$out/exact/serving.json" --slurpfile i "$out/interpolated/serving.json" '
  def err(f): (($i[0] | f) / ($e[0] | f) - 1) * 100 | . * 100 | round / 100 | tostring + "%";
  "TTFT p50 \(err(.ttft_s.p50)), p99 \(err(.ttft_s.p99)); TPOT p50 \(err(.tpot_s.p50)), p99 \(err(.tpot_s.p99));"
  + " output tokens/s \(err(.throughput.output_tokens_per_s))"'
wall() { sed -E 's/^wall ([0-9.]+) s.*/\1/' "$out/$1.time"; }
cpu() { sed -E 's/.*cpu ([0-9.]+) s user \+ ([0-9.]+) s sys.*/\1 \2/' "$out/$1.time" | awk '{ print $1 + $2 }'; }
echo "exact / interpolated: wall time $(awk -v a="$(wall exact)" -v b="$(wall interpolated)" \
  'BEGIN { printf "%.2f", a / b }'), CPU time $(awk -v a="$(cpu exact)" -v b="$(cpu interpolated)" \
  'BEGIN { printf "%.2f", a / b }') (CPU time is the fairer figure on a loaded machine)"
serve hour "$hour_s" interpolated
echo "outputs in $out"
