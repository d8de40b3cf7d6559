#!/usr/bin/env bash
# The SRAM x clock x memory-bandwidth study of Atmer, Yao, Voigt, Kaxiras (arXiv 2512.22066) at its full grid:
# 7 local-buffer sizes x 7 clocks x 3 memory bandwidths = 147 points, prefill and decode as two sweeps.
# Usage: studies/sram-clock-bandwidth/run.sh [OUT_DIR]     (default out/study-sram-clock-bandwidth)
# Environment: JOBS (points in parallel; default: one per processor), PREFILL_TRACE (default: the whole GPT-3
# layer's prefill from traces/gemm-sram-study-layer.csv; validation/findings-prefill.csv is its QKV projection for a
# quarter of the prompt, about 17x faster), RESUME=1 (reuse finished points of an interrupted run).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-out/study-sram-clock-bandwidth}"
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
prefill_trace="${PREFILL_TRACE:-$root/traces/gemm-sram-study-layer.csv}"
resume=()
if [ "${RESUME:-0}" = 1 ]; then resume=(--resume); fi
grid=(--vary core.local_buffer.capacity_kib=16,32,64,128,256,512,1024
      --vary clock_mhz=200,400,600,800,1000,1200,1400
      --vary memory.bandwidth_gb_per_s=2048,4096,8192)
for phase in decode prefill; do
  trace="$root/traces/gemm-sram-study-layer.csv"
  if [ "$phase" = prefill ]; then trace="$prefill_trace"; fi
  "$root/rafter" sweep --hardware "$root/models/hardware/sram-study-45nm.yaml" --trace "$trace" --phase "$phase" \
    "${grid[@]}" --jobs "$jobs" --out "$out/$phase" ${resume[@]+"${resume[@]}"}
done
echo "study: heatmaps and Pareto fronts in $out/decode/plots and $out/prefill/plots"
