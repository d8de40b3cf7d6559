#!/usr/bin/env python3
"""Kernel times of the small operators Rafter times too fast in the bundled BERT replay, measured on one CUDA GPU.

NOT YET RUN: no GPU was at hand. Issue 18 asks for the BERT replay (traces/kineto/bert-small-uncased-h100.json.gz,
an H100) within 10% per operator kind. Measured there, per kernel: index_select (141 rows of 512 bf16) 3.1-3.4 us,
native_layer_norm (141 x 512) 3.0-3.3 us, while the residual add_ of the same 141 x 512 takes 1.6-1.7 us; aten::eq
and aten::all on one 141-element tensor take 1.76 and 3.65 us (one CTA each). Rafter, from the sourced latencies
(launch, L2 hit, DRAM, its reduction chains), gives 2.48, 2.35 and 1.63 us: the gather's dependent loads (its indices
from memory, then its rows) and the norm's reductions and weights are charged, and still about 0.7-0.8 us a kernel
is missing. The 17 projection GEMMs (141 x 512 x 512) miss 0.74 us each too, while the kernels that read only what
the kernel before wrote (adds, GELUs, flash attention) miss at most 0.2 us: what the slow ones share is reading
long-lived tensors (weights, embedding tables, index buffers), which Rafter already takes from DRAM. What it is
cannot be told from the trace. Candidates, each needing a measurement:

  dram       a first touch of DRAM costing more than the pointer chase's 354 ns, or the activations not in the L2
  pages      address translation: a long-lived tensor's pages missing the TLBs (a page walk before the first load)
  code       cold instruction fetch: a kernel's code from the L2 or DRAM, line by line, on every SM
  clock      the SM clock at an eager trace's 5% load below the 1830 MHz the model runs at (the trace cannot say,
             and no one clock fits all its kinds: with --set clock_mhz=1100 the layer norms are within 4%, but the
             gathers still 14% too fast and flash attention 52% too slow; the adds and flash attention fit 1830)
  weights    the layer norm's weight and bias loads, issued after its statistics

Run it on the GPU you model (the BERT trace: an H100 SXM):

    python3 validation/kernels/microbench.py > kernel-times.csv

It prints CSV (case,condition,median_us,p10_us,p90_us,kernels,what), the GPU, driver and library versions as comment
lines first. Times are kernel durations from PyTorch's profiler trace (its "kernel" events, as in the trace Rafter
replays), the median over REPEATS calls. Conditions:

  warm       the op called back to back: its data, index, code and address translations warm
  idle       as warm, the host waiting IDLE_US between calls, as in the eager trace (clock and power state)
  cold_l2    before each call a fill of twice the L2 (its inputs come from DRAM; its code is small beside the fill's)
  cold_code  before each call a few other kernels on tiny tensors (softmax, sort, top-k, cumsum: other code in the
             instruction caches, little of the L2's data replaced)
  cold_tlb   before each call a copy of one element in each 2 MB of a 4 GB buffer (2048 pages, 64 KB of data:
             the address translations replaced, the L2's data not)

and per condition a clock probe: torch.cuda._sleep spins a number of SM clock cycles, so two spins of C1 and C2
cycles give the clock as (C2 - C1) / (t2 - t1). Reading the results:

  gather warm vs cold_l2, and gather_resident_index (the index rewritten by a kernel just before) vs gather, cold_l2:
      what DRAM adds, and how much of it the index's load;
  gather_2 vs gather_30522: a table of 2 rows against one of 31 MB (pages, TLB);
  warm vs cold_code: instruction fetch;  warm vs cold_tlb: address translation;
  warm vs idle, with the probe's clock: the clock at low load;
  layernorm vs layernorm_noaffine: the weights' loads after the statistics;
  linear_512 (a GEMM reading its weights, as the trace's projections) under each condition: whether the GEMMs'
      0.74 us has the cause the gathers' and norms' has.
"""
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

REPEATS = 50
IDLE_US = 40
ROWS, HIDDEN, FFN, VOCAB = 141, 512, 2048, 30522  # the BERT trace's shapes
SPIN_CYCLES = (20_000, 60_000)
PAGES, PAGE_BYTES = 2048, 2 * 2**20  # 4 GB touched one element a page (GPU large pages: 2 MB)


def driver_version():
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=driver_version,clocks.max.sm", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def host_wait(us):
    end = time.perf_counter_ns() + us * 1000
    while time.perf_counter_ns() < end:
        pass


def kernel_times(op, pattern, before=None, idle_us=0, repeats=REPEATS):
    """Durations in us of the kernels whose name matches pattern, over repeats calls of op (before each: before)."""
    for _ in range(3):  # warm-up: allocations, the kernel's module loaded
        op()
    torch.cuda.synchronize()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        for _ in range(repeats):
            if before is not None:
                before()
            op()
            if idle_us:
                torch.cuda.synchronize()
                host_wait(idle_us)
        torch.cuda.synchronize()
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        prof.export_chrome_trace(path)
        with open(path) as f:
            events = json.load(f)["traceEvents"]
    finally:
        os.remove(path)
    return [e["dur"] for e in events if e.get("cat") == "kernel" and re.search(pattern, e.get("name", ""))]


def summary(durations):
    d = sorted(durations)
    if not d:
        return "nan,nan,nan,0"
    return (f"{statistics.median(d):.3f},{d[len(d) // 10]:.3f},{d[(9 * len(d)) // 10]:.3f},{len(d)}")


