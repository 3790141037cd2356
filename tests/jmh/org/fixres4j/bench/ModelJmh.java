package org.fixres4j.bench;

import java.util.concurrent.TimeUnit;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.FastEfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.torch.Torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH: one EfficientNet forward pass on a batch per operation, float32 on the CPU: the plain module path
 * ({@code plain}, eval mode under a NoGradGuard, NCHW: the named baseline) against the fast path ({@code fast}: BN
 * folded, channels-last, InferenceMode), in the same run, for batch 1 and 8 and 1 and 2 libtorch threads. Images/s
 * = batch / (seconds per op). Run: {@code mvn -Pjmh -DskipTests verify -Djmh.args="ModelJmh"} (add
 * {@code -p model=tf_efficientnet_b3 -p res=300} for another model).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ModelJmh {
    @Param({"tf_efficientnet_b0"})
    public String model;

    @Param({"224"})
    public int res;

    @Param({"1", "8"})
    public int batch;

    @Param({"1", "2"})
    public int threads;

    private EfficientNet net;
    private FastEfficientNet fast;
    private Tensor input;
    private int savedThreads;

    @Setup(Level.Trial)
    public void setUp() {
        Torch.ensureLoaded();
        savedThreads = torch.get_num_threads();
        torch.set_num_threads(threads);
        torch.manual_seed(0);
        net = ModelRegistry.create(model);
        net.eval();
        fast = FastEfficientNet.fuse(net);
        input = torch.randn(batch, 3, res, res);
        input.retainReference();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        input.releaseReference();
        fast.close();
        net.close();
        torch.set_num_threads(savedThreads);
    }

    @Benchmark
    @SuppressWarnings("try")
    public long plain() {
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            return net.forward(input).size(1);
        }
    }

    @Benchmark
    @SuppressWarnings("try")
    public long fast() {
        try (PointerScope s = new PointerScope()) {
            return fast.forward(input).size(1);
        }
    }
}
