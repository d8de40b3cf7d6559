#!/usr/bin/env bash
# The interconnect study of the hardware outlook (Ma and Patterson, arXiv 2601.05047: "small batches mean small,
# frequent messages, so latency matters more than bandwidth"): Llama-2-70B at tensor parallelism 8 on 8 A100 models,
# prefill and 2 decode steps, over the fabric's per-hop link latency (0, 2, 8 us added to NCCL's own) x its link
# bandwidth (60, 240, 960 GB/s: a quarter of, equal to and 4x NVLink3 as NCCL achieves it), on three topologies:
# NVSwitch (models/systems/dgx-a100-8.yaml), a ring and a 2x4 torus (this folder), 27 points.
# Usage: studies/interconnect/run.sh [OUT_DIR]     (default out/study-interconnect)
# Environment: JOBS (points in parallel; default: one per processor).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-out/study-interconnect}"
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
for topology in switch ring torus; do
  system="$root/studies/interconnect/a100-8-$topology.yaml"
  if [ "$topology" = switch ]; then system="$root/models/systems/dgx-a100-8.yaml"; fi
  "$root/rafter" sweep --system "$system" --workload "$root/models/workloads/llama2-70b.yaml" \
    --set run.tensor_parallel=8 --decode-steps 2 \
    --vary system.fabric.link.latency_ns=0,2000,8000 --vary system.fabric.link.bandwidth_gb_per_s=60,240,960 \
    --jobs "$jobs" --out "$out/$topology"
done
echo "study: heatmaps in $out/{switch,ring,torus}/plots (heatmap-latency-prefill, heatmap-latency-decode)"
