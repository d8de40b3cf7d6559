package dev.rafter.sim.message;

/** One step of a collective: bytes sent to the tensor-parallel peers. */
public record LinkTransfer(long opId, long bytes) implements Message {}
