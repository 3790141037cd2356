package org.fixres4j.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.fixres4j.dist.Collective;
import org.fixres4j.dist.CollectiveException;
import org.fixres4j.dist.DistConfig;
import org.fixres4j.dist.GradientAllReducer;
import org.fixres4j.dist.Launcher;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.torch.Torch;
import org.fixres4j.weights.TensorData;
import org.fixres4j.weights.TorchTensors;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code fixres launch --nproc N <command ...>}: runs N ranks of a fixres command on this machine with torchrun's
 * variables set (see docs/DISTRIBUTED.md).
 */
@Command(name = "launch", mixinStandardHelpOptions = true, modelTransformer = LaunchCommand.StopAtCommand.class,
        description = {"Run N local ranks of a fixres command, like torchrun --nproc-per-node N: each rank gets "
                + "RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR=127.0.0.1 and MASTER_PORT (a free port). Output lines "
                + "are prefixed with [rank r]. If a rank fails, the others are stopped and launch exits non-zero "
                + "naming it.",
                "Across machines, run one command per machine instead: RANK=.. WORLD_SIZE=.. MASTER_ADDR=.. "
                + "MASTER_PORT=.. ./fixres <command>."})
final class LaunchCommand implements Runnable {
    @Option(names = "--nproc", required = true, paramLabel = "N", description = "Number of ranks to start.")
    int nproc;

    @Option(names = "--master-port", paramLabel = "P", description = "The store's port (default: a free port).")
    int masterPort;

    @Option(names = "--no-prefix", description = "Pass the ranks' output through without [rank r] prefixes.")
    boolean noPrefix;

    @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The fixres command and its arguments.")
    List<String> command = new ArrayList<>();

