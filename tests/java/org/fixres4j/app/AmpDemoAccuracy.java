package org.fixres4j.app;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

import org.fixres4j.data.Dataset;
import org.fixres4j.data.DemoData;
import org.fixres4j.fixres.FinetuneConfig;
import org.fixres4j.fixres.Sweep;
import org.fixres4j.model.FastEfficientNet;
import org.fixres4j.model.ModelFile;
import org.fixres4j.torch.Amp;
import org.fixres4j.torch.AmpScope;
import org.fixres4j.transform.SampleTransform;

/**
 * Not a test: the measurement behind docs/PERFORMANCE.md's bfloat16 top-1 row. Scores the demo's shipped checkpoint on
 * the demo's whole test set (Fashion-MNIST on a canvas, 10,000 images, at the checkpoint's input size) five ways in one
 * pass (each batch decoded once): fast path float32 and bfloat16, plain module float32 and under bfloat16 autocast,
 * and the bfloat16 fast path on {@code threads} {@link org.fixres4j.model.BatchStreams} as eval runs it;
 * prints the top-1 of each, the top-1 change and the largest logit deviation from float32 (absolute, and relative to
 * the largest |logit| of the test set). Run with the test classpath:
 * {@code java -cp target/test-classes:target/fixres4j-0.1.0-SNAPSHOT-cli.jar org.fixres4j.app.AmpDemoAccuracy [threads]}.
 */
public final class AmpDemoAccuracy {
    private AmpDemoAccuracy() {}

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        org.fixres4j.torch.Torch.setThreads(threads);
        DemoData d = DemoData.open(Demo.DEMO_DATA);
        Dataset test = d.test();
        Demo.Recipe recipe = Demo.RECIPES.get(d.name());
        Path file = Files.createTempFile("fixres-demo", ".safetensors");
        try (InputStream in = Demo.class.getResourceAsStream(recipe.resource())) {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        try (ModelFile.Loaded loaded = ModelFile.load(file)) {
            loaded.model().eval();
            SampleTransform t = FinetuneConfig.testTransform(loaded.info(), loaded.info().inputSize());
            try (FastEfficientNet f32 = FastEfficientNet.fuse(loaded.model());
                 FastEfficientNet bf16 = FastEfficientNet.fuse(loaded.model(), Amp.BF16);
                 org.fixres4j.model.BatchStreams streams = org.fixres4j.model.BatchStreams.of(threads, threads)) {
                // the fifth: bf16 as eval runs it on 2+ threads (one slice of each batch per thread)
                List<Sweep.ModelFn> models = List.of(f32::forward, bf16::forward, loaded.model()::forward,
                        x -> AmpScope.forward(Amp.BF16, "cpu", loaded.model()::forward, x),
                        x -> streams.forward(bf16::forward, x));
                long t0 = System.nanoTime();
                Sweep.Result r = Sweep.over(test, List.of(t, t, t, t, t)).batchSize(64).threads(threads).strict(true)
                        .keepLogits(true).run(models);
                String[] names = {"fast float32", "fast bf16", "plain float32", "plain bf16 autocast",
                    "fast bf16, " + threads + " streams"};
                System.out.printf(Locale.ROOT, "%s: %d test images at %d px, %s, %d threads, %.0f s%n", d.name(),
                        r.evaluated(), loaded.info().inputSize(), loaded.model().spec().name(), threads,
                        (System.nanoTime() - t0) / 1e9);
                for (int i = 0; i < 5; i++) {
                    Sweep.Entry e = r.entries().get(i);
                    Sweep.Entry ref = r.entries().get(i == 2 || i == 3 ? 2 : 0);
                    float[] a = ref.logits();
                    float[] b = e.logits();
                    double max = 0;
                    double diff = 0;
                    for (int j = 0; j < a.length; j++) {
                        max = Math.max(max, Math.abs(a[j]));
                        diff = Math.max(diff, Math.abs(a[j] - b[j]));
                    }
                    System.out.printf(Locale.ROOT, "%-22s top-1 %.2f%%  change %+.2f points  max |logit diff| %.4g "
                            + "(%.3g of max |logit| %.3g)  forward %.1f s%n", names[i], e.top1(),
                            e.top1() - ref.top1(), diff, diff / max, max, e.forwardSeconds());
                }
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
