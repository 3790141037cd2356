package org.fixres4j.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.EfficientNetSpec;
import org.fixres4j.torch.Torch;
import org.fixres4j.weights.TensorData;
import org.fixres4j.weights.TorchTensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Launch conventions, bucketing and the world of one, in this JVM. */
@SuppressWarnings("try")
class DistLocalTest {
    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
    }

    static Tensor ones(long n) {
        return torch.empty(n).fill_(new org.bytedeco.pytorch.Scalar(1.0));
    }

    static DistConfig resolve(Map<String, String> env) {
        return DistConfig.resolve(env, null, null, null, null, null);
    }

    @Test
    void readsTorchrunVariablesAndOptionsOverrideThem() {
        DistConfig c = resolve(Map.of("RANK", "1", "WORLD_SIZE", "4", "LOCAL_RANK", "1", "MASTER_ADDR", "10.0.0.5",
                "MASTER_PORT", "40001"));
        assertEquals(1, c.rank());
        assertEquals(4, c.worldSize());
        assertEquals(1, c.localRank());
        assertEquals("10.0.0.5:40001", c.master());
        assertEquals(40001, c.masterPort(), "a port above 32767 stays itself");
        assertEquals((short) 40001, (short) c.masterPort());
        assertEquals(40001, Short.toUnsignedInt((short) c.masterPort()), "the 16 bits the store receives");
        assertFalse(c.loopback());
        assertEquals(List.of("default"), GlooCollective.devices(c));
        assertEquals(DistConfig.DEFAULT_TIMEOUT, c.timeout());

        DistConfig o = DistConfig.resolve(Map.of("RANK", "1", "WORLD_SIZE", "4", "MASTER_ADDR", "x",
                "MASTER_PORT", "1"), 3, 5, "[::1]:65535", Duration.ofSeconds(7), "eth0, ib0");
        assertEquals(3, o.rank());
        assertEquals(5, o.worldSize());
        assertEquals("::1", o.masterAddr());
        assertEquals(65535, o.masterPort());
        assertTrue(o.loopback());
        assertEquals(List.of("if:eth0", "if:ib0"), GlooCollective.devices(o), "explicit interfaces win");
        assertEquals(Duration.ofSeconds(7), o.timeout());

        DistConfig lo = resolve(Map.of("RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "127.0.0.1",
                "MASTER_PORT", "29500"));
        assertEquals(List.of("127.0.0.1"), GlooCollective.devices(lo));
        DistConfig ifEnv = resolve(Map.of("RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "127.0.0.1",
                "MASTER_PORT", "29500", "GLOO_SOCKET_IFNAME", "lo"));
        assertEquals(List.of("if:lo"), GlooCollective.devices(ifEnv));
    }

    @Test
    void aWorldOfOneNeedsNothing() {
        DistConfig c = resolve(Map.of());
        assertFalse(c.distributed());
        assertEquals(DistConfig.single().worldSize(), c.worldSize());
        try (Collective col = Collective.connect(c)) {
            assertTrue(col instanceof LocalCollective);
            assertEquals(0, col.rank());
            assertTrue(col.isMain());
        }
        // WORLD_SIZE=1 with an address set is still local
        assertFalse(resolve(Map.of("WORLD_SIZE", "1", "RANK", "0", "MASTER_ADDR", "h", "MASTER_PORT", "1"))
                .distributed());
    }

    @Test
    void badConfigurationsAreClearErrors() {
        String m = assertThrows(IllegalArgumentException.class,
                () -> resolve(Map.of("WORLD_SIZE", "2", "RANK", "0"))).getMessage();
        assertTrue(m.contains("MASTER_ADDR and MASTER_PORT or pass --master"), m);
        m = assertThrows(IllegalArgumentException.class, () -> resolve(Map.of("WORLD_SIZE", "2",
                "MASTER_ADDR", "h", "MASTER_PORT", "5"))).getMessage();
        assertTrue(m.contains("set RANK or pass --rank"), m);
        m = assertThrows(IllegalArgumentException.class, () -> resolve(Map.of("WORLD_SIZE", "2", "RANK", "2",
                "MASTER_ADDR", "h", "MASTER_PORT", "5"))).getMessage();
        assertTrue(m.contains("rank must be in 0..1"), m);
        m = assertThrows(IllegalArgumentException.class, () -> resolve(Map.of("WORLD_SIZE", "2", "RANK", "1",
                "MASTER_ADDR", "h", "MASTER_PORT", "70000"))).getMessage();
        assertTrue(m.contains("1..65535"), m);
        m = assertThrows(IllegalArgumentException.class, () -> resolve(Map.of("WORLD_SIZE", "two"))).getMessage();
        assertTrue(m.contains("WORLD_SIZE must be an integer"), m);
        m = assertThrows(IllegalArgumentException.class, () -> DistConfig.resolve(Map.of(), 0, 2, "nohostport",
                null, null)).getMessage();
        assertTrue(m.contains("--master must be host:port"), m);
    }

    @Test
    void aWrongGlooInterfaceFailsBeforeTheRendezvous() {
        // no store is created: the device is checked first, so this needs no peer and takes no timeout
        DistConfig c = DistConfig.resolve(Map.of(), 0, 2, "127.0.0.1:1", Duration.ofSeconds(60), "nosuchif0");
        CollectiveException e = assertThrows(CollectiveException.class, () -> GlooCollective.connect(c));
        assertTrue(e.getMessage().startsWith("rank 0: Gloo cannot use interface nosuchif0: "), e.getMessage());
        assertEquals("connect", e.operation());
    }

    @Test
    void bucketsGroupByDtypeAndRespectTheSize() {
        try (PointerScope scope = new PointerScope()) {
            List<Tensor> ts = new ArrayList<>();
            ts.add(ones(100));                                       // 400 B float
            ts.add(TorchTensors.toTorch(TensorData.ofDoubles(new long[] {10}, new double[10]))); // 80 B double
            ts.add(ones(200));                                       // 800 B float
            ts.add(ones(50));                                        // 200 B float
            ts.add(ones(1000));                                      // 4000 B float: alone
            List<Buckets.Bucket> plan = Buckets.plan(ts, 1024);
            assertEquals(4, plan.size());
            assertEquals(List.of(0), plan.get(0).indices());
            assertEquals(List.of(2, 3), plan.get(1).indices());
            assertEquals(List.of(4), plan.get(2).indices());
            assertEquals(List.of(1), plan.get(3).indices());
            assertEquals(250, plan.get(1).numel());
            assertThrows(IllegalArgumentException.class, () -> Buckets.plan(ts, 0));
        }
    }

    @Test
    void bucketsRoundTripAnyLayout() {
        try (PointerScope scope = new PointerScope()) {
            float[] v = new float[2 * 3 * 4 * 5];
            for (int i = 0; i < v.length; i++) {
                v[i] = i * 0.5f - 7;
            }
            Tensor cl = TorchTensors.toTorch(TensorData.ofFloats(new long[] {2, 3, 4, 5}, v))
                    .contiguous(torch.MemoryFormat.ChannelsLast);
            Tensor plain = TorchTensors.toTorch(TensorData.ofFloats(new long[] {3}, 1, 2, 3));
            List<Tensor> ts = List.of(plain, cl);
            // the operation doubles the flat buffer: every element, in logical order, comes back doubled
            Buckets.apply(ts, Buckets.plan(ts, 64), flat -> flat.mul_(new org.bytedeco.pytorch.Scalar(2.0)));
            assertArrayEquals(new float[] {2, 4, 6}, TorchTensors.fromTorch(plain).toFloatArray());
            float[] got = TorchTensors.fromTorch(cl).toFloatArray();
            for (int i = 0; i < v.length; i++) {
                assertEquals(2 * v[i], got[i]);
            }
            assertTrue(cl.is_contiguous(torch.MemoryFormat.ChannelsLast), "the layout is kept");
        }
    }

    @Test
    void localCollectiveIsTheIdentityAndChecksArguments() {
        try (PointerScope scope = new PointerScope(); Collective c = new LocalCollective()) {
            Tensor t = TorchTensors.toTorch(TensorData.ofFloats(new long[] {2}, 1.5f, -2f));
            c.allReduceSum(t);
            c.allReduceAvg(t);
            c.broadcast(t, 0);
            c.barrier();
            assertArrayEquals(new float[] {1.5f, -2f}, TorchTensors.fromTorch(t).toFloatArray());
            Tensor g = c.allGather(t);
            assertEquals(2, g.dim());
            assertEquals(1, g.size(0));
            assertArrayEquals(new long[] {5, -1}, c.allReduceSum(new long[] {5, -1}));
            assertArrayEquals(new double[] {0.25}, c.allReduceSum(new double[] {0.25}));
            assertArrayEquals(new long[][] {{3, 4}}, c.allGather(new long[] {3, 4}));
            assertThrows(IllegalArgumentException.class, () -> c.broadcast(t, 1));
            assertThrows(IllegalArgumentException.class, () -> c.allReduceSum(t.t().expand(2, 2)));
            assertThrows(IllegalArgumentException.class, () -> c.allReduceSum(new Tensor()));
            assertThrows(IllegalArgumentException.class,
                    () -> c.allReduceAvg(TorchTensors.toTorch(TensorData.ofLongs(new long[] {1}, 1))));
            List<Tensor> grads = List.of(t);
            assertEquals(0, new GradientAllReducer(c).allReduceAvg(grads), "nothing to do in a world of one");
            StateSync.broadcast(c, Map.of("w", t), 0);
            assertEquals(0, StateSync.averageRunningStatistics(c, Map.of("w", t)));
        }
    }

    @Test
    void runningStatisticsAreTheBatchNormBuffers() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = ones(1);
            Map<String, Tensor> state = new java.util.LinkedHashMap<>();
            for (String k : List.of("bn1.weight", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
                    "blocks.0.0.bn1.running_var", "conv.weight")) {
                state.put(k, x);
            }
            assertEquals(List.of("bn1.running_mean", "bn1.running_var", "blocks.0.0.bn1.running_var"),
                    new ArrayList<>(StateSync.runningStatistics(state).keySet()));
        }
    }

    @Test
    void namedTensorsOfAnyModuleMatchEfficientNetsOwn() {
        try (EfficientNet m = org.fixres4j.model.ModelRegistry.create(EfficientNetSpec.custom("tiny", 0.25, 0.3, true, 10));
             PointerScope scope = new PointerScope()) {
            Map<String, Tensor> generic = StateSync.namedTensors(m);
            Map<String, Tensor> own = m.namedTensors();
            assertEquals(new java.util.TreeSet<>(own.keySet()), new java.util.TreeSet<>(generic.keySet()));
            for (String k : own.keySet()) {
                assertEquals(own.get(k).data_ptr().address(), generic.get(k).data_ptr().address(), k + " is the live tensor");
            }
        }
    }

    @Test
    void launcherStartsTheSameJavaWithTheSameClassPath() {
        Launcher l = new Launcher(2, "org.fixres4j.cli.Main", List.of("dist-check", "--steps", "1"));
        List<String> cmd = l.command();
        assertTrue(cmd.get(0).endsWith("/bin/java"));
        assertEquals(List.of("org.fixres4j.cli.Main", "dist-check", "--steps", "1"),
                cmd.subList(cmd.size() - 4, cmd.size()));
        assertEquals("-cp", cmd.get(cmd.size() - 6));
        assertThrows(IllegalArgumentException.class, () -> new Launcher(0, "X", List.of("a")));
        assertThrows(IllegalArgumentException.class, () -> new Launcher(2, "X", List.of()));
    }
}
