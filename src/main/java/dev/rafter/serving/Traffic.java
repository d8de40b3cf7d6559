package dev.rafter.serving;

import dev.rafter.config.InputException;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.function.IntFunction;

/**
 * Where requests come from: a fixed list in arrival order (a request file, or arrivals drawn ahead from a process),
 * or closed-loop clients, each of which sends its next request when its last one finishes (as serving benchmarks
 * measure). The engine takes the next request due and says when each one finishes.
 */
public interface Traffic {
    /** The next request not yet handed out, by arrival (ties by id); null when none is known now. */
    Request peek();

    /** Hands out the request {@link #peek} returned. */
    Request poll();

    /** A request finished at {@code ps} (closed-loop clients send their next one then). */
    default void finished(Request request, long ps) {}

    /** Requests in arrival order, as given. */
    static Traffic of(List<Request> requests) {
        return new Traffic() {
            private int next;

            @Override
            public Request peek() {
                return next < requests.size() ? requests.get(next) : null;
            }

            @Override
            public Request poll() {
                return requests.get(next++);
            }
        };
    }

    /**
     * The requests put in {@code queue} (a router's, for one replica), in order; each finish goes to {@code finished}.
     */
    static Traffic queued(java.util.Queue<Request> queue, java.util.function.ObjLongConsumer<Request> finished) {
        return new Traffic() {
            @Override
            public Request peek() {
                return queue.peek();
            }

            @Override
            public Request poll() {
                return queue.poll();
            }

            @Override
            public void finished(Request request, long ps) {
                finished.accept(request, ps);
            }
        };
    }

    /** How arrivals are spaced: {@code poisson:RATE} or {@code gamma:RATE:CV} (requests per second). */
    record Arrivals(double ratePerS, double cv) {
        public static Arrivals parse(String text) {
            String[] p = text.split(":", -1);
            try {
                if (p.length == 2 && p[0].equals("poisson")) {
                    return checked(new Arrivals(dev.rafter.config.Numbers.parseDouble(p[1]), 1), text);
                }
                if (p.length == 3 && p[0].equals("gamma")) {
                    return checked(new Arrivals(dev.rafter.config.Numbers.parseDouble(p[1]),
                        dev.rafter.config.Numbers.parseDouble(p[2])), text);
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new InputException("--arrivals: expected poisson:RATE or gamma:RATE:CV (requests per second, "
                + "coefficient of variation of the gaps), got '" + text + "'");
        }

        /**
         * One or more arrival processes: {@code poisson:R1,R2,...} or {@code gamma:R1,R2,...:CV}, one per rate in
         * the order given (a sweep over the rate).
         */
        public static List<Arrivals> parseAll(String text) {
            String[] p = text.split(":", -1);
            if (p.length < 2 || !p[1].contains(",")) {
                return List.of(parse(text));
            }
            List<Arrivals> out = new ArrayList<>();
            for (String rate : p[1].split(",", -1)) {
                p[1] = rate.trim();
                Arrivals a = parse(String.join(":", p));
                for (Arrivals before : out) {
                    if (!(a.ratePerS > before.ratePerS)) {
                        throw new InputException("--arrivals: rates must increase, got '" + text + "'");
                    }
                }
                out.add(a);
            }
            return out;
        }

        private static Arrivals checked(Arrivals a, String text) {
            if (!(a.ratePerS > 0 && a.ratePerS <= 1e6 && a.cv > 0 && a.cv <= 100)) {
                throw new InputException("--arrivals: rate must be in (0, 1e6] and CV in (0, 100], got '" + text
                    + "'");
            }
            return a;
        }

        /**
         * The gap to the next arrival in seconds: exponential for Poisson (CV 1), else gamma with shape 1/CV^2
         * and the same mean (Marsaglia and Tsang's method; shape below 1 boosted by U^(1/shape)).
         */
        double gapS(SplittableRandom random) {
            if (cv == 1) {
                return -Math.log(1 - random.nextDouble()) / ratePerS;
            }
            double shape = 1 / (cv * cv);
            return gamma(random, shape) / (shape * ratePerS);
        }

        private static double gamma(SplittableRandom random, double shape) {
            if (shape < 1) {
                double u = 1 - random.nextDouble();
                return gamma(random, shape + 1) * Math.pow(u, 1 / shape);
            }
            double d = shape - 1.0 / 3;
            double c = 1 / Math.sqrt(9 * d);
            while (true) {
                double x = random.nextGaussian();
                double v = 1 + c * x;
                if (v <= 0) {
                    continue;
                }
                v = v * v * v;
                double u = 1 - random.nextDouble();
                if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
                    return d * v;
                }
            }
        }
    }

    /**
     * Requests drawn from an arrival process until {@code count} of them (when positive) or until {@code
     * durationPs}; {@code lengths} gives request i its prompt and output lengths.
     */
    static List<Request> open(Arrivals arrivals, long count, long durationPs, SplittableRandom random,
                              IntFunction<Request> lengths) {
        List<Request> out = new ArrayList<>();
        double t = 0;
        while (count > 0 ? out.size() < count : true) {
            t += arrivals.gapS(random);
            long ps = Math.round(t * 1e12);
            if (count <= 0 && ps >= durationPs) {
                break;
            }
            Request shape = lengths.apply(out.size());
            out.add(shape.sentAs(out.size(), ps));
        }
        return out;
    }

    /**
     * {@code clients} clients that each send a request at time 0 and the next when the last finishes, until {@code
     * count} requests (when positive) or until {@code durationPs} (no request is sent at or after it).
     */
    static Traffic closed(int clients, long count, long durationPs, IntFunction<Request> lengths) {
        return new Traffic() {
            private final PriorityQueue<Request> due = new PriorityQueue<>((a, b) -> a.arrivalPs() != b.arrivalPs()
                ? Long.compare(a.arrivalPs(), b.arrivalPs()) : Long.compare(a.id(), b.id()));
            private long sent;

            {
                for (int c = 0; c < clients; c++) {
                    send(0);
                }
            }

            private void send(long ps) {
                if ((count > 0 && sent >= count) || (count <= 0 && ps >= durationPs)) {
                    return;
                }
                Request shape = lengths.apply((int) sent);
                due.add(shape.sentAs(sent++, ps));
            }

            @Override
            public Request peek() {
                return due.peek();
            }

            @Override
            public Request poll() {
                return due.poll();
            }

            @Override
            public void finished(Request request, long ps) {
                send(ps);
            }
        };
    }
}
