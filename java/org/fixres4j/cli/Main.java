package org.fixres4j.cli;

import java.io.IOException;
import java.io.PrintWriter;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code fixres} command line (run through the {@code ./fixres} launcher). */
@Command(
        name = "fixres",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "FixRes4J: EfficientNet at the right test resolution. Pillow-exact fused preprocessing, "
                + "timm-compatible models on libtorch, and the FixRes protocol.",
        subcommands = {
            InfoCommand.class,
            PreprocessCommand.class,
            BenchCommand.class,
            DemoCommand.class, TrainCommand.class, FinetuneCommand.class,
            LogitsCommand.class,
            PredictCommand.class,
            ConvertCommand.class, EvalCommand.class, RecommendCommand.class, FuzzCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI and returns its exit code (0 ok, 1 error, 2 usage error). */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler(Main::handle);
        return cli.execute(args);
    }

    /** Bad input and unreadable files are reported in one line, without a stack trace (FIXRES_DEBUG=1 adds it). */
    private static int handle(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        PrintWriter err = cli.getErr();
        boolean user = e instanceof IllegalArgumentException || e instanceof IOException
                || e instanceof UserException;
        err.println("fixres " + cli.getCommandName() + ": error: " + (e.getMessage() == null ? e : e.getMessage()));
        if (!user || "1".equals(System.getenv("FIXRES_DEBUG"))) {
            e.printStackTrace(err);
        }
        err.flush();
        return user && e instanceof IllegalArgumentException ? 2 : 1;
    }

    /** The project version from the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"FixRes4J " + (v == null ? "(development build)" : v)};
        }
    }
}
