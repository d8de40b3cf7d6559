package dev.rafter.sweep;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A sweep as another process (a Spark executor) needs it to run any of its points: the command-line options that
 * define the points, and the bytes of every input file (the hardware file and the files it includes, energy tables
 * and memory timing tables, and the workload or trace), so a cluster needs no shared file system. The files keep
 * their layout relative to each other (a hardware file's {@code ../energy/x.yaml} still resolves), and the content
 * hashes of {@link SweepKey} depend on content only, so a point run from a description is keyed, and saved, exactly
 * as one run in place. {@code settings} and {@code rafterVersion} are the driver's, recorded in every point.
 *
 * @param arguments the options, with the input files' places written as {@link #FILE} followed by a key of
 *                  {@code files}
 * @param files     relative path (with '/') -> bytes
 */
public record SweepDescription(List<String> arguments, Map<String, byte[]> files, String settings,
                               String rafterVersion) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Marks an argument that names an input file: the rest is its key in {@code files}. */
    public static final String FILE = "file:";

    public SweepDescription {
        arguments = List.copyOf(arguments);
        files = new TreeMap<>(files);
    }

    /**
     * The description of options {@code arguments} in which the arguments equal to one of {@code inputs} (absolute,
     * normalised paths) name input files; {@code extraFiles} are read too (files that the inputs include).
     */
    public static SweepDescription of(List<String> arguments, Collection<Path> inputs, Collection<Path> extraFiles,
                                      String settings, String rafterVersion) {
        List<Path> all = new ArrayList<>();
        for (Path p : inputs) {
            all.add(p.toAbsolutePath().normalize());
        }
        for (Path p : extraFiles) {
            all.add(p.toAbsolutePath().normalize());
        }
        Path root = all.get(0).getParent();
        for (Path p : all) {
            while (!p.startsWith(root)) {
                root = root.getParent();
            }
        }
        Map<String, byte[]> files = new LinkedHashMap<>();
        Map<Path, String> keys = new LinkedHashMap<>();
        for (Path p : all) {
            String key = root.relativize(p).toString().replace(p.getFileSystem().getSeparator(), "/");
            keys.put(p, key);
            files.put(key, dev.rafter.config.InputFiles.readBytes(p, Integer.MAX_VALUE - 8));
        }
        List<String> args = new ArrayList<>();
        for (String a : arguments) {
            String key = null;
            for (Path p : inputs) {
                if (a.equals(p.toString())) {
                    key = keys.get(p.toAbsolutePath().normalize());
                }
            }
            args.add(key == null ? a : FILE + key);
        }
        return new SweepDescription(args, files, settings, rafterVersion);
    }

    /**
     * Writes the files under {@code dir} (which must be empty) and returns the options with their paths there.
     */
    public List<String> materialise(Path dir) {
        try {
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                Path p = dir.resolve(f.getKey()).normalize();
                if (!p.startsWith(dir)) {
                    throw new IllegalArgumentException("a sweep description's file outside its folder: " + f.getKey());
                }
                Files.createDirectories(p.getParent());
                Files.write(p, f.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the sweep's input files under " + dir + ": "
                + e.getMessage(), e);
        }
        List<String> out = new ArrayList<>();
        for (String a : arguments) {
            out.add(a.startsWith(FILE) ? dir.resolve(a.substring(FILE.length())).toString() : a);
        }
        return out;
    }
}
