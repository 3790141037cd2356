package org.fixres4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;
import org.fixres4j.torch.DeviceSpec;
import org.fixres4j.torch.DeviceUnavailableException;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.SampleTransform;
import org.fixres4j.transform.TimmEvalTransform;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link CudaFeed} without a GPU: its plan (shards, batches), its threads, failures and slot reuse run with the CPU
 * target (the CPU kernel instead of the CUDA one, events logged), and must give exactly the batches of the CPU loader;
 * the log shows the order the CUDA target's events would keep. The CUDA target itself is refused here.
 */
class CudaFeedTest {
    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
    }

    /** DemoShapes with one sample replaced by a file that does not exist (a load failure). */
    static Dataset withFailure(Dataset base, int failing) {
        return new Dataset() {
            public int size() { return base.size(); }
            public Sample get(int i) {
                return i == failing ? Sample.ofFile(Path.of("/nonexistent/broken.png"), base.label(i)) : base.get(i);
            }
            public List<String> classNames() { return base.classNames(); }
            public String describe() { return "with-failure(" + base.describe() + ")"; }
        };
    }

    @Test
    void thePlanDealsShardsAsTheLoaderDoes() {
        List<CudaFeed.Rows> p = CudaFeed.plan(10, 4, 1, 3);
        // shard 1 of 3 of 10 samples: dataset indices 1, 4, 7 (positions 0..2), one batch of 3
        assertEquals(1, p.size());
        assertArrayEquals(new int[] {1, 4, 7}, p.get(0).indices());
        assertArrayEquals(new int[] {0, 1, 2}, p.get(0).positions());
        List<CudaFeed.Rows> q = CudaFeed.plan(10, 4, 0, 1);
        assertEquals(3, q.size());
        assertArrayEquals(new int[] {8, 9}, q.get(2).indices());
        assertEquals(2, q.get(2).number());
        for (int shards = 1; shards <= 4; shards++) {
            for (int s = 0; s < shards; s++) {
                int total = CudaFeed.plan(11, 3, s, shards).stream().mapToInt(r -> r.indices().length).sum();
                assertEquals(CudaFeed.shardSize(11, s, shards), total);
                BatchLoader l = BatchLoader.builder(new DemoShapes(11, 32, 1, "test"), TimmEvalTransform.of(16))
                        .batchSize(3).shard(s, shards).build();
                try {
                    assertEquals(l.shardSize(), total);
                    int[] order = l.order(0);
                    int j = 0;
                    for (CudaFeed.Rows r : CudaFeed.plan(11, 3, s, shards)) {
                        for (int index : r.indices()) {
                            assertEquals(order[j++], index);
                        }
                    }
                } finally {
                    l.close();
                }
            }
        }
        assertTrue(CudaFeed.plan(0, 4, 0, 1).isEmpty());
        assertThrows(IllegalArgumentException.class, () -> CudaFeed.plan(10, 0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> CudaFeed.plan(10, 4, 3, 3));
    }

    private static float[] values(Tensor t) {
        Tensor c = t.contiguous();
        float[] out = new float[(int) c.numel()];
        new FloatPointer(c.data_ptr()).get(out);
        return out;
    }

    @Test
    void theCpuTargetGivesTheLoadersBatchesAndKeepsTheSlotOrder() throws IOException {
        Dataset ds = withFailure(new DemoShapes(23, 40, 5, "test"), 6);
        List<SampleTransform> transforms = List.of(TimmEvalTransform.of(24), TimmEvalTransform.of(32));
        int batch = 5;
        // the CPU loader's batches, as reference
        Map<Integer, float[][]> expected = new HashMap<>();
        Map<Integer, int[]> expectedIndices = new HashMap<>();
        try (BatchLoader loader = BatchLoader.builder(ds, transforms).batchSize(batch).threads(2).build();
             BatchLoader.Epoch epoch = loader.epoch(0)) {
            while (epoch.hasNext()) {
                try (Batch b = epoch.next()) {
                    expected.put(b.number(), new float[][] {values(b.input(0)), values(b.input(1))});
                    expectedIndices.put(b.number(), b.indices());
                }
            }
        }
        CudaFeed.CpuTarget target = new CudaFeed.CpuTarget();
        List<Integer> numbers = new ArrayList<>();
        long[][] slots;
        try (CudaFeed feed = new CudaFeed(ds, transforms, batch, 3, 0, 1, target)) {
            slots = feed.slotAddresses();
            assertEquals(23, feed.shardSize());
            for (CudaFeed.DeviceBatch next; (next = feed.next()) != null; ) {
                try (CudaFeed.DeviceBatch b = next) {
                    numbers.add(b.number());
                    assertArrayEquals(expectedIndices.get(b.number()), b.indices(), "batch " + b.number());
                    for (int t = 0; t < 2; t++) {
                        assertArrayEquals(expected.get(b.number())[t], values(b.input(t)),
                                "batch " + b.number() + " transform " + t);
                        assertEquals(slots[b.slot()][t], b.input(t).data_ptr().address(),
                                "batch " + b.number() + " is written into its slot's tensor");
                    }
                    int[] labels = b.labels();
                    for (int i = 0; i < labels.length; i++) {
                        assertEquals(ds.label(b.indices()[i]), labels[i]);
                    }
                }
            }
            assertNull(feed.next());
            assertEquals(1, feed.failures().size());
            assertEquals(6, feed.failures().get(0).index());
            assertEquals(6, feed.failures().get(0).position());
        }
        assertEquals(List.of(0, 1, 2, 3, 4), numbers);
        // per slot: free -> preprocess (each transform) -> ready -> the model waits -> freed, never interleaved
        Map<Long, Integer> slotOf = new HashMap<>();
        for (int s = 0; s < slots.length; s++) {
            for (long a : slots[s]) {
                slotOf.put(a, s);
            }
        }
        List<String> log = new ArrayList<>(target.log);
        assertEquals("close", log.get(log.size() - 1));
        String[] state = {"free", "free"};
        int[] pre = new int[2];
        int written = 0;
        for (String e : log.subList(0, log.size() - 1)) {
            String[] w = e.split(" ");
            int s = w[0].equals("pre") ? slotOf.get(Long.parseLong(w[1])) : Integer.parseInt(w[1]);
            switch (w[0]) {
                case "waitFree" -> {
                    assertEquals("free", state[s], log.toString());
                    state[s] = "filling";
                }
                case "pre" -> {
                    assertEquals("filling", state[s], log.toString());
                    pre[s]++;
                }
                case "ready" -> {
                    assertEquals("filling", state[s], log.toString());
                    assertEquals(2, pre[s], "one kernel call per transform");
                    pre[s] = 0;
                    state[s] = "ready";
                    written++;
                }
                case "waitReady" -> {
                    assertEquals("ready", state[s], log.toString());
                    state[s] = "reading";
                }
                case "free" -> {
                    assertEquals("reading", state[s], log.toString());
                    state[s] = "free";
                }
                default -> throw new AssertionError(e);
            }
        }
        assertEquals(5, written);
    }

    @Test
    void closingEarlyStopsTheFeedingThread() throws IOException {
        CudaFeed.CpuTarget target = new CudaFeed.CpuTarget();
        CudaFeed feed = new CudaFeed(new DemoShapes(40, 32, 1, "test"), List.of(TimmEvalTransform.of(16)), 4, 2, 0, 1,
                target);
        try (CudaFeed.DeviceBatch b = feed.next()) {
            assertEquals(0, b.number());
        }
        feed.close();
        feed.close();
        assertEquals("close", target.log.get(target.log.size() - 1));
        assertThrows(IllegalStateException.class, feed::next);
    }

    @Test
    void holdingBothSlotsAndAskingForMoreIsRefusedNotADeadlock() throws IOException {
        try (CudaFeed feed = new CudaFeed(new DemoShapes(20, 32, 1, "test"), List.of(TimmEvalTransform.of(16)), 4,
                1, 0, 1, new CudaFeed.CpuTarget())) {
            CudaFeed.DeviceBatch a = feed.next();
            CudaFeed.DeviceBatch b = feed.next();
            assertTrue(a.slot() != b.slot());
            assertThrows(IllegalStateException.class, feed::next);
            a.close();
            try (CudaFeed.DeviceBatch c = feed.next()) {
                assertEquals(2, c.number());
                assertEquals(a.slot(), c.slot(), "the freed slot is the one refilled");
            }
            b.close();
        }
    }

    @Test
    void theCudaTargetIsRefusedHere() {
        DemoShapes ds = new DemoShapes(4, 32, 1, "test");
        assertThrows(DeviceUnavailableException.class, () -> CudaFeed.cuda(ds, List.of(TimmEvalTransform.of(16)), 2,
                1, 0, 1, DeviceSpec.cuda(0)));
        assertThrows(IllegalArgumentException.class, () -> CudaFeed.cuda(ds, List.of(TimmEvalTransform.of(16)), 2,
                1, 0, 1, DeviceSpec.CPU));
    }
}
