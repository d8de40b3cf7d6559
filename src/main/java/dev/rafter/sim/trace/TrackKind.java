package dev.rafter.sim.trace;

/**
 * What a {@link Track} is an instance of, as the trace needs it: a name (events.csv's and the Perfetto trace's). The
 * component kinds are ({@code sim/component/ComponentKind}); the trace names them without depending on them.
 */
public interface TrackKind {
    String name();
}
