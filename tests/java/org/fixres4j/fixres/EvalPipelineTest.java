package org.fixres4j.fixres;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.data.Dataset;
import org.fixres4j.data.EvalPipeline;
import org.fixres4j.data.ImageFolder;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.FastEfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.model.PretrainedConfig;
import org.fixres4j.report.EvalFixtures;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.SampleTransform;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * eval's pipeline: the loader's threads (and whether its consumer helps) change no logit, bit for bit; forward passes
 * in chunks keep the order of the rows.
 */
class EvalPipelineTest {
    @TempDir
    static Path dir;
    static EfficientNet model;
    static FastEfficientNet fast;
    static Dataset dataset;

    @BeforeAll
    static void setUp() throws IOException {
        Torch.ensureLoaded();
        torch.manual_seed(11);
        model = ModelRegistry.create(EvalFixtures.ARCH, 5);
        model.initTimm();
        model.eval();
        fast = FastEfficientNet.fuse(model);
        dataset = ImageFolder.read(EvalFixtures.imageFolder(dir.resolve("folder"), false));
    }

    @AfterAll
    static void tearDown() {
        fast.close();
        model.close();
    }

    private static Sweep.Result run(int loaderThreads, int computeThreads, Sweep.ModelFn fn) throws IOException {
        PretrainedConfig cfg = ModelRegistry.config(EvalFixtures.ARCH);
        List<SampleTransform> ts = Sweep.timmTransforms(cfg, 64, 48);
        int saved = torch.get_num_threads();
        try {
            torch.set_num_threads(computeThreads);
            return Sweep.over(dataset, ts).batchSize(4).threads(loaderThreads).keepLogits(true).run(fn);
        } finally {
            torch.set_num_threads(saved);
        }
    }

    @Test
    void everyLoaderSplitGivesTheSameLogits() throws IOException {
        for (int compute : new int[] {1, 2}) {
            Sweep.Result ref = run(1, compute, fast::forward);
            assertEquals(dataset.size(), ref.evaluated());
            for (int loader : new int[] {2, 3}) {
                Sweep.Result got = run(loader, compute, fast::forward);
                String what = loader + " loader + " + compute + " compute threads";
                assertArrayEquals(ref.indices(), got.indices(), what);
                for (int t = 0; t < ref.entries().size(); t++) {
                    assertArrayEquals(ref.entries().get(t).logits(), got.entries().get(t).logits(), 0f,
                            what + ", transform " + t);
                }
            }
        }
    }

    @Test
    @SuppressWarnings("try")
    void chunksAreConcatenatedInOrderAndNeverOfOneImage() {
        for (int n : new int[] {1, 2, 3, 4, 5, 7, 9, 10}) {
            for (int chunk : new int[] {1, 2, 3, 4, 8}) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor x = torch.randn(n, 3, 2, 2);
                    List<Long> sizes = new ArrayList<>();
                    // a row-wise copy: exact whatever the chunk, so the output shows the order and the chunk sizes
                    Tensor y = EvalPipeline.chunked(in -> {
                        sizes.add(in.size(0));
                        return in.flatten(1, 3).clone();
                    }, chunk).apply(x);
                    assertTrue(torch.equal(x.flatten(1, 3), y), n + " images, chunk " + chunk);
                    long total = 0;
                    for (long s : sizes) {
                        assertTrue(s >= 2 || n == 1, n + " images, chunk " + chunk + ": " + sizes);
                        assertTrue(s <= Math.max(2, chunk) + 1, n + " images, chunk " + chunk + ": " + sizes);
                        total += s;
                    }
                    assertEquals(n, total);
                }
            }
        }
    }

    @Test
    void chunkingRefusesNonsense() {
        assertThrows(IllegalArgumentException.class, () -> EvalPipeline.chunked(fast::forward, 0));
        assertThrows(NullPointerException.class, () -> EvalPipeline.chunked(null, 4));
    }
}
