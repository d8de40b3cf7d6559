package dev.rafter.sim;

import dev.rafter.mapping.TileProgram;
import dev.rafter.roofline.Roofline;
import dev.rafter.sim.component.Host;
import dev.rafter.workload.Operator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * How an operator's tile programs run on a {@link Device} as kernels, the same for a lone device ({@link Simulation})
 * and a system's ({@code SystemSimulation}): one after another behind the host's launches, the mapping ops.csv
 * gives them, and the check that the operator took at least its roofline bound.
 */
public final class OperatorKernels {
    private OperatorKernels() {
    }

    /**
     * Runs {@code programs} from the {@code i}-th one after another, each a kernel: charged its dispatch on the
     * device and, with a host, started no earlier than its launch ({@code hostStreams}: the host issues as a thread
     * of its own, {@link Host#streams}). {@code starting} sees each program as its kernel starts.
     */
    public static void runInOrder(Device device, Scheduler clock, Host host, boolean hostStreams, Operator op,
                                  List<TileProgram> programs, int i, Consumer<TileProgram> starting, Runnable done) {
        if (i == programs.size()) {
            done.run();
            return;
        }
        Runnable kernel = () -> device.dispatch(op.id(), () -> {
            starting.accept(programs.get(i));
            device.runProgram(op.id(), op.dataType(), programs.get(i), () -> {
                if (host != null) {
                    host.finished(clock.now());
                }
                runInOrder(device, clock, host, hostStreams, op, programs, i + 1, starting, done);
            });
        });
        if (host != null && i > 0 && hostStreams) {
            // The device waits for this kernel's launch, issued after the operators handed before it.
            host.stopped();
            host.whenLaunched(op, i, () -> {
                host.running(op.id());
                kernel.run();
            });
            return;
        }
        if (host != null && i > 0) {
            host.afterLaunch(clock, op, false, kernel);
            return;
        }
        kernel.run();
    }

    /**
     * ops.csv's mapping of an operator run as {@code programs}, finding {@code resident} bytes of its input in the
     * global buffer and writing back {@code evicted} bytes of results it evicts.
     */
    public static String mapping(Operator op, long resident, long evicted, List<TileProgram> programs) {
        StringBuilder mapping = new StringBuilder();
        if (resident > 0) {
            mapping.append(String.format(Locale.ROOT, "%.1f%% of its input resident in the L2",
                100.0 * resident / op.activationInputBytes()));
        }
        if (evicted > 0) {
            mapping.append(mapping.length() == 0 ? "" : "; ").append(String.format(Locale.ROOT,
                "writes back %d B of results it evicts from the L2", evicted));
        }
        for (TileProgram p : programs) {
            mapping.append(mapping.length() == 0 ? "" : "; ").append(p.explanation());
        }
        return mapping.toString();
    }

    /**
     * The roofline bound of {@code op}, which ran from {@code startPs} to {@code endPs} on {@code device}; a time
     * below it is a model error.
     */
    public static Roofline.Bound checkedBound(Roofline roofline, Device device, Operator op, long resident,
                                              long evicted, long startPs, long endPs) {
        Roofline.Bound bound = device.keepsResults() ? roofline.ofWritingBack(op, resident, evicted)
            : roofline.of(op, resident);
        if ((endPs - startPs) * 1e-12 < bound.seconds() * (1 - 1e-9)) {
            throw new IllegalStateException("op " + op.id() + " ran in " + (endPs - startPs) + " ps, below its "
                + "roofline bound " + bound.seconds() + " s: the model is wrong");
        }
        return bound;
    }
}
