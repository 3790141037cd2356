package org.fixres4j.bench;

import static org.bytedeco.opencv.global.opencv_imgproc.INTER_AREA;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.bytedeco.javacpp.FloatPointer;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.ImageDecoder;
import org.fixres4j.preprocess.CpuPreprocessor;
import org.fixres4j.preprocess.OutputSpec;
import org.fixres4j.preprocess.Sample;
import org.fixres4j.transform.TimmEvalTransform;
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
 * JMH: one 500x375 photograph through timm's eval transform (float32 NCHW, normalised) per operation, single thread:
 * the fused kernel ({@code fused}) against the OpenCV chain ({@code opencvChain}, the named baseline, in the same
 * run). Run: {@code mvn -Pjmh -DskipTests verify} (see docs/PERFORMANCE.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PreprocessJmh {
    @Param({"224", "320", "600"})
    public int res;

    private DecodedImage image;
    private TimmEvalTransform transform;
    private OutputSpec spec;
    private CpuPreprocessor kernel;
    private OpenCvChain chain;
    private FloatPointer out;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        image = ImageDecoder.decode(Samples.extract("coffee-500x375.jpg"));
        transform = TimmEvalTransform.of(res);
        spec = OutputSpec.nchwFloat(res, res, transform.normalization());
        kernel = new CpuPreprocessor(1);
        org.bytedeco.opencv.global.opencv_core.setNumThreads(1);
        chain = new OpenCvChain(res, INTER_AREA, transform.normalization().mean(), transform.normalization().std());
        out = new FloatPointer(spec.sampleElements());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        chain.close();
        out.close();
        image.close();
    }

    @Benchmark
    public FloatPointer fused() {
        kernel.run(List.of(new Sample(image, transform.plan(image.width(), image.height(), null), 0)), spec, out);
        return out;
    }

    @Benchmark
    public FloatPointer opencvChain() {
        chain.run(image.mat(), out, transform.cropPct());
        return out;
    }
}