    @Override
    public void run() {
        if (command.get(0).equals("launch")) {
            throw new IllegalArgumentException("launch cannot launch itself");
        }
        Launcher.Outcome o;
        try {
            o = new Launcher(nproc, Main.class.getName(), command).masterPort(masterPort).prefix(!noPrefix).run();
        } catch (java.io.IOException e) {
            throw new UserException("could not start the ranks: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserException("interrupted", e);
        }
        if (!o.ok()) {
            throw new UserException(o.message());
        }
    }

    /** Everything from the first positional argument on belongs to the launched command, options included. */
    static final class StopAtCommand implements CommandLine.IModelTransformer {
        @Override
        public CommandLine.Model.CommandSpec transform(CommandLine.Model.CommandSpec spec) {
            spec.parser().stopAtPositional(true);
            return spec;
        }
    }

    /**
     * {@code fixres dist-check} (hidden): joins the group and checks it, for tests and for a first multi-machine
     * try. Each step allreduces the ranks' ids (float32 and int64) and checks the sums; {@code --bench-floats}
     * times allreduces of that many floats and the bucketed gradient averaging of B0's parameters.
     */
    @Command(name = "dist-check", hidden = true, mixinStandardHelpOptions = true,
            description = "Join the distributed group and check it: allreduce of the rank ids (float32 and int64).")
    static final class DistCheck implements Runnable {
        static { org.fixres4j.torch.Torch.ensureLoaded(); }

        @Mixin
        DistOptions dist;

        @Option(names = "--steps", paramLabel = "N", defaultValue = "1", description = "Allreduce steps.")
        int steps;

        @Option(names = "--pause-ms", paramLabel = "MS", defaultValue = "0", description = "Pause between steps.")
        long pauseMs;

        @Option(names = "--fail-rank", paramLabel = "R", description = "This rank fails at once (for tests).")
        Integer failRank;

        @Option(names = "--bench-floats", paramLabel = "N", description = "Time allreduce AVG of N floats.")
        Long benchFloats;

        @Option(names = "--bench-iters", paramLabel = "K", defaultValue = "15", description = "Timed iterations.")
        int benchIters;

        @Override
        @SuppressWarnings("try")
        public void run() {
            DistConfig cfg = dist.config();
            if (failRank != null && failRank == cfg.rank()) {
                throw new UserException("rank " + cfg.rank() + " fails on request (--fail-rank)");
            }
            if (steps < 0 || pauseMs < 0 || benchIters < 1) {
                throw new IllegalArgumentException("--steps, --pause-ms and --bench-iters must not be negative");
            }
            // loaded here, not in a static initializer: picocli instantiates every subcommand for every invocation
            Torch.ensureLoaded();
            try (Collective c = Collective.connect(cfg)) {
                int w = c.worldSize();
                System.out.println("dist-check: joined as " + cfg);
                for (int s = 1; s <= steps; s++) {
                    try (PointerScope scope = new PointerScope()) {
                        Tensor t = TorchTensors.toTorch(TensorData.ofFloats(new long[] {2}, c.rank(), 1));
                        c.allReduceSum(t);
                        float[] got = TorchTensors.fromTorch(t).toFloatArray();
                        long[] counts = c.allReduceSum(new long[] {c.rank(), 1L << 40});
                        long want = (long) w * (w - 1) / 2;
                        boolean ok = got[0] == want && got[1] == w && counts[0] == want && counts[1] == (long) w << 40;
                        System.out.println("dist-check: step " + s + ": rank " + c.rank() + "/" + w
                                + " sum of ranks = " + (long) got[0] + " (int64 " + counts[0] + "), world = "
                                + (long) got[1] + (ok ? " ok" : " WRONG, expected " + want));
                        System.out.flush();
                        if (!ok) {
                            throw new IllegalStateException("rank " + c.rank() + ": wrong allreduce result "
                                    + Arrays.toString(got) + " " + Arrays.toString(counts));
                        }
                    }
                    if (pauseMs > 0) {
                        try {
                            Thread.sleep(pauseMs);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        }
                    }
                }
                if (benchFloats != null) {
                    bench(c);
                }
                c.barrier();
                System.out.println("dist-check: rank " + c.rank() + " done");
            } catch (CollectiveException e) {
                throw new UserException(e.getMessage(), e); // one line: the message names rank, operation, peer
            }
        }

        @SuppressWarnings("try")
        private void bench(Collective c) {
            if (benchFloats < 1 || benchFloats > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("--bench-floats must be in 1.." + Integer.MAX_VALUE);
            }
            double[] flat = new double[benchIters];
            try (PointerScope scope = new PointerScope()) {
                Tensor t = org.bytedeco.pytorch.global.torch.empty(benchFloats)
                        .fill_(new org.bytedeco.pytorch.Scalar(1.0));
                for (int i = 0; i < 3; i++) {
                    c.allReduceAvg(t);
                }
                for (int i = 0; i < benchIters; i++) {
                    c.barrier();
                    long t0 = System.nanoTime();
                    c.allReduceAvg(t);
                    flat[i] = (System.nanoTime() - t0) / 1e6;
                }
            }
            double[] bucketed = new double[benchIters];
            double[] bucketedCpu = new double[benchIters];
            var threads = java.lang.management.ManagementFactory.getThreadMXBean();
            long[] buckets;
            List<Tensor> grads = new ArrayList<>();
            try (EfficientNet m = ModelRegistry.create("tf_efficientnet_b0");
                 PointerScope scope = new PointerScope()) {
                TensorVector ps = m.parameters(true);
                for (long i = 0; i < ps.size(); i++) {
                    grads.add(ps.get(i).detach().clone()); // B0's gradient shapes
                }
                GradientAllReducer reducer = new GradientAllReducer(c);
                for (int i = 0; i < 3; i++) {
                    reducer.allReduceAvg(grads);
                }
                for (int i = 0; i < benchIters; i++) {
                    c.barrier();
                    long c0 = threads.getCurrentThreadCpuTime();
                    long t0 = System.nanoTime();
                    reducer.allReduceAvg(grads);
                    bucketed[i] = (System.nanoTime() - t0) / 1e6;
                    bucketedCpu[i] = (threads.getCurrentThreadCpuTime() - c0) / 1e6;
                }
                buckets = reducer.bucketSizes();
                reducer.close();
            }
            if (c.isMain()) {
                System.out.printf(Locale.ROOT, "dist-check: allreduce AVG of %,d floats, %d ranks: %s%n",
                        benchFloats, c.worldSize(), stats(flat));
                System.out.printf(Locale.ROOT, "dist-check: bucketed gradient allreduce of B0's %d gradients "
                        + "(%d buckets: %s floats): %s; CPU time of the calling thread (packing, unpacking, JNI): "
                        + "%s%n", grads.size(), buckets.length, Arrays.toString(buckets), stats(bucketed),
                        stats(bucketedCpu));
            }
        }

        private static String stats(double[] ms) {
            double[] s = ms.clone();
            Arrays.sort(s);
            return String.format(Locale.ROOT, "median %.1f ms (min %.1f, max %.1f, %d runs)", s[s.length / 2],
                    s[0], s[s.length - 1], s.length);
        }
    }
}
