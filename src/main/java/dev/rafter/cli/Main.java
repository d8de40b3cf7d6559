package dev.rafter.cli;

import dev.rafter.config.InputException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code rafter} command line. Exit codes: 0 ok, 1 a check failed, 2 bad input. */
@Command(name = "rafter", mixinStandardHelpOptions = true, version = "rafter 0.1.0",
    description = "Discrete-event simulator of LLM-inference accelerators.",
    subcommands = {DescribeCommand.class, LowerCommand.class, RooflineCommand.class, SimulateCommand.class, CompareCommand.class, SweepCommand.class,
        ValidateCommand.class, BenchCommand.class})
public final class Main implements Runnable {
    public static final int OK = 0;
    public static final int CHECK_FAILED = 1;
    public static final int BAD_INPUT = 2;

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs one command line; bad input becomes one line on {@code err} and exit code 2, never a stack trace. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof InputException) {
                err.println("rafter: " + e.getMessage());
                return BAD_INPUT;
            }
            if (e instanceof UncheckedIOException) {
                err.println("rafter: " + e.getMessage());
                return BAD_INPUT;
            }
            throw e;
        });
        cli.setParameterExceptionHandler((e, a) -> {
            err.println("rafter: " + e.getMessage().lines().findFirst().orElse("bad arguments")
                + " (see 'rafter " + commandName(e.getCommandLine()) + " --help')");
            return BAD_INPUT;
        });
        return cli.execute(args);
    }

    private static String commandName(CommandLine c) {
        return c.getCommandSpec().qualifiedName(" ").replaceFirst("^rafter ?", "");
    }
}
