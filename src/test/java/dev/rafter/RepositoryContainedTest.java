package dev.rafter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The repository stands alone: no tracked file reads or cites a folder beside the checkout (a clone elsewhere has
 * none). Facts cite their primary source (datasheet, paper, microbenchmark), not a notes sheet kept outside.
 */
class RepositoryContainedTest {
    /** This file names the patterns it looks for. */
    private static final Path SELF = Path.of("src/test/java/dev/rafter/RepositoryContainedTest.java");

    /** The notes sheets that lived beside the repository; a file of the same name inside it may be cited. */
    private static final Set<String> OUTSIDE_SHEETS = Set.of("accelerators.md", "dsol.md", "energy-modern.md",
        "energy.md", "findings.md", "gpu-microbenchmarks.md", "host-and-devices.md", "memory-technologies.md");

    private static final Pattern OUTSIDE = Pattern.compile(
        "\\.\\./shared\\b|/work/shared\\b|\\breference/|\\breference sheets?\\b|\\bshared/(fixtures|reference)\\b"
            + "|\\b(reference|sheet) \\d[a-d]?\\b|\\bmicrobenchmark sheet\\b|\\bthe sheet'?s?\\b"
            + "|\\b(?<sheet>[a-z-]+\\.md)\\b");

    /** Tracked files (git ls-files), or every file but build output where the tree is not a git checkout. */
    static List<Path> trackedFiles() throws IOException, InterruptedException {
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(Path.of(".git")) || Files.isRegularFile(Path.of(".git"))) {
            Process git = new ProcessBuilder("git", "ls-files", "-z").redirectErrorStream(false).start();
            byte[] out = git.getInputStream().readAllBytes();
            assertTrue(git.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, git.exitValue(), "git ls-files");
            for (String name : new String(out, StandardCharsets.UTF_8).split("\0")) {
                if (!name.isEmpty()) {
                    files.add(Path.of(name));
                }
            }
            return files;
        }
        try (Stream<Path> walk = Files.walk(Path.of("."))) {
            walk.filter(Files::isRegularFile).map(p -> Path.of(".").relativize(p))
                .filter(p -> !p.startsWith("target") && !p.startsWith("out") && !p.toString().contains("/target/"))
                .forEach(files::add);
        }
        return files;
    }

    /** The outside references in one file's text, as "path:line: match". */
    static List<String> outsideReferences(Path file, String text, Set<String> repositoryNames) {
        List<String> found = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            Matcher m = OUTSIDE.matcher(lines[i]);
            while (m.find()) {
                String sheet = m.group("sheet");
                if (sheet != null && (!OUTSIDE_SHEETS.contains(sheet) || repositoryNames.contains(sheet))) {
                    continue;
                }
                found.add(file + ":" + (i + 1) + ": " + m.group());
            }
        }
        return found;
    }

    @Test
    void noTrackedFileRefersOutsideTheRepository() throws IOException, InterruptedException {
        List<Path> files = trackedFiles();
        assertTrue(files.size() > 100, "found the repository's files: " + files.size());
        Set<String> names = new java.util.HashSet<>();
        files.forEach(f -> names.add(f.getFileName().toString()));
        List<String> found = new ArrayList<>();
        for (Path file : files) {
            if (file.equals(SELF) || !Files.isRegularFile(file)) {
                continue;
            }
            byte[] bytes = Files.readAllBytes(file);
            if (isBinary(bytes)) {
                continue;
            }
            found.addAll(outsideReferences(file, new String(bytes, StandardCharsets.ISO_8859_1), names));
        }
        assertTrue(found.isEmpty(), "files that refer outside the repository (copy what they need in, with its"
            + " licence, or cite the primary source):\n" + String.join("\n", found));
    }

    @Test
    void theCheckSeesEachKindOfOutsideReference() {
        // the patterns above against lines that must fail and lines that must pass
        for (String bad : List.of("read ../" + "shared/fixtures/kineto/x.json.gz", "see /work/shared/DESIGN.md",
            "# 1.41 GHz (reference/gpu-microbenchmarks.md 3)", "(gpu-microbenchmarks.md 2c)",
            "no source in reference/ for it", "the shared reference sheets do not tabulate it",
            "5.3 TB/s (datasheet; reference 2a)", "ns values rescaled, sheet 2b)")) {
            assertFalse(outsideReferences(Path.of("x"), bad, Set.of()).isEmpty(), bad);
        }
        for (String good : List.of("traces/kineto/README.md", "128 B/clk per SM shared-memory bandwidth",
            "see docs/architecture.md", "the shared global-buffer port")) {
            assertEquals(List.of(), outsideReferences(Path.of("x"), good, Set.of("README.md", "architecture.md")), good);
        }
    }

    private static boolean isBinary(byte[] bytes) {
        int n = Math.min(bytes.length, 8000);
        for (int i = 0; i < n; i++) {
            if (bytes[i] == 0) {
                return true;
            }
        }
        return n >= 2 && (bytes[0] & 0xff) == 0x1f && (bytes[1] & 0xff) == 0x8b; // gzip
    }
}
