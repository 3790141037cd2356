package org.fixres4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.ArrayList;
import java.util.List;

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
            LaunchCommand.class, LaunchCommand.DistCheck.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements java.util.concurrent.Callable<Integer> {
    /** The hint printed after a one-line error of an unexpected kind. */
    static final String DEBUG_HINT = "(run with FIXRES_DEBUG=1 for the stack trace)";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Without a command: the usage on stderr and exit code 2 (nothing was done). */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        spec.commandLine().getErr().println("fixres: error: no command given");
        return 2;
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI and returns its exit code (0 ok, 1 error, 2 usage error). */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler(Main::handle);
        cli.setParameterExceptionHandler(Main::handleParameter);
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) {
            PrintWriter err = cli.getErr();
            err.println("fixres: error: out of memory (" + e.getMessage() + "); give Java more with "
                    + "JAVA_TOOL_OPTIONS=-Xmx..., or ask for less (smaller --batch, --res or --threads)");
            if (debug()) {
                e.printStackTrace(err);
            }
            err.flush();
            return 1;
        }
    }

    private static boolean debug() {
        return "1".equals(System.getenv("FIXRES_DEBUG"));
    }

    /**
     * A command line picocli cannot parse: one or two lines naming the problem (an unknown option first, since a
     * misspelled required option also makes it "missing") and where the usage is, instead of the whole usage.
     */
    private static int handleParameter(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        String name = qualifiedName(cmd);
        List<String> unknown = new ArrayList<>();
        for (String a : cmd.getUnmatchedArguments()) {
            if (a.startsWith("-")) {
                unknown.add(a);
            }
        }
        String message;
        if (!unknown.isEmpty()) {
            String first = unknown.get(0);
            int eq = first.indexOf('=');
            String option = eq > 0 ? first.substring(0, eq) : first;
            message = "unknown option '" + option + "'" + suggestion(cmd, option)
                    + (unknown.size() > 1 ? " (and " + (unknown.size() - 1) + " more unknown)" : "");
        } else if (e instanceof CommandLine.MissingParameterException m && !m.getMissing().isEmpty()
                && m.getMissing().stream().allMatch(CommandLine.Model.ArgSpec::isOption)) {
            // named by the spelling the help lists first (picocli would pick the longest alias)
            List<String> names = new ArrayList<>();
            for (CommandLine.Model.ArgSpec a : m.getMissing()) {
                CommandLine.Model.OptionSpec o = (CommandLine.Model.OptionSpec) a;
                names.add(o.names()[0] + (o.arity().max() > 0 ? "=" + o.paramLabel() : ""));
            }
            message = "missing required option" + (names.size() == 1 ? " " : "s ") + String.join(", ", names);
        } else {
            message = e.getMessage();
        }
        err.println(name + ": error: " + message);
        err.println("see '" + name + " --help' for the options");
        err.flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** " (did you mean --weights?)" for the closest option name, or "". */
    private static String suggestion(CommandLine cmd, String option) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (CommandLine.Model.OptionSpec o : cmd.getCommandSpec().options()) {
            for (String n : o.names()) {
                int d = distance(option, n);
                if (d < bestDistance) {
                    bestDistance = d;
                    best = n;
                }
            }
        }
        return best != null && bestDistance <= Math.max(2, option.length() / 3) ? " (did you mean " + best + "?)" : "";
    }

    /** Optimal string alignment distance (edits, adjacent swaps count one). */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    private static String qualifiedName(CommandLine cmd) {
        List<String> names = new ArrayList<>();
        for (CommandLine c = cmd; c != null; c = c.getParent()) {
            names.add(0, c.getCommandName());
        }
        return String.join(" ", names);
    }

    /**
     * Errors are reported in one line, without a stack trace (FIXRES_DEBUG=1 adds it): bad input and unreadable files
     * as they are, anything unexpected with the hint where the trace is.
     */
    private static int handle(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        PrintWriter err = cli.getErr();
        boolean user = e instanceof IllegalArgumentException || e instanceof IOException
                || e instanceof UserException;
        err.println("fixres " + cli.getCommandName() + ": error: " + message(e) + (user ? "" : " " + DEBUG_HINT));
        if (debug()) {
            e.printStackTrace(err);
        }
        err.flush();
        return user && e instanceof IllegalArgumentException ? 2 : 1;
    }

    /** The exception's message; for file system errors (whose message is often the path alone) what went wrong. */
    static String message(Throwable e) {
        if (e instanceof FileSystemException f && f.getFile() != null) {
            String file = f.getFile();
            String other = f.getOtherFile() == null ? "" : " (and " + f.getOtherFile() + ")";
            String reason = f.getReason() == null ? "" : ": " + f.getReason();
            if (e instanceof NoSuchFileException) {
                return "no such file or folder: " + file + other + reason;
            }
            if (e instanceof FileAlreadyExistsException) {
                return file + " is in the way: it exists and is not a folder, so nothing can be created in or "
                        + "under it" + other + reason;
            }
            if (e instanceof AccessDeniedException) {
                return "permission denied: " + file + other + reason;
            }
            if (e instanceof NotDirectoryException) {
                return "not a folder: " + file + other + reason;
            }
            return file + other + (reason.isEmpty() ? ": " + e.getClass().getSimpleName() : reason);
        }
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            return e.getClass().getSimpleName() + (e.getCause() != null ? " (" + message(e.getCause()) + ")" : "");
        }
        return m;
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
