package org.fixres4j.dist;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.fixres4j.torch.Torch;

/**
 * Starts N local ranks of a Java program, like {@code torchrun --nproc-per-node N}: the same java, the same class path
 * (the running jar) and the same JVM options, with {@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK},
 * {@code LOCAL_WORLD_SIZE}, {@code MASTER_ADDR=127.0.0.1} and {@code MASTER_PORT} (a free port) set. It warms the
 * native cache first (so N processes do not extract libtorch at once), prefixes each output line with
 * {@code [rank r]} (or passes the output through), stops every rank when one fails, and stops them all when the
 * launcher itself is terminated (SIGINT/SIGTERM run a shutdown hook that terminates the children).
 */
public final class Launcher {

    /** How a launch ended: 0 when every rank exited 0, else the first failing rank and its exit code. */
    public record Outcome(int exitCode, int failedRank, String message) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    private final int nproc;
    private final String mainClass;
    private final List<String> args;
    private int masterPort;
    private boolean prefix = true;
    private long graceMillis = 5000;
    private final Map<String, String> extraEnv = new LinkedHashMap<>();
    private PrintStream out = System.out;
    private PrintStream err = System.err;

    /**
     * @param nproc number of ranks, 1..256
     * @param mainClass the class whose {@code main} each rank runs (e.g. the CLI's)
     * @param args its arguments
     */
    public Launcher(int nproc, String mainClass, List<String> args) {
        if (nproc < 1 || nproc > 256) {
            throw new IllegalArgumentException("--nproc must be in 1..256, got " + nproc);
        }
        if (args.isEmpty()) {
            throw new IllegalArgumentException("no command to launch");
        }
        this.nproc = nproc;
        this.mainClass = mainClass;
        this.args = List.copyOf(args);
    }

    /** The store's port (default 0: a free port chosen now). */
    public Launcher masterPort(int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--master-port must be in 1..65535, got " + port);
        }
        this.masterPort = port;
        return this;
    }

    /** Prefix each line with "[rank r] " (default) or pass the ranks' output through untouched. */
    public Launcher prefix(boolean on) {
        this.prefix = on;
        return this;
    }

    /** A variable set in every rank's environment. */
    public Launcher env(String name, String value) {
        extraEnv.put(name, value);
        return this;
    }

    /** Where prefixed output goes (default System.out / System.err). */
    public Launcher output(PrintStream stdout, PrintStream stderr) {
        this.out = stdout;
        this.err = stderr;
        return this;
    }

    /** The command line of one rank (java, JVM options, class path, main class, arguments). */
    public List<String> command() {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // a debugger port can be bound by one JVM only
            if (!a.startsWith("-agentlib:jdwp") && !a.startsWith("-Xrunjdwp")) {
                cmd.add(a);
            }
        }
        cmd.add("-cp");
        cmd.add(classPath());
        cmd.add(mainClass);
        cmd.addAll(args);
        return cmd;
    }

    /** The running jar (the code source of this class), else the JVM's class path (classes directories). */
    static String classPath() {
        try {
            var src = Launcher.class.getProtectionDomain().getCodeSource();
            if (src != null) {
                Path p = Path.of(src.getLocation().toURI());
                if (Files.isRegularFile(p) && p.toString().endsWith(".jar")) {
                    return p.toString();
                }
            }
        } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
            // fall through to java.class.path
        }
        return System.getProperty("java.class.path");
    }

    /** A port free right now (the OS's choice; torchrun does the same). */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    /** Runs the ranks to completion; returns how it went (never throws for a failing rank). */
    public Outcome run() throws IOException, InterruptedException {
        Torch.ensureLoaded(); // warm the native cache once, before N processes look for it
        int port = masterPort != 0 ? masterPort : freePort();
        List<String> cmd = command();
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / nproc);
        Process[] procs = new Process[nproc];
        List<Thread> pumps = new ArrayList<>();
        BlockingQueue<Integer> exits = new LinkedBlockingQueue<>();
        Thread hook = new Thread(() -> stopAll(procs, -1), "fixres-launch-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        long start = System.nanoTime();
        try {
            for (int r = 0; r < nproc; r++) {
                ProcessBuilder pb = new ProcessBuilder(cmd);
                Map<String, String> env = pb.environment();
                env.put("RANK", Integer.toString(r));
                env.put("LOCAL_RANK", Integer.toString(r));
                env.put("WORLD_SIZE", Integer.toString(nproc));
                env.put("LOCAL_WORLD_SIZE", Integer.toString(nproc));
                env.put("GROUP_RANK", "0");
                env.put("MASTER_ADDR", "127.0.0.1");
                env.put("MASTER_PORT", Integer.toString(port));
                // like torchrun: the ranks share the cores instead of each spinning up one thread per core
                env.putIfAbsent("OMP_NUM_THREADS", Integer.toString(threads));
                env.putAll(extraEnv);
                if (prefix) {
                    pb.redirectInput(ProcessBuilder.Redirect.INHERIT);
                } else {
                    pb.inheritIO();
                }
                Process p = pb.start();
                procs[r] = p;
                final int rank = r;
                p.onExit().thenRun(() -> exits.add(rank));
                if (prefix) {
                    pumps.add(pump(p.getInputStream(), out, rank));
                    pumps.add(pump(p.getErrorStream(), err, rank));
                }
            }
            Outcome outcome = null;
            for (int done = 0; done < nproc; done++) {
                int r = exits.take();
                int code = procs[r].exitValue();
                if (code != 0) {
                    double s = (System.nanoTime() - start) / 1e9;
                    List<Integer> stopped = stopAll(procs, r);
                    String how = code > 128 && code < 160 ? "was killed by signal " + (code - 128) + " (exit code "
                            + code + ")" : "exited with code " + code;
                    outcome = new Outcome(code, r, "rank " + r + " " + how + String.format(Locale.ROOT,
                            " after %.1f s", s) + (stopped.isEmpty() ? "" : "; stopped rank"
                            + (stopped.size() > 1 ? "s " : " ") + join(stopped)));
                    break;
                }
            }
            for (Thread t : pumps) {
                t.join(10_000);
            }
            return outcome != null ? outcome : new Outcome(0, -1, "all " + nproc + " ranks exited 0");
        } finally {
            stopAll(procs, -1);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook is running or has run
            }
        }
    }

    /** Terminates every live rank except {@code except} (SIGTERM, then SIGKILL after the grace period). */
    private List<Integer> stopAll(Process[] procs, int except) {
        List<Integer> stopped = new ArrayList<>();
        for (int r = 0; r < procs.length; r++) {
            if (r != except && procs[r] != null && procs[r].isAlive()) {
                procs[r].destroy();
                stopped.add(r);
            }
        }
        long deadline = System.nanoTime() + graceMillis * 1_000_000;
        for (int r : stopped) {
            try {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !procs[r].waitFor(left, TimeUnit.NANOSECONDS)) {
                    procs[r].destroyForcibly();
                }
            } catch (InterruptedException e) {
                procs[r].destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        return stopped;
    }

    private static Thread pump(InputStream in, PrintStream to, int rank) {
        String tag = "[rank " + rank + "] ";
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (to) {
                        to.println(tag + line);
                        to.flush();
                    }
                }
            } catch (IOException e) {
                // the rank is gone
            }
        }, "fixres-launch-rank" + rank);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static String join(List<Integer> xs) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < xs.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(xs.get(i));
        }
        return sb.toString();
    }
}
