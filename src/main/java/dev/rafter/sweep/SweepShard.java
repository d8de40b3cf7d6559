package dev.rafter.sweep;

import dev.rafter.config.InputException;
import dev.rafter.config.InputFiles;
import java.util.stream.IntStream;

/**
 * {@code --shard k/N}: the points i with {@code i % N == k - 1}, so N independent runs (a SLURM job array, any batch
 * system) cover a sweep once; {@code rafter sweep merge} joins their outputs. 1/1 is the whole sweep.
 */
public record SweepShard(int k, int n) {
    public static final SweepShard ALL = new SweepShard(1, 1);

    public SweepShard {
        if (n < 1 || k < 1 || k > n) {
            throw new InputException("--shard " + k + "/" + n + ": expected k/N with 1 <= k <= N, e.g. 2/3");
        }
    }

    public static SweepShard parse(String text) {
        String[] parts = text.split("/", -1);
        if (parts.length == 2) {
            try {
                return new SweepShard(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
            } catch (NumberFormatException e) {
                // the message below
            }
        }
        throw new InputException("--shard " + InputFiles.shorten(text) + ": expected k/N with 1 <= k <= N, e.g. 2/3");
    }

    public boolean contains(int index) {
        return index % n == k - 1;
    }

    /** The indices of this shard's points among {@code size}, ascending. */
    public int[] indices(int size) {
        return IntStream.range(0, size).filter(this::contains).toArray();
    }

    @Override
    public String toString() {
        return k + "/" + n;
    }
}
