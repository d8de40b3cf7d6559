package dev.rafter.cli;

import dev.rafter.config.InputException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code rafter} command line. Exit codes: 0 ok, 1 a check failed, 2 bad input. */
@Command(name = "rafter", mixinStandardHelpOptions = true, version = Main.VERSION,
    description = "Discrete-event simulator of LLM-inference accelerators.")
public final class Main implements Runnable {
    /**
     * The subcommands, in the order help lists them. A command line that names one gets only that one: picocli
     * reads every option of every command it is given, about 70 ms of a short run's start for the other nine.
     */
    static final List<Class<?>> COMMANDS = List.of(DescribeCommand.class, LowerCommand.class, RooflineCommand.class,
        SimulateCommand.class, CompareCommand.class, ImportCommand.class, SweepCommand.class, PlotCommand.class,
        ValidateCommand.class, BenchCommand.class, ComponentsCommand.class, CollectiveCommand.class,
        ServeCommand.class);

    /** A subcommand's name, as its {@code @Command} annotation gives it. */
    static String name(Class<?> command) {
        return command.getAnnotation(Command.class).name();
    }

    /**
     * The command line with only the subcommand named {@code first} (the first argument), or with all of them when
     * it names none (null, an option, a typo: help and the error message list them).
     */
    static CommandLine commandLine(String first) {
        boolean one = COMMANDS.stream().anyMatch(c -> name(c).equals(first));
        CommandLine cli = new CommandLine(new Main());
        for (Class<?> command : COMMANDS) {
            if (!one || name(command).equals(first)) {
                cli.addSubcommand(name(command), command);
                if (command == SimulateCommand.class || command == ServeCommand.class
                    || command == SweepCommand.class) {
                    SimulateCommand.hardwareOrSystem(cli.getSubcommands().get(name(command)));
                }
            }
        }
        // Numeric options read decimals only: picocli's own conversion takes Java's '1d' (one second for
        // --duration 1d) and '0x1p3'. Registered after the subcommands, which it reaches only once they are added.
        CommandLine.ITypeConverter<Double> decimal = Main::decimal;
        cli.registerConverter(Double.class, decimal);
        cli.registerConverter(double.class, decimal);
        // Whole numbers in ASCII digits only: picocli's (Java's) conversion also reads Arabic-Indic and fullwidth
        // digits ('--requests ٥' was 5 requests).
        CommandLine.ITypeConverter<Long> whole = text -> whole(text, Long.MIN_VALUE, Long.MAX_VALUE, "a long");
        cli.registerConverter(Long.class, whole);
        cli.registerConverter(long.class, whole);
        CommandLine.ITypeConverter<Integer> integer =
            text -> (int) whole(text, Integer.MIN_VALUE, Integer.MAX_VALUE, "an int");
        cli.registerConverter(Integer.class, integer);
        cli.registerConverter(int.class, integer);
        return cli;
    }

    /** {@code text} as a whole number in [{@code min}, {@code max}], in the words picocli uses for its own types. */
    private static long whole(String text, long min, long max, String type) {
        try {
            long v = dev.rafter.config.Numbers.parseLong(text);
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new CommandLine.TypeConversionException("'" + text + "' is not " + type);
    }

    private static Double decimal(String text) {
        try {
            return dev.rafter.config.Numbers.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + text + "' is not a decimal number");
        }
    }

    public static final int OK = 0;
    public static final int CHECK_FAILED = 1;
    public static final int BAD_INPUT = 2;
    public static final String VERSION = "rafter 0.1.0";

    /**
     * The version and the build that runs: a hash of Rafter's own classes in the jar (names, CRCs and sizes of the
     * entries under {@code dev/rafter/}, except the Spark engine's and the relocated logging libraries'), so a
     * rebuilt Rafter counts as another version for sweep resume while the core jar and the rafter-spark jar, which
     * carry the same classes, count as one; "classes" when run from compiled classes (tests).
     */
    public static String build() {
        try {
            java.nio.file.Path code = java.nio.file.Path.of(Main.class.getProtectionDomain().getCodeSource()
                .getLocation().toURI());
            if (java.nio.file.Files.isRegularFile(code)) {
                return buildOf(code);
            }
        } catch (java.net.URISyntaxException | java.io.IOException | RuntimeException e) {
            // an unknown build: the version alone
        }
        return VERSION + " classes";
    }

    /** The build of the jar at {@code jar} (see {@link #build}). */
    static String buildOf(java.nio.file.Path jar) throws java.io.IOException {
        return VERSION + " " + dev.rafter.sweep.SweepKey.sha256(classes(jar)).substring(0, 16);
    }