def main():
    if not torch.cuda.is_available():
        print("microbench: no CUDA device", file=sys.stderr)
        return 2
    dev = torch.device("cuda")
    bf16 = torch.bfloat16
    props = torch.cuda.get_device_properties(0)
    l2_bytes = getattr(props, "L2_cache_size", 50 * 2**20)
    print(f"# gpu: {torch.cuda.get_device_name(0)}; {props.multi_processor_count} SMs; L2 {l2_bytes} B; "
          f"driver, max SM clock: {driver_version()}")
    print(f"# torch {torch.__version__}; cuda {torch.version.cuda}; python {platform.python_version()}")
    print("case,condition,median_us,p10_us,p90_us,kernels,what")

    x = torch.randn(ROWS, HIDDEN, device=dev, dtype=bf16)
    y = torch.randn(ROWS, HIDDEN, device=dev, dtype=bf16)
    h = torch.randn(ROWS, FFN, device=dev, dtype=bf16)
    w = torch.randn(HIDDEN, device=dev, dtype=bf16)
    b = torch.randn(HIDDEN, device=dev, dtype=bf16)
    tables = {n: torch.randn(n, HIDDEN, device=dev, dtype=bf16) for n in (2, HIDDEN, VOCAB)}
    indices = {n: torch.randint(0, n, (ROWS,), device=dev, dtype=torch.long) for n in tables}
    ids = torch.randint(0, VOCAB, (ROWS,), device=dev, dtype=torch.long)
    flush = torch.empty(2 * l2_bytes // 4 + 1, device=dev, dtype=torch.float32)
    weight = torch.randn(HIDDEN, HIDDEN, device=dev, dtype=bf16)
    small_s = torch.randn(8, 128, device=dev, dtype=torch.float32)
    pages = torch.zeros(PAGES, PAGE_BYTES // 2, device=dev, dtype=bf16)  # one row a 2 MB page

    def fill_l2():
        flush.fill_(1.0)

    def other_code():
        torch.softmax(small_s, dim=-1)
        torch.sort(small_s, dim=-1)
        torch.topk(small_s, 4, dim=-1)
        torch.cumsum(small_s, dim=-1)

    def other_pages():
        pages[:, 0].clone()  # a copy kernel: the patterns below match none of these kernels

    conditions = {"warm": (None, 0), "idle": (None, IDLE_US), "cold_l2": (fill_l2, 0),
                  "cold_code": (other_code, 0), "cold_tlb": (other_pages, 0)}
    cases = [
        ("add", lambda: x.add_(y), r"CUDAFunctor_add", "x.add_(y), 141 x 512 bf16 (the trace's residual add)"),
        ("gelu", lambda: F.gelu(h), r"Gelu", "F.gelu, 141 x 2048 bf16 (erf)"),
        ("eq", lambda: ids == 0, r"AUnaryFunctor", "ids == 0 on 141 int64 (one CTA)"),
        ("all", lambda: (ids >= 0).all(), r"reduce_kernel", "(ids >= 0).all() on 141 bools (one CTA of 32)"),
        ("layernorm", lambda: F.layer_norm(x, (HIDDEN,), w, b), r"layer_norm",
         "F.layer_norm 141 x 512 bf16 with weight and bias"),
        ("layernorm_noaffine", lambda: F.layer_norm(x, (HIDDEN,)), r"layer_norm",
         "F.layer_norm 141 x 512 bf16 without weight and bias (no loads after the statistics but the row)"),
        ("linear_512", lambda: F.linear(x, weight, b), r"gemm|Kernel2|xmma|nvjet|cutlass",
         "F.linear 141 x 512 by a 512 x 512 weight with bias, bf16 (the trace's projections)"),
    ]
    for n in tables:
        cases.append((f"gather_{n}", (lambda t, i: lambda: torch.index_select(t, 0, i))(tables[n], indices[n]),
                      r"indexSelect", f"index_select of 141 rows of 512 bf16 from a table of {n} rows"))
    for name, op, pattern, what in cases:
        for condition, (before, idle) in conditions.items():
            print(f'{name},{condition},{summary(kernel_times(op, pattern, before, idle))},"{what}"', flush=True)

    # The index written by a kernel just before the gather (in the L2), the table cold: against gather_30522 cold_l2.
    t, i = tables[VOCAB], indices[VOCAB]

    def flush_then_rewrite_index():
        fill_l2()
        i.add_(0)

    times = kernel_times(lambda: torch.index_select(t, 0, i), r"indexSelect", flush_then_rewrite_index)
    print(f"gather_resident_index,cold_l2,{summary(times)},\"index_select from the {VOCAB}-row table after the "
          "fill, its index rewritten by a kernel after the fill\"")

    # Clock probe per condition: spins of SPIN_CYCLES SM cycles; clock = cycle difference / time difference.
    for condition, (before, idle) in conditions.items():
        t1, t2 = (statistics.median(kernel_times(lambda c=c: torch.cuda._sleep(c), r"spin", before, idle))
                  for c in SPIN_CYCLES)
        mhz = (SPIN_CYCLES[1] - SPIN_CYCLES[0]) / (t2 - t1) if t2 > t1 else float("nan")
        print(f"clock_mhz,{condition},{mhz:.0f},,,{REPEATS},\"SM clock from torch.cuda._sleep of {SPIN_CYCLES[0]} "
              f"and {SPIN_CYCLES[1]} cycles ({t1:.3f} and {t2:.3f} us)\"")
    return 0


if __name__ == "__main__":
    sys.exit(main())
