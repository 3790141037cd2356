package org.fixres4j.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.fixres4j.TensorAsserts;
import org.fixres4j.classify.Classifier;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.kernels.Depthwise;
import org.fixres4j.preprocess.CpuPreprocessor;
import org.fixres4j.preprocess.Layout;
import org.fixres4j.preprocess.OutputSpec;
import org.fixres4j.preprocess.OutputType;
import org.fixres4j.image.DecodedImage.ChannelOrder;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.fixres4j.transform.ResamplePlan;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The kernels and {@link Classifier} used from 8 threads at once give the same bytes as serial calls: every task is
 * run once serially, then all tasks run again from 8 threads released together (each thread several tasks, in a
 * different order), and the results must be identical.
 */
class ConcurrencyTest {
    static final int THREADS = 8;
    static ExecutorService pool;

    @BeforeAll
    static void start() {
        Torch.ensureLoaded();
        pool = Executors.newFixedThreadPool(THREADS);
    }

    @AfterAll
    static void stop() {
        pool.shutdownNow();
    }

    /** Runs every task from THREADS threads at once (a latch releases them together); results in task order. */
    static <T> List<T> concurrently(List<Callable<T>> tasks) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<List<Object[]>>> futures = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            final int thread = t;
            futures.add(pool.submit(() -> {
                go.await();
                List<Object[]> done = new ArrayList<>();
                // thread t takes tasks t, t + THREADS, ... in reverse order for odd threads
                List<Integer> mine = new ArrayList<>();
                for (int i = thread; i < tasks.size(); i += THREADS) {
                    mine.add(i);
                }
                if (thread % 2 == 1) {
                    java.util.Collections.reverse(mine);
                }
                for (int i : mine) {
                    done.add(new Object[] {i, tasks.get(i).call()});
                }
                return done;
            }));
        }
        go.countDown();
        Object[] results = new Object[tasks.size()];
        for (Future<List<Object[]>> f : futures) {
            for (Object[] d : f.get()) {
                results[(Integer) d[0]] = d[1];
            }
        }
        List<T> out = new ArrayList<>();
        for (Object r : results) {
            @SuppressWarnings("unchecked")
            T t = (T) r;
            out.add(t);
        }
        return out;
    }

    @Test
    void preprocessingFromEightThreadsEqualsSerial() throws Exception {
        SplittableRandom rng = new SplittableRandom(3);
        List<DecodedImage> images = new ArrayList<>();
        List<Callable<byte[]>> tasks = new ArrayList<>();
        try {
            for (int i = 0; i < 64; i++) {
                int w = 8 + rng.nextInt(120);
                int h = 8 + rng.nextInt(120);
                DecodedImage im = ReliabilityFixtures.randomImage(rng, w, h, new int[] {1, 3, 4}[i % 3]);
                images.add(im);
                OutputType type = OutputType.values()[i % 4];
                OutputSpec spec = new OutputSpec(24 + i % 3, 20, Layout.values()[i % 2], type,
                        ChannelOrder.values()[(i / 2) % 2], Normalization.IMAGENET);
                ResamplePlan plan = ResamplePlan.wholeImage(w, h, 30 + rng.nextInt(20), 24 + rng.nextInt(20),
                        rng.nextInt(5), rng.nextInt(5), spec.width(), spec.height(),
                        Interpolation.values()[i % 3], i % 5 == 0);
                CpuPreprocessor pre = new CpuPreprocessor(1 + i % 3);
                tasks.add(() -> pre.runToBytes(im, plan, spec));
            }
            List<byte[]> serial = new ArrayList<>();
            for (Callable<byte[]> t : tasks) {
                serial.add(t.call());
            }
            for (int round = 0; round < 3; round++) {
                List<byte[]> parallel = concurrently(tasks);
                for (int i = 0; i < tasks.size(); i++) {
                    assertArrayEquals(serial.get(i), parallel.get(i), "task " + i + ", round " + round);
                }
            }
        } finally {
            images.forEach(DecodedImage::close);
        }
    }

    @Test
    void depthwiseFromEightThreadsEqualsSerial() throws Exception {
        List<Callable<float[][]>> tasks = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            final int task = i;
            tasks.add(() -> {
                try (PointerScope scope = new PointerScope()) {
                    // inputs from a seeded generator, so every run of the task sees the same tensors
                    SplittableRandom rng = new SplittableRandom(100 + task);
                    int n = 1 + task % 2;
                    int c = 8 + task % 5;
                    int k = new int[] {3, 5}[task % 2];
                    int stride = 1 + task % 2;
                    int h = 9 + task % 4;
                    int w = 11 - task % 3;
                    TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
                    Tensor x = filled(rng, new long[] {n, c, h, w}, f32);
                    if (task % 3 == 0) {
                        x = x.contiguous(MemoryFormat.ChannelsLast);
                    }
                    Tensor wt = filled(rng, new long[] {c, 1, k, k}, f32);
                    Tensor b = filled(rng, new long[] {c}, f32);
                    Depthwise.Pad pad = Depthwise.Pad.same(h, w, k, stride);
                    Tensor y = Depthwise.forward(x, wt, b, stride, pad, Depthwise.Activation.SILU, null, 1 + task % 2);
                    Depthwise.Grads g = Depthwise.backward(x, wt, y, stride, pad, true, true, true, 1 + task % 2);
                    return new float[][] {TensorAsserts.values(y), TensorAsserts.values(g.input()),
                        TensorAsserts.values(g.weight()), TensorAsserts.values(g.bias())};
                }
            });
        }
        List<float[][]> serial = new ArrayList<>();
        for (Callable<float[][]> t : tasks) {
            serial.add(t.call());
        }
        for (int round = 0; round < 2; round++) {
            List<float[][]> parallel = concurrently(tasks);
            for (int i = 0; i < tasks.size(); i++) {
                for (int j = 0; j < 4; j++) {
                    assertArrayEquals(serial.get(i)[j], parallel.get(i)[j], "task " + i + " output " + j);
                }
            }
        }
    }

    static Tensor filled(SplittableRandom rng, long[] shape, TensorOptions options) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        Tensor t = torch.zeros(shape, options);
        new org.bytedeco.javacpp.FloatPointer(t.data_ptr()).put(v);
        return t;
    }

    @Test
    void classifierFromEightThreadsEqualsSerial() throws Exception {
        SplittableRandom rng = new SplittableRandom(9);
        List<DecodedImage> images = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            images.add(ReliabilityFixtures.randomImage(rng, 20 + rng.nextInt(60), 20 + rng.nextInt(60),
                    i % 4 == 0 ? 1 : 3));
        }
        for (boolean fast : new boolean[] {true, false}) {
            try (Classifier c = ReliabilityFixtures.tinyClassifier(48, 3, 1, fast)) {
                List<Callable<float[][]>> tasks = new ArrayList<>();
                for (int i = 0; i < images.size(); i += 2) {
                    List<DecodedImage> pair = images.subList(i, i + 2);
                    tasks.add(() -> c.logits(pair));
                }
                List<float[][]> serial = new ArrayList<>();
                for (Callable<float[][]> t : tasks) {
                    serial.add(t.call());
                }
                List<float[][]> parallel = concurrently(tasks);
                for (int i = 0; i < tasks.size(); i++) {
                    assertEquals(serial.get(i).length, parallel.get(i).length);
                    for (int j = 0; j < serial.get(i).length; j++) {
                        assertArrayEquals(serial.get(i)[j], parallel.get(i)[j],
                                (fast ? "fast" : "plain") + " model, task " + i + " image " + j);
                    }
                }
            }
        }
        images.forEach(DecodedImage::close);
    }
}
