package dev.rafter.sim.steady;

/**
 * A move of the device's state many repetitions ahead: time by {@code timePs}, global-buffer stage indices by
 * {@code stages}, each core's work indices by {@code works[core]} and its next result address by
 * {@code storeAddresses[core]}.
 */
public record Jump(long timePs, int stages, int[] works, long[] storeAddresses) {}
