package dev.rafter.hw;

import static dev.rafter.config.Check.numberIn;

/**
 * The fixed cost of starting a kernel (one tile program), charged on the device timeline before the kernel's
 * work: the launch gap between back-to-back kernels plus the kernel's ramp and drain. {@code eager} is a stream
 * launch per kernel; {@code graph} is a CUDA-graph-like replay that removes the host from the gap and keeps the
 * GPU-side boundary cost (te42kyfo/gpu-benches gpu-small-kernels, eager and graph runs). Both default to 0 (an ideal machine).
 */
public record Dispatch(Mode mode, double eagerNs, double graphNs) {
    /** How kernels are launched. */
    public enum Mode { EAGER, GRAPH }

    public static final Dispatch NONE = new Dispatch(Mode.EAGER, 0, 0);

    public Dispatch {
        numberIn("eager_ns", eagerNs, 0, 1e9, false);
        numberIn("graph_ns", graphNs, 0, 1e9, false);
    }

    /** The cost charged before each kernel under the chosen mode, in ns. */
    public double perKernelNs() {
        return mode == Mode.GRAPH ? graphNs : eagerNs;
    }
}