    private static String classes(java.nio.file.Path jar) throws java.io.IOException {
        java.util.TreeMap<String, String> entries = new java.util.TreeMap<>();
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(jar.toFile())) {
            zip.stream().filter(e -> e.getName().startsWith("dev/rafter/") && !e.getName().startsWith(
                "dev/rafter/spark/") && !e.getName().startsWith("dev/rafter/shaded/") && !e.isDirectory()).forEach(e -> entries.put(e.getName(), e.getCrc() + ":"
                + e.getSize()));
        }
        StringBuilder b = new StringBuilder();
        entries.forEach((name, crc) -> b.append(name).append(' ').append(crc).append('\n'));
        return b.toString();
    }

    @Override
    public void run() {
        commandLine(null).usage(System.out);
    }

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        // Numbers in files and on the console must not follow the user's locale (a decimal comma breaks every CSV
        // column); file writers also name Locale.ROOT themselves, for callers that do not come through here.
        java.util.Locale.setDefault(java.util.Locale.ROOT);
        int code;
        try {
            code = execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        } catch (OutOfMemoryError e) {
            System.err.println("rafter: out of memory (" + e.getMessage() + "); give the JVM more, e.g."
                + " RAFTER_JAVA_OPTS=-Xmx16g, or run fewer or smaller operators");
            code = INTERNAL_ERROR;
        }
        System.exit(code);
    }

    /** A broken invariant: a bug in Rafter, never the user's input. */
    public static final int INTERNAL_ERROR = 1;
    /** A sweep engine's cluster failed the job (neither Rafter's bug nor bad input). */
    public static final int ENGINE_FAILED = 1;

    /** One line for a bug report; the stack trace only with RAFTER_DEBUG set. */
    static int internalError(Throwable e, PrintWriter err) {
        String what = e.getClass().getSimpleName() + (e.getMessage() == null ? ""
            : ": " + e.getMessage().lines().findFirst().orElse(""));
        err.println("rafter: internal error (a bug in Rafter, not in your input): " + what
            + " -- please report it with the command line and input files (RAFTER_DEBUG=1 prints the stack trace)");
        if (System.getenv("RAFTER_DEBUG") != null) {
            e.printStackTrace(err);
        }
        return INTERNAL_ERROR;
    }

    /** Runs one command line; bad input becomes one line on {@code err} and exit code 2, never a stack trace. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = commandLine(args.length > 0 ? args[0] : null);
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof InputException) {
                err.println("rafter: " + e.getMessage());
                return BAD_INPUT;
            }
            if (e instanceof UncheckedIOException) {
                err.println("rafter: " + e.getMessage().lines().findFirst().orElse("cannot read or write a file"));
                return BAD_INPUT;
            }
            if (e instanceof dev.rafter.sweep.EngineFailure) {
                err.println("rafter: " + e.getMessage());
                return ENGINE_FAILED;
            }
            return internalError(e, err);
        });
        cli.setParameterExceptionHandler((e, a) -> {
            String command = commandName(e.getCommandLine());
            err.println("rafter: " + parameterMessage(e) + " (see 'rafter " + (command.isEmpty() ? "" : command + " ")
                + "--help')");
            return BAD_INPUT;
        });
        if (args.length > 1 && args[0].equals("sweep") && args[1].equals("merge")) {
            // Stands alone: picocli would ask for the sweep's own required options before its subcommand.
            CommandLine merge = new CommandLine(new SweepCommand.Merge()).setCommandName("sweep merge").setOut(out)
                .setErr(err).setExecutionExceptionHandler(cli.getExecutionExceptionHandler())
                .setParameterExceptionHandler(cli.getParameterExceptionHandler());
            return merge.execute(java.util.Arrays.copyOfRange(args, 2, args.length));
        }
        return cli.execute(args);
    }

    /** picocli's message in one line; a missing option is named as the user types it. */
    static String parameterMessage(CommandLine.ParameterException e) {
        if (e instanceof CommandLine.MissingParameterException m && !m.getMissing().isEmpty()) {
            java.util.List<String> names = new java.util.ArrayList<>();
            for (CommandLine.Model.ArgSpec arg : m.getMissing()) {
                if (arg instanceof CommandLine.Model.OptionSpec o) {
                    names.add(o.longestName() + " " + o.paramLabel());
                } else {
                    names.add(arg.paramLabel());
                }
            }
            boolean oneOf = m.getMessage().contains("specify one of these");
            return "missing " + (oneOf ? "one of " + String.join(" or ", names) : String.join(", ", names));
        }
        // picocli starts some messages (mutually exclusive options, ...) with "Error: ": already said by exit 2
        return e.getMessage().lines().findFirst().orElse("bad arguments").replaceFirst("^Error: ", "");
    }

    private static String commandName(CommandLine c) {
        return c.getCommandSpec().qualifiedName(" ").replaceFirst("^rafter ?", "");
    }
}
