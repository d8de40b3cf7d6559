package dev.rafter.sim.fabric;

/**
 * How a collective crosses a fabric: {@code ring} (through the devices in the system's ring order; broadcast runs
 * down it as a chain; send/recv is one step round it), {@code tree} (all-reduce: NCCL's tree inside a node, a chain
 * through the devices, reduced down it and broadcast back), {@code direct} (every device to every peer at once),
 * {@code in_switch} (the switch reduces and multicasts: NVLink SHARP, alias {@code nvls}), {@code hierarchical}
 * (a ring per level, one level after another: reduce-scatter up the levels, all-gather back down, as ASTRA-sim
 * runs a multi-dimensional topology and NCCL two nodes), or {@code auto}: the one whose closed form is least
 * ({@link FabricPlan}: alpha-beta, each step at least its memory time).
 */
public enum FabricAlgorithm {
    AUTO, RING, TREE, DIRECT, IN_SWITCH, HIERARCHICAL
}
