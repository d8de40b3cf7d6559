package dev.rafter.importer;

import dev.rafter.workload.Operator;

/**
 * One operator of an imported trace with the GPU time the trace measured for it (the sum of its kernels'
 * durations, in seconds), or NaN when the trace carries none.
 */
public record ImportedOp(Operator op, double measuredS) {}
