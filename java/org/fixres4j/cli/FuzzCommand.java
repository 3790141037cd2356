package org.fixres4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.fixres4j.fuzz.FuzzMain;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fixres fuzz}: random argument sets for every native entry point and mutated image and weight files for the
 * decoders and readers ({@link FuzzMain}), in a child JVM so that a crash is reported instead of taking this process
 * down.
 */
@Command(name = "fuzz", mixinStandardHelpOptions = true,
        description = "Fuzz the native kernels (raw JNI and typed API), the image decoder and the weight readers in a "
                + "child JVM. Exit 0 when every bad input was rejected with an exception and nothing crashed.")
final class FuzzCommand implements Runnable {
    @Option(names = "--seed", defaultValue = "1", description = "First random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--iterations", defaultValue = "10000",
            description = "Argument sets per family and round; file families get a tenth (default: ${DEFAULT-VALUE}).")
    long iterations;

    @Option(names = "--minutes", defaultValue = "0",
            description = "Keep running rounds with consecutive seeds for this long (default: one round).")
    double minutes;

    @Option(names = "--corpus", description = "Folder of extra seed files (*.jpg, *.png, *.safetensors, *.pth); "
            + "default: tests/data when it exists.")
    Path corpus;

    @Option(names = "--log", description = "Write every input tried (one line each) to this file.")
    Path log;

    @Option(names = "--families", split = ",", description = "Only these families (default: all).")
    List<String> families;

    @Override
    public void run() {
        if (iterations < 1) {
            throw new IllegalArgumentException("--iterations must be >= 1, got " + iterations);
        }
        if (minutes < 0) {
            throw new IllegalArgumentException("--minutes must be >= 0, got " + minutes);
        }
        if (families != null) {
            for (String f : families) {
                if (!FuzzMain.FAMILIES.contains(f)) {
                    throw new IllegalArgumentException("unknown family '" + f + "'; known: " + FuzzMain.FAMILIES);
                }
            }
        }
        Path seeds = corpus != null ? corpus : Files.isDirectory(Path.of("tests", "data")) ? Path.of("tests", "data")
                : null;
        if (seeds != null && !Files.isDirectory(seeds)) {
            throw new IllegalArgumentException("--corpus " + seeds + " is not a folder");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(FuzzMain.class.getName());
        cmd.addAll(List.of("--seed", Long.toString(seed), "--iterations", Long.toString(iterations), "--minutes",
                Double.toString(minutes)));
        if (seeds != null) {
            cmd.addAll(List.of("--corpus", seeds.toString()));
        }
        if (log != null) {
            cmd.addAll(List.of("--log", log.toString()));
        }
        if (families != null) {
            cmd.addAll(List.of("--families", String.join(",", families)));
        }
        int code;
        long[] quiet = {0};
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.INHERIT);
            pb.environment().putIfAbsent("OPENCV_LOG_LEVEL", "ERROR");
            Process p = pb.start();
            // the decoders' own complaints about the mutated files (libpng prints them itself) are counted, not shown
            Thread err = new Thread(() -> {
                try (java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(
                        p.getErrorStream(), java.nio.charset.StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        if (line.startsWith("libpng error:") || line.startsWith("libpng warning:")
                                || line.startsWith("[ WARN:") || line.startsWith("Corrupt JPEG data")
                                || line.startsWith("[ERROR:") && line.contains("grfmt_")
                                || line.startsWith("Premature end of JPEG")) {
                            quiet[0]++;
                        } else {
                            System.err.println(line);
                        }
                    }
                } catch (IOException e) {
                    System.err.println("fixres fuzz: lost the child's stderr: " + e.getMessage());
                }
            }, "fuzz-stderr");
            err.start();
            code = p.waitFor();
            err.join();
            if (quiet[0] > 0) {
                System.out.println("(" + quiet[0] + " decoder messages about the mutated files left out of stderr)");
            }
        } catch (IOException e) {
            throw new UserException("cannot start the fuzz JVM: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserException("interrupted while fuzzing");
        }
        switch (code) {
            case 0 -> { }
            case 1 -> throw new UserException("fuzz: some inputs had the wrong outcome (the WRONG lines above)");
            case 3 -> throw new UserException("fuzz: an input hung (see the HANG line above)");
            case 4 -> throw new UserException("fuzz: the run itself failed (see the ERROR line above)");
            default -> throw new UserException("fuzz: the child JVM crashed (exit status " + code
                    + (code > 128 ? ", signal " + (code - 128) : "") + ")");
        }
    }
}
