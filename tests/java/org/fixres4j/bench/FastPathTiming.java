package org.fixres4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.FastEfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.torch.Amp;

/**
 * Not a test: times the fast path alone, for profiling one precision ({@code perf record} sees nothing but that path)
 * and for the same-run bf16 / float32 ratio of docs/PERFORMANCE.md's bfloat16 section. Builds
 * {@code bench model}'s seeded random tf_efficientnet_b0 ({@code torch.manual_seed(0)}), folds it, and for each
 * thread count runs the chosen paths interleaved in rounds (median ms per batch over the rounds) on one random
 * input. Run with the test classpath:
 * {@code java -cp target/test-classes:target/fixres4j-0.1.0-SNAPSHOT-cli.jar org.fixres4j.bench.FastPathTiming
 * PATHS THREADS [BATCH] [SECONDS] [RES]}, PATHS one of {@code fp32}, {@code bf16}, {@code both}; THREADS a comma list.
 */
public final class FastPathTiming {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }

    private FastPathTiming() {}

    @SuppressWarnings("try")
    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: FastPathTiming fp32|bf16|both THREADS[,THREADS...] [BATCH] [SECONDS] [RES]");
            System.exit(2);
        }
        String which = args[0];
        String[] threadList = args[1].split(",");
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        double seconds = args.length > 3 ? Double.parseDouble(args[3]) : 5;
        int res = args.length > 4 ? Integer.parseInt(args[4]) : ModelBench.DEFAULT_RES;
        boolean f32 = which.equals("fp32") || which.equals("both");
        boolean bf16 = which.equals("bf16") || which.equals("both");
        if (!f32 && !bf16) {
            throw new IllegalArgumentException("PATHS must be fp32, bf16 or both: " + which);
        }
        torch.manual_seed(0);
        try (EfficientNet model = ModelRegistry.create(ModelBench.DEFAULT_MODEL)) {
            model.eval();
            try (FastEfficientNet fast = FastEfficientNet.fuse(model);
                 FastEfficientNet fastBf16 = FastEfficientNet.fuse(model, Amp.BF16);
                 PointerScope scope = new PointerScope()) {
                Tensor x = torch.randn(batch, model.spec().inChannels(), res, res);
                List<String> names = new ArrayList<>();
                List<java.util.function.Supplier<Tensor>> paths = new ArrayList<>();
                if (f32) {
                    names.add("fast fp32");
                    paths.add(() -> fast.forward(x));
                }
                if (bf16) {
                    names.add("fast bf16");
                    paths.add(() -> fastBf16.forward(x));
                }
                for (String ts : threadList) {
                    int t = Integer.parseInt(ts.trim());
                    org.fixres4j.kernels.ComputeThreads.set(t);
                    double[] ms = ModelBench.interleaved(seconds * paths.size(), batch, paths);
                    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "batch %d, %d thread(s):", batch,
                            t));
                    for (int i = 0; i < ms.length; i++) {
                        line.append(String.format(Locale.ROOT, "  %s %.1f ms", names.get(i), ms[i] * batch));
                    }
                    if (ms.length == 2) {
                        line.append(String.format(Locale.ROOT, "  fp32/bf16 %.2fx", ms[0] / ms[1]));
                    }
                    System.out.println(line);
                }
            }
        }
    }
}
