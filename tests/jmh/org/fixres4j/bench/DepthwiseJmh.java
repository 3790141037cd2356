package org.fixres4j.bench;

import java.util.concurrent.TimeUnit;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.fixres4j.kernels.Depthwise;
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
 * JMH: one depthwise layer of tf_efficientnet_b0 at 224 (batch 8) per operation: FixRes4J's fused kernel
 * ({@code fused}: NHWC, bias + SiLU + SE sums in one pass) against libtorch's sequence doing the same work
 * (conv2d(groups = C) + bias, SiLU, spatial mean) in NCHW ({@code torchNchw}, the named baseline) and channels-last
 * ({@code torchChannelsLast}), in the same run. Layers (indices into {@link DepthwiseBench#layers}): 1 (c96 112x112
 * k3 s2), 2 (c144 56x56 k3 s1), 9 (c672 14x14 k5 s1). Run: {@code mvn -Pjmh -DskipTests verify
 * -Djmh.args="DepthwiseJmh"}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DepthwiseJmh {
    @Param({"1", "2", "9"})
    public int layer;

    @Param({"8"})
    public int batch;

    @Param({"1"})
    public int threads;

    private DepthwiseBench.Layer l;
    private Tensor x;
    private Tensor xcl;
    private Tensor w;
    private Tensor wcl;
    private Tensor b;
    private int savedThreads;

    @Setup(Level.Trial)
    public void setUp() {
        Torch.ensureLoaded();
        savedThreads = torch.get_num_threads();
        torch.set_num_threads(threads);
        torch.manual_seed(0);
        l = DepthwiseBench.layers(DepthwiseBench.DEFAULT_MODEL, DepthwiseBench.DEFAULT_RES).get(layer);
        x = torch.randn(batch, l.c(), l.h(), l.w());
        xcl = x.contiguous(MemoryFormat.ChannelsLast);
        w = torch.randn(l.c(), 1, l.k(), l.k()).mul_(new Scalar(0.2));
        wcl = w.contiguous(MemoryFormat.ChannelsLast);
        b = torch.randn(l.c()).mul_(new Scalar(0.1));
        for (Tensor t : new Tensor[] {x, xcl, w, wcl, b}) {
            t.retainReference();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {x, xcl, w, wcl, b}) {
            t.releaseReference();
        }
        torch.set_num_threads(savedThreads);
    }

    @Benchmark
    @SuppressWarnings("try")
    public long fused() {
        try (PointerScope s = new PointerScope()) {
            Tensor sums = torch.empty(batch, l.c());
            return Depthwise.forward(xcl, w, b, l.stride(), l.pad(), Depthwise.Activation.SILU, sums, threads).size(1);
        }
    }

    @Benchmark
    @SuppressWarnings("try")
    public long torchNchw() {
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            return DepthwiseBench.torchSequence(x, w, b, l).size(1);
        }
    }

    @Benchmark
    @SuppressWarnings("try")
    public long torchChannelsLast() {
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            return DepthwiseBench.torchSequence(xcl, wcl, b, l).size(1);
        }
    }
}
