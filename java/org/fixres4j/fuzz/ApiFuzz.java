package org.fixres4j.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.DecodedImage.ChannelOrder;
import org.fixres4j.kernels.Depthwise;
import org.fixres4j.preprocess.CpuPreprocessor;
import org.fixres4j.preprocess.CudaPreprocessor;
import org.fixres4j.preprocess.Layout;
import org.fixres4j.preprocess.OutputSpec;
import org.fixres4j.preprocess.OutputType;
import org.fixres4j.preprocess.Sample;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.fixres4j.transform.ResamplePlan;

/**
 * Random argument sets for the typed Java API ({@link CpuPreprocessor}, {@link CudaPreprocessor},
 * {@link Depthwise}): the layer that owns the guarantees the C ABI cannot give. Memory too small for the batch
 * (JavaCPP capacity, tensor shape), images closed before the call, plans outside their image, wrong dtypes,
 * layouts, devices and shapes must each end in an {@link IllegalArgumentException} or
 * {@link IllegalStateException} before native code runs, and write nothing; valid sets must succeed without writing
 * past their memory.
 */
final class ApiFuzz {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }

    private static final int GUARD = 64;
    private final SplittableRandom rng;
    private final FuzzReport report;

    ApiFuzz(SplittableRandom rng, FuzzReport report) {
        this.rng = rng;
        this.report = report;
    }

    private int between(int lo, int hi) {
        return lo + rng.nextInt(hi - lo + 1);
    }

    private boolean chance(double p) {
        return rng.nextDouble() < p;
    }

    private static boolean expected(Throwable t) {
        return t instanceof IllegalArgumentException || t instanceof IllegalStateException;
    }

    private static String describe(Throwable t) {
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    void preprocess(long iterations) {
        for (long i = 0; i < iterations; i++) {
            List<DecodedImage> images = new ArrayList<>();
            String what = "valid";
            boolean broken = false;
            BytePointer mem = null;
            try {
                int w = between(1, 24);
                int h = between(1, 24);
                OutputType type = OutputType.values()[rng.nextInt(4)];
                OutputSpec spec = new OutputSpec(w, h, Layout.values()[rng.nextInt(2)], type,
                        ChannelOrder.values()[rng.nextInt(2)], Normalization.IMAGENET);
                int batch = between(1, 4);
                int count = between(1, 4);
                List<Sample> samples = new ArrayList<>();
                for (int j = 0; j < count; j++) {
                    int iw = between(1, 40);
                    int ih = between(1, 40);
                    int ch = chance(0.2) ? 1 : chance(0.2) ? 4 : 3;
                    byte[] px = new byte[iw * ih * ch];
                    rng.nextBytes(px);
                    DecodedImage im = DecodedImage.ofPixels("fuzz" + j, px, iw, ih, ch,
                            ChannelOrder.values()[rng.nextInt(2)]);
                    images.add(im);
                    int rx = between(0, iw - 1);
                    int ry = between(0, ih - 1);
                    int rw = between(1, iw - rx);
                    int rh = between(1, ih - ry);
                    ResamplePlan plan = new ResamplePlan(rx, ry, rw, rh, 0, 0, rw, rh, between(1, 48), between(1, 48),
                            between(-8, 40), between(-8, 40), w, h, Interpolation.values()[rng.nextInt(3)],
                            chance(0.5));
                    samples.add(new Sample(im, plan, between(0, batch - 1)));
                }
                long capacity = batch * spec.sampleBytes();
                int threads = between(1, 3);
                if (chance(0.8)) {
                    broken = true;
                    int j = rng.nextInt(count);
                    Sample s = samples.get(j);
                    ResamplePlan p = s.plan();
                    switch (rng.nextInt(9)) {
                        case 0: // memory for fewer samples than the indices ask for
                            capacity = Math.max(1, s.index()) * spec.sampleBytes() - (s.index() == 0 ? 1 : 0);
                            what = "capacity " + capacity + " < slot " + s.index();
                            break;
                        case 1:
                            samples.set(j, new Sample(s.image(), s.plan(), batch + between(0, 1000)));
                            what = "index >= batch";
                            break;
                        case 2: { // a plan made for a larger image
                            int big = s.image().width() + between(1, 50);
                            samples.set(j, new Sample(s.image(), new ResamplePlan(0, 0, big, p.roiH(), 0, 0, big,
                                    p.roiH(), p.resizeW(), p.resizeH(), 0, 0, w, h, p.interpolation(), false),
                                    s.index()));
                            what = "roi wider than the image";
                            break;
                        }
                        case 3:
                            samples.set(j, new Sample(s.image(), new ResamplePlan(p.roiX(), p.roiY(), p.roiW(),
                                    p.roiH(), 0, 0, p.roiW(), p.roiH(), p.resizeW(), p.resizeH(), 0, 0, w + 1, h,
                                    p.interpolation(), false), s.index()));
                            what = "plan output size != spec";
                            break;
                        case 4:
                            s.image().close();
                            what = "image closed before the call";
                            break;
                        case 5:
                            what = "ResamplePlan with a NaN or outside box";
                            new ResamplePlan(0, 0, p.roiW(), p.roiH(), chance(0.5) ? Double.NaN : -1, 0,
                                    p.roiW() + 1.0, p.roiH(), 1, 1, 0, 0, w, h, p.interpolation(), false);
                            break;
                        case 6:
                            what = "OutputSpec size out of range";
                            new OutputSpec(chance(0.5) ? 0 : 65537, h, Layout.NCHW, type, ChannelOrder.RGB,
                                    Normalization.IMAGENET);
                            break;
                        case 7:
                            threads = chance(0.5) ? 0 : 2000;
                            what = "threads " + threads;
                            break;
                        default:
                            what = "negative index";
                            samples.set(j, new Sample(s.image(), s.plan(), -between(1, 100)));
                    }
                }
                mem = new BytePointer(capacity + GUARD);
                for (int g = 0; g < GUARD; g++) {
                    mem.put(capacity + g, (byte) (0x5A ^ g));
                }
                org.bytedeco.javacpp.Pointer.memset(mem, 0xA5, capacity);
                BytePointer view = new BytePointer(mem).capacity(capacity);
                new CpuPreprocessor(threads).run(samples, spec, view);
                boolean guard = guardIntact(mem, capacity);
                if (broken) {
                    report.broken("api.preprocess_cpu", i, what, false, false, "accepted");
                } else {
                    report.valid("api.preprocess_cpu", i, what, guard, guard ? "ok" : "GUARD OVERWRITTEN");
                }
            } catch (RuntimeException e) {
                boolean untouched = mem == null || untouched(mem);
                if (broken) {
                    report.broken("api.preprocess_cpu", i, what, true, expected(e) && untouched, describe(e));
                } else {
                    report.valid("api.preprocess_cpu", i, what, false, describe(e));
                }
            } finally {
                images.forEach(DecodedImage::close);
                if (mem != null) {
                    mem.close();
                }
            }
        }
    }

    private static boolean guardIntact(BytePointer mem, long capacity) {
        for (int g = 0; g < GUARD; g++) {
            if (mem.get(capacity + g) != (byte) (0x5A ^ g)) {
                return false;
            }
        }
        return true;
    }

    private static boolean untouched(BytePointer mem) {
        long cap = mem.capacity() - GUARD;
        for (long k = 0; k < cap; k++) {
            if (mem.get(k) != (byte) 0xA5) {
                return false;
            }
        }
        return guardIntact(mem, cap);
    }

    /** NativeCalls with flat arrays shorter than the job count (or missing): refused before JNI reads them. */
    void nativeCalls(long iterations) {
        for (long i = 0; i < iterations; i++) {
            int count = between(1, 4);
            long[] addr = new long[count];
            long[] stride = new long[count];
            int[] imageInts = new int[5 * count];
            int[] planInts = new int[12 * count];
            double[] boxes = new double[4 * count];
            long[] indices = new long[count];
            int[] outInts = new int[5];
            float[] mean = new float[3];
            float[] std = new float[3];
            int which = rng.nextInt(10);
            boolean drop = chance(0.2);
            String what;
            switch (which) {
                case 0 -> { addr = drop ? null : new long[count - 1]; what = "imageAddr"; }
                case 1 -> { stride = drop ? null : new long[count - 1]; what = "imageStride"; }
                case 2 -> { imageInts = drop ? null : new int[5 * count - between(1, 5)]; what = "imageInts"; }
                case 3 -> { planInts = drop ? null : new int[12 * count - between(1, 12)]; what = "planInts"; }
                case 4 -> { boxes = drop ? null : new double[4 * count - between(1, 4)]; what = "boxes"; }
                case 5 -> { indices = drop ? null : new long[count - 1]; what = "indices"; }
                case 6 -> { outInts = drop ? null : new int[between(0, 4)]; what = "outInts"; }
                case 7 -> { mean = drop ? null : new float[between(0, 2)]; what = "mean"; }
                case 8 -> { std = drop ? null : new float[between(0, 2)]; what = "std"; }
                default -> { count = chance(0.5) ? -between(0, 5) : (1 << 24) + 1; what = "count " + count; }
            }
            what += drop && which < 9 ? " missing" : which < 9 ? " short" : "";
            try {
                if (chance(0.5)) {
                    org.fixres4j.kernels.NativeCalls.preprocessCpu(count, addr, stride, imageInts, planInts, boxes,
                            indices, 0, 1, outInts, mean, std, 1);
                } else {
                    org.fixres4j.kernels.NativeCalls.preprocessCuda(0, count, addr, stride, imageInts, planInts,
                            boxes, indices, 0, 1, outInts, mean, std, 0);
                }
                report.broken("api.native_calls", i, what, false, false, "accepted");
            } catch (RuntimeException e) {
                report.broken("api.native_calls", i, what, true, e instanceof IllegalArgumentException, describe(e));
            }
        }
    }

    /** CudaPreprocessor: a bad device index or no usable device is a clear exception, never a crash. */
    void cuda(long iterations) {
        for (long i = 0; i < iterations; i++) {
            int device = chance(0.5) ? -between(1, 1000) : between(0, 4096);
            try (CudaPreprocessor p = new CudaPreprocessor(device)) {
                report.either("api.cuda", i, "device " + device, true, device >= 0, "created on " + p.device());
            } catch (RuntimeException e) {
                report.either("api.cuda", i, "device " + device, false, expected(e), describe(e));
            }
        }
    }

    /** Depthwise.forward / backward on libtorch tensors with mismatched shapes, dtypes, layouts and options. */
    void depthwise(long iterations) {
        Torch.ensureLoaded();
        final TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
        final TensorOptions f64 = new TensorOptions(torch.ScalarType.Double);
        for (long i = 0; i < iterations; i++) {
            try (PointerScope scope = new PointerScope()) {
                long n = between(1, 2);
                long c = between(1, 16);
                int k = 2 * between(0, 3) + 1;
                int stride = between(1, 2);
                long h = between(k, 16);
                long w = between(k, 16);
                boolean nhwc = chance(0.5);
                Tensor x = torch.randn(new long[] {n, c, h, w}, f32);
                if (nhwc) {
                    x = x.contiguous(MemoryFormat.ChannelsLast);
                }
                Tensor wt = torch.randn(new long[] {c, 1, k, k}, f32);
                Tensor b = chance(0.5) ? torch.randn(new long[] {c}, f32) : null;
                Depthwise.Pad pad = Depthwise.Pad.symmetric(k / 2);
                boolean backward = chance(0.5);
                int threads = between(1, 3);
                String what = "valid";
                boolean broken = chance(0.8);
                if (broken) {
                    switch (rng.nextInt(8)) {
                        case 0:
                            wt = torch.randn(new long[] {c + 1, 1, k, k}, f32);
                            what = "weight channels != input channels";
                            break;
                        case 1:
                            wt = torch.randn(new long[] {c, 1, k + 1, k + 1}, f32);
                            what = "even kernel";
                            break;
                        case 2:
                            x = torch.randn(new long[] {c, h, w}, f32);
                            what = "3-d input";
                            break;
                        case 3:
                            x = torch.randn(new long[] {n, c, h, w}, f64);
                            what = "float64 input";
                            break;
                        case 4:
                            h = Math.max(h, 2); // with a side of 1 the transpose would still be contiguous
                            w = Math.max(w, 2);
                            x = torch.randn(new long[] {n, c, w, h}, f32).transpose(2, 3);
                            what = "non-contiguous input";
                            break;
                        case 5:
                            pad = new Depthwise.Pad(-1, k, 0, 0);
                            what = "pad out of range";
                            break;
                        case 6:
                            stride = chance(0.5) ? 0 : 3;
                            what = "stride " + stride;
                            break;
                        default:
                            if (backward) {
                                what = "no gradient asked";
                            } else {
                                b = torch.randn(new long[] {c + 2}, f32);
                                what = "bias of the wrong size";
                            }
                    }
                }
                try {
                    if (backward) {
                        int[] out = Depthwise.outputSize(h, w, k, Math.max(1, Math.min(stride, 2)),
                                Depthwise.Pad.symmetric(k / 2));
                        Tensor dy = torch.randn(new long[] {n, c, out[0], out[1]}, f32);
                        if (nhwc) {
                            dy = dy.contiguous(MemoryFormat.ChannelsLast);
                        }
                        boolean none = what.equals("no gradient asked");
                        Depthwise.backward(x, wt, dy, stride, pad, !none, !none, !none && chance(0.5), threads);
                    } else {
                        Depthwise.forward(x, wt, b, stride, pad, Depthwise.Activation.SILU, null, threads);
                    }
                    if (broken) {
                        report.broken("api.depthwise", i, what, false, false, "accepted");
                    } else {
                        report.valid("api.depthwise", i, what, true, "ok");
                    }
                } catch (RuntimeException e) {
                    if (broken) {
                        report.broken("api.depthwise", i, what, true, expected(e), describe(e));
                    } else {
                        report.valid("api.depthwise", i, what, false, describe(e));
                    }
                }
            }
        }
    }
}
