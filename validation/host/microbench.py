#!/usr/bin/env python3
"""Host-side primitives behind models/host/pytorch-cuda.yaml, measured on one CUDA GPU with PyTorch.

NOT YET RUN: the figures in models/host/pytorch-cuda.yaml come from the sources cited there (other GPUs, CPUs not
stated). Run this on the machine you model and put its numbers in a copy of that table (host.costs):

    python3 validation/host/microbench.py > host-primitives.csv

It prints CSV (quantity,ns,repeats,what it times) with the host CPU, GPU, driver and library versions as comment
lines first. Each quantity is the median over repeats of a loop of N calls, after warm-up:

  launch_ns       cudaLaunchKernel-level issue cost: torch.cuda._sleep(0) (one kernel, thin binding), per call,
                  N calls back to back without a synchronisation (N well below the launch queue's depth)
  eager.op_ns     an empty eager op (x.add_(1) on a one-element tensor) per call, minus launch_ns
  sync_ns         torch.cuda.synchronize() when the one kernel before it has long finished (the round trip)
  op_wall_ns      an empty eager op timed as benchmarks do: time.perf_counter() around op + synchronize
  compiled.call_ns  a torch.compile'd one-op function per call (guards + wrapper), minus launch_ns
  graph.launch_ns / graph.node_ns  CUDA-graph replay of 8 and of 117 empty ops, host time of replay() (no sync),
                  fitted as fixed + per node
"""
import platform
import statistics
import subprocess
import sys
import time

import torch

REPEATS = 50


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def driver_version():
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def per_call_ns(body, n, sync_after=True):
    """Median over REPEATS of the host time of n calls of body, per call, in ns."""
    samples = []
    for _ in range(REPEATS):
        torch.cuda.synchronize()
        t0 = time.perf_counter_ns()
        for _ in range(n):
            body()
        t1 = time.perf_counter_ns()
        if sync_after:
            torch.cuda.synchronize()
        samples.append((t1 - t0) / n)
    return statistics.median(samples)


def main():
    if not torch.cuda.is_available():
        print("microbench: no CUDA device", file=sys.stderr)
        return 2
    dev = torch.device("cuda")
    x = torch.zeros(1, device=dev)
    print(f"# host_cpu: {cpu_name()}")
    print(f"# gpu: {torch.cuda.get_device_name(0)}; driver {driver_version()}; torch {torch.__version__}; "
          f"cuda {torch.version.cuda}; python {platform.python_version()}")
    print("quantity,ns,repeats,what")

    def empty_kernel():
        torch.cuda._sleep(0)

    def empty_op():
        x.add_(1)

    for warm in (empty_kernel, empty_op):
        per_call_ns(warm, 100)

    launch = per_call_ns(empty_kernel, 100)
    print(f"launch_ns,{launch:.0f},{REPEATS},torch.cuda._sleep(0) x100 back to back, host time per call")
    op = per_call_ns(empty_op, 100)
    print(f"eager.op_ns,{op - launch:.0f},{REPEATS},x.add_(1) x100 per call ({op:.0f} ns) minus launch_ns")

    syncs = []
    walls = []
    for _ in range(REPEATS):
        empty_op()
        torch.cuda.synchronize()
        time.sleep(0.001)  # the kernel before has long finished: what follows is the round trip alone
        t0 = time.perf_counter_ns()
        torch.cuda.synchronize()
        syncs.append(time.perf_counter_ns() - t0)
        t0 = time.perf_counter_ns()
        empty_op()
        torch.cuda.synchronize()
        walls.append(time.perf_counter_ns() - t0)
    print(f"sync_ns,{statistics.median(syncs):.0f},{REPEATS},torch.cuda.synchronize() on an idle stream")
    print(f"op_wall_ns,{statistics.median(walls):.0f},{REPEATS},perf_counter around x.add_(1) + synchronize")

    compiled = torch.compile(lambda t: t + 1)
    for _ in range(10):
        compiled(x)
    call = per_call_ns(lambda: compiled(x), 100)
    print(f"compiled.call_ns,{call - launch:.0f},{REPEATS},torch.compile'd t + 1 per call ({call:.0f} ns) "
          f"minus launch_ns")

    replays = {}
    for nodes in (8, 117):
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                for _ in range(nodes):
                    empty_op()
        torch.cuda.current_stream().wait_stream(s)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            for _ in range(nodes):
                empty_op()
        replays[nodes] = per_call_ns(g.replay, 10)
    per_node = (replays[117] - replays[8]) / (117 - 8)
    print(f"graph.node_ns,{per_node:.0f},{REPEATS},(replay of 117 nodes - of 8) / 109, host time of replay()")
    print(f"graph.launch_ns,{replays[8] - 8 * per_node:.0f},{REPEATS},replay of 8 nodes minus 8 x node_ns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
