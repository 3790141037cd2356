package org.fixres4j.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.fixres4j.kernels.FxNative;
import org.fixres4j.kernels.Kernels;

/**
 * Random argument sets for the raw JNI entry points ({@link FxNative}): the layer where a bad size, stride or pointer
 * reaches C. Each set starts valid, with every buffer allocated natively at exactly its size plus a guard region,
 * then usually gets 1 to 3 mutations that each break a documented rule of the C ABI. Rule-breaking sets must come
 * back with status FX_ERR_INVALID_ARGUMENT and leave every output byte untouched; valid sets must succeed and leave
 * the guard intact.
 *
 * <p>What this layer cannot be asked to check: the true capacity of the memory behind an address (the ABI carries
 * addresses and geometry, not allocation sizes), and that the flat arrays hold {@code count} entries (JNI reads what
 * it is told). Those are the typed API's guarantees ({@link ApiFuzz}); here every array matches {@code count} and
 * every address points at a buffer at least as large as the valid geometry needs.
 */
final class JniFuzz {
    private static final int GUARD = 64;
    private static final int[] BAD_INTS = {Integer.MIN_VALUE, -65537, -1, 0, 65537, 1 << 20, 0x20000000,
        Integer.MAX_VALUE};

    private final SplittableRandom rng;
    private final FuzzReport report;

    JniFuzz(SplittableRandom rng, FuzzReport report) {
        this.rng = rng;
        this.report = report;
        Kernels.ensureLoaded();
    }

    /** Native memory of exactly {@code bytes} bytes followed by a guard pattern. */
    static final class Guarded implements AutoCloseable {
        final BytePointer p;
        final long bytes;

        Guarded(long bytes, byte fill) {
            this.bytes = bytes;
            p = new BytePointer(bytes + GUARD);
            Pointer.memset(p, fill, bytes);
            for (int i = 0; i < GUARD; i++) {
                p.put(bytes + i, (byte) (0x5A ^ i));
            }
        }

        long address() {
            return p.address();
        }

        boolean guardIntact() {
            for (int i = 0; i < GUARD; i++) {
                if (p.get(bytes + i) != (byte) (0x5A ^ i)) {
                    return false;
                }
            }
            return true;
        }

        byte[] snapshot() {
            byte[] b = new byte[(int) bytes];
            p.position(0).get(b);
            return b;
        }

        @Override
        public void close() {
            p.close();
        }
    }

    private int badInt(int lo, int hi) {
        while (true) {
            int v = rng.nextDouble() < 0.7 ? BAD_INTS[rng.nextInt(BAD_INTS.length)] : rng.nextInt();
            if (v < lo || v > hi) {
                return v;
            }
        }
    }

    private int between(int lo, int hi) {
        return lo + rng.nextInt(hi - lo + 1);
    }

    private boolean chance(double p) {
        return rng.nextDouble() < p;
    }

    // ---- preprocessing ------------------------------------------------------------------------------------

    /** One argument set of fxj_preprocess_cpu_batch / fxj_preprocess_cuda_batch. */
    private final class PreSet {
        int count;
        long[] imageAddr;
        long[] imageStride;
        int[] imageInts;
        int[] planInts;
        double[] boxes;
        long[] indices;
        long batch;
        int[] outInts;
        float[] mean = new float[3];
        float[] std = new float[3];
        int threads;
        final List<Guarded> images = new ArrayList<>();
        long outBytes;

        PreSet() {
            batch = between(1, 4);
            int ow = between(1, 24);
            int oh = between(1, 24);
            outInts = new int[] {between(0, 1), between(0, 3), between(0, 1), ow, oh};
            for (int c = 0; c < 3; c++) {
                mean[c] = (float) rng.nextDouble();
                std[c] = 0.1f + (float) rng.nextDouble();
            }
            count = between(1, 4);
            threads = between(1, 3);
            imageAddr = new long[count];
            imageStride = new long[count];
            imageInts = new int[5 * count];
            planInts = new int[12 * count];
            boxes = new double[4 * count];
            indices = new long[count];
            for (int j = 0; j < count; j++) {
                int w = between(1, 40);
                int h = between(1, 40);
                int ch = chance(0.2) ? 1 : chance(0.2) ? 4 : 3;
                long stride = (long) w * ch + between(0, 5);
                Guarded g = new Guarded(stride * h, (byte) rng.nextInt());
                images.add(g);
                imageAddr[j] = g.address();
                imageStride[j] = stride;
                imageInts[5 * j] = w;
                imageInts[5 * j + 1] = h;
                imageInts[5 * j + 2] = ch;
                imageInts[5 * j + 3] = between(0, 1);
                int roiX = between(0, w - 1);
                int roiY = between(0, h - 1);
                int roiW = between(1, w - roiX);
                int roiH = between(1, h - roiY);
                int[] p = {roiX, roiY, roiW, roiH, between(1, 48), between(1, 48), between(-8, 40), between(-8, 40),
                    ow, oh, between(0, 2), between(0, 1)};
                System.arraycopy(p, 0, planInts, 12 * j, 12);
                double x0 = rng.nextDouble() * roiW * 0.5;
                double y0 = rng.nextDouble() * roiH * 0.5;
                boxes[4 * j] = x0;
                boxes[4 * j + 1] = y0;
                boxes[4 * j + 2] = x0 + (roiW - x0) * (0.25 + 0.75 * rng.nextDouble());
                boxes[4 * j + 3] = y0 + (roiH - y0) * (0.25 + 0.75 * rng.nextDouble());
                indices[j] = between(0, (int) batch - 1);
            }
            int esize = outInts[1] == 0 ? 4 : outInts[1] == 3 ? 1 : 2;
            outBytes = batch * 3 * ow * oh * esize;
        }

        /** Breaks one rule of the C ABI; returns what it did. */
        String mutate(long outAddr) {
            int j = rng.nextInt(count);
            int w = imageInts[5 * j];
            int h = imageInts[5 * j + 1];
            int pi = 12 * j;
            switch (rng.nextInt(26)) {
                case 0:
                    imageAddr[j] = 0;
                    return "image.data=null";
                case 1:
                    imageInts[5 * j] = badInt(1, 0x1FFFFFFF);
                    return "image.width=" + imageInts[5 * j];
                case 2:
                    imageInts[5 * j + 1] = badInt(1, 0x1FFFFFFF);
                    return "image.height=" + imageInts[5 * j + 1];
                case 3: {
                    int c = chance(0.5) ? 2 : badInt(0, 4);
                    imageInts[5 * j + 2] = c == 1 || c == 3 || c == 4 ? 5 : c;
                    return "image.channels=" + imageInts[5 * j + 2];
                }
                case 4:
                    imageInts[5 * j + 3] = badInt(0, 1);
                    return "image.order=" + imageInts[5 * j + 3];
                case 5: {
                    long row = (long) imageInts[5 * j] * Math.max(imageInts[5 * j + 2], 1);
                    imageStride[j] = chance(0.3) ? Long.MIN_VALUE : row - 1 - rng.nextInt((int) Math.max(1,
                            Math.min(row, 1000)));
                    return "row_stride(alias)=" + imageStride[j];
                }
                case 6:
                    imageInts[5 * j + 1] = Math.max(h, 2);
                    imageStride[j] = Long.MAX_VALUE / 2 + between(1, 1000);
                    return "row_stride(overflow)";
                case 7:
                    planInts[pi] = chance(0.5) ? w + between(0, 100) : badInt(0, w - 1);
                    return "roi_x=" + planInts[pi];
                case 8:
                    planInts[pi + 3] = chance(0.5) ? h - planInts[pi + 1] + between(1, 100)
                            : badInt(1, h - planInts[pi + 1]);
                    return "roi_h=" + planInts[pi + 3];
                case 9:
                    boxes[4 * j] = chance(0.3) ? Double.NaN : -(rng.nextDouble() + 1e-9);
                    return "box_x0=" + boxes[4 * j];
                case 10:
                    boxes[4 * j + 3] = chance(0.3) ? Double.POSITIVE_INFINITY
                            : planInts[pi + 3] + 1e-6 + rng.nextDouble() * 1e6;
                    return "box_y1>roi_h";
                case 11:
                    boxes[4 * j + 1] = 0.5;
                    boxes[4 * j + 3] = 0.5 + 1e-12;
                    return "box_y empty in float32";
                case 12:
                    planInts[pi + 4] = badInt(1, 1 << 16);
                    return "resize_w=" + planInts[pi + 4];
                case 13:
                    planInts[pi + 6] = badInt(-(1 << 16), 1 << 16);
                    return "crop_x=" + planInts[pi + 6];
                case 14:
                    planInts[pi + 9] += between(1, 50);
                    return "plan.out_h!=out.out_h";
                case 15:
                    planInts[pi + 10] = badInt(0, 2);
                    return "filter=" + planInts[pi + 10];
                case 16:
                    planInts[pi + 11] = badInt(0, 1);
                    return "flip_x=" + planInts[pi + 11];
                case 17:
                    indices[j] = chance(0.5) ? -1 - between(0, 1000) : batch + between(0, 1000);
                    return "index=" + indices[j];
                case 18:
                    batch = chance(0.5) ? -between(0, 1000) : Long.MAX_VALUE / 2 + between(0, 1000);
                    return "out.batch=" + batch;
                case 19:
                    outInts[0] = badInt(0, 1);
                    return "out.layout=" + outInts[0];
                case 20:
                    outInts[1] = badInt(0, 3);
                    return "out.dtype=" + outInts[1];
                case 21:
                    outInts[2] = badInt(0, 1);
                    return "out.order=" + outInts[2];
                case 22:
                    outInts[3] = badInt(1, 1 << 16);
                    return "out.out_w=" + outInts[3];
                case 23:
                    if (outInts[1] == 3) {
                        outInts[1] = 0;
                    }
                    std[rng.nextInt(3)] = chance(0.5) ? 0f : Float.NaN;
                    return "out.std=0|nan";
                case 24:
                    threads = badInt(1, 1024);
                    return "threads=" + threads;
                default:
                    imageAddr[j] = outAddr;
                    imageInts[5 * j] = Math.min(w, 8);
                    return "image overlaps output";
            }
        }

        void close() {
            images.forEach(Guarded::close);
        }
    }

    void preprocess(long iterations) {
        for (long i = 0; i < iterations; i++) {
            PreSet s = new PreSet();
            try (Guarded out = new Guarded(s.outBytes, (byte) 0xA5)) {
                int nmut = chance(0.2) ? 0 : between(1, 3);
                StringBuilder what = new StringBuilder();
                for (int m = 0; m < nmut; m++) {
                    what.append(m > 0 ? "; " : "").append(s.mutate(out.address()));
                }
                byte[] before = out.snapshot();
                int st = FxNative.fxj_preprocess_cpu_batch(s.count, s.imageAddr, s.imageStride, s.imageInts,
                        s.planInts, s.boxes, s.indices, out.address(), s.batch, s.outInts, s.mean, s.std, s.threads);
                boolean untouched = java.util.Arrays.equals(before, out.snapshot()) && out.guardIntact();
                boolean imagesIntact = s.images.stream().allMatch(Guarded::guardIntact);
                String outcome = "status " + st + (st != 0 ? ": " + FxNative.fx_last_error() : "");
                if (nmut > 0) {
                    report.broken("jni.preprocess_cpu", i, what.toString(), st != 0,
                            st == 1 && untouched && imagesIntact, untouched ? outcome : outcome + " OUTPUT WRITTEN");
                } else {
                    report.valid("jni.preprocess_cpu", i, "valid", st == 0 && out.guardIntact() && imagesIntact,
                            outcome);
                }
            } finally {
                s.close();
            }
        }
    }

    /** The CUDA entry points that exist in every build: never a crash; no handle from a bad device. */
    void cuda(long iterations) {
        for (long i = 0; i < iterations; i++) {
            switch ((int) (i % 3)) {
                case 0: {
                    int n = FxNative.fxj_cuda_device_count();
                    boolean compiled = FxNative.fx_cuda_compiled() != 0;
                    report.either("jni.cuda", i, "device_count", n >= 0, compiled || n == -4, "count " + n);
                    break;
                }
                case 1: {
                    int dev = chance(0.5) ? -between(1, 100) : between(64, Integer.MAX_VALUE - 1);
                    int[] status = {-1};
                    long h = FxNative.fxj_cuda_preprocessor_create(dev, status);
                    if (h != 0) {
                        FxNative.fxj_cuda_preprocessor_destroy(h);
                    }
                    report.broken("jni.cuda", i, "preprocessor_create(" + dev + ")", status[0] != 0,
                            status[0] != 0 && h == 0, "status " + status[0]);
                    break;
                }
                default: {
                    PreSet s = new PreSet();
                    try (Guarded out = new Guarded(s.outBytes, (byte) 0xA5)) {
                        String what = chance(0.5) ? s.mutate(out.address()) : "valid";
                        byte[] before = out.snapshot();
                        int st = FxNative.fxj_preprocess_cuda_batch(0, s.count, s.imageAddr, s.imageStride,
                                s.imageInts, s.planInts, s.boxes, s.indices, out.address(), s.batch, s.outInts,
                                s.mean, s.std, 0);
                        boolean untouched = java.util.Arrays.equals(before, out.snapshot()) && out.guardIntact();
                        report.broken("jni.cuda", i, "batch(null preprocessor; " + what + ")", st != 0,
                                st != 0 && untouched, "status " + st);
                    } finally {
                        s.close();
                    }
                }
            }
        }
    }

    // ---- depthwise -----------------------------------------------------------------------------------------

    void depthwise(long iterations) {
        for (long i = 0; i < iterations; i++) {
            long n = between(1, 3);
            long c = between(1, 24);
            int k = 2 * between(0, 3) + 1;
            int stride = between(1, 2);
            int layout = between(0, 1);
            int[] pad = {between(0, k - 1), between(0, k - 1), between(0, k - 1), between(0, k - 1)};
            long h = Math.max(between(1, 20), k - pad[0] - pad[2]);
            long w = Math.max(between(1, 20), k - pad[1] - pad[3]);
            long oh = (h + pad[0] + pad[2] - k) / stride + 1;
            long ow = (w + pad[1] + pad[3] - k) / stride + 1;
            long packed = FxNative.fxj_depthwise_out_size(n, c, h, w, k, stride, pad[0], pad[1], pad[2], pad[3],
                    layout);
            boolean deriveOk = packed == (oh << 32 | ow);
            int act = between(0, 1);
            int threads = between(1, 3);
            boolean backward = i % 2 == 1; // forward and backward alternate: each gets half of the sets
            boolean wantDx = chance(0.7);
            boolean wantDw = chance(0.7);
            boolean wantDb = !wantDx && !wantDw || chance(0.7);
            long nx = n * c * h * w;
            long ny = n * c * oh * ow;
            long nw = c * k * k;
            try (Guarded x = new Guarded(nx * 4, (byte) 0x3C); Guarded wt = new Guarded(nw * 4, (byte) 0x3C);
                 Guarded b = new Guarded(c * 4, (byte) 0x3C); Guarded y = new Guarded(ny * 4, (byte) 0xA5);
                 Guarded se = new Guarded(n * c * 4, (byte) 0xA5); Guarded dy = new Guarded(ny * 4, (byte) 0x3C);
                 Guarded dx = new Guarded(nx * 4, (byte) 0xA5); Guarded dw = new Guarded(nw * 4, (byte) 0xA5);
                 Guarded db = new Guarded(c * 4, (byte) 0xA5)) {
                long px = x.address();
                long pw = wt.address();
                long pb = chance(0.7) ? b.address() : 0;
                long py = y.address();
                long pse = chance(0.5) ? se.address() : 0;
                long pdy = dy.address();
                long pdx = wantDx ? dx.address() : 0;
                long pdw = wantDw ? dw.address() : 0;
                long pdb = wantDb ? db.address() : 0;
                int nmut = chance(0.2) ? 0 : between(1, 3);
                StringBuilder what = new StringBuilder();
                for (int m = 0; m < nmut; m++) {
                    String d;
                    switch (rng.nextInt(14)) {
                        case 0:
                            n = chance(0.5) ? 0 : Long.MIN_VALUE;
                            d = "n=" + n;
                            break;
                        case 1:
                            c = -between(1, 1 << 30);
                            d = "c=" + c;
                            break;
                        case 2:
                            h = chance(0.5) ? 0 : (1L << 30) + between(1, 100);
                            d = "h=" + h;
                            break;
                        case 3:
                            n = 1L << 40;
                            c = 1L << 30;
                            d = "n*c*h*w overflow";
                            break;
                        case 4:
                            k = chance(0.5) ? 2 * between(0, 4) : badInt(1, 7);
                            d = "k=" + k;
                            break;
                        case 5:
                            stride = badInt(1, 2);
                            d = "stride=" + stride;
                            break;
                        case 6:
                            pad[rng.nextInt(4)] = chance(0.5) ? -between(1, 100) : k + between(0, 100);
                            d = "pad out of [0, k-1]";
                            break;
                        case 7:
                            layout = badInt(0, 1);
                            d = "layout=" + layout;
                            break;
                        case 8:
                            k = 7;
                            pad[0] = 0;
                            pad[2] = 0;
                            h = between(1, 6);
                            d = "input smaller than kernel";
                            break;
                        case 9:
                            if (backward) {
                                pdy = 0;
                            } else {
                                py = 0;
                            }
                            d = backward ? "dy=null" : "y=null";
                            break;
                        case 10:
                            if (backward) {
                                pdx = dx.address() + 2;
                            } else {
                                px = x.address() + 1;
                            }
                            d = "misaligned";
                            break;
                        case 11:
                            if (backward) {
                                pdx = 0;
                                pdw = 0;
                                pdb = 0;
                                d = "no gradient wanted";
                            } else {
                                act = badInt(0, 1);
                                d = "act=" + act;
                            }
                            break;
                        case 12:
                            threads = badInt(1, 1024);
                            d = "threads=" + threads;
                            break;
                        default:
                            if (backward) {
                                pdx = pdy == 0 ? px : pdy;
                            } else {
                                py = px;
                            }
                            d = "output overlaps input";
                    }
                    what.append(m > 0 ? "; " : "").append(d);
                }
                // Only the flat-wrapper path; every rule here is checked natively from the scalars and addresses.
                byte[][] before = {y.snapshot(), se.snapshot(), dx.snapshot(), dw.snapshot(), db.snapshot(),
                    x.snapshot(), dy.snapshot()};
                int st = backward
                        ? FxNative.fxj_depthwise_backward_cpu(n, c, h, w, k, stride, pad[0], pad[1], pad[2], pad[3],
                                layout, px, pw, pdy, pdx, pdw, pdb, threads)
                        : FxNative.fxj_depthwise_forward_cpu(n, c, h, w, k, stride, pad[0], pad[1], pad[2], pad[3],
                                layout, px, pw, pb, act, py, pse, threads);
                Guarded[] all = {y, se, dx, dw, db, x, dy};
                boolean untouched = true;
                boolean guards = wt.guardIntact() && b.guardIntact();
                for (int g = 0; g < all.length; g++) {
                    untouched &= java.util.Arrays.equals(before[g], all[g].snapshot());
                    guards &= all[g].guardIntact();
                }
                String family = backward ? "jni.depthwise_backward" : "jni.depthwise_forward";
                String outcome = "status " + st + (st != 0 ? ": " + FxNative.fx_last_error() : "");
                if (nmut > 0) {
                    report.broken(family, i, what.toString(), st != 0, st == 1 && untouched && guards,
                            untouched ? outcome : outcome + " OUTPUT WRITTEN");
                } else {
                    report.valid(family, i, "valid", st == 0 && guards && deriveOk,
                            outcome + (deriveOk ? "" : " (out_size " + packed + " != " + oh + "x" + ow + ")"));
                }
            }
        }
    }

    /** The ISA setter and the shape function on fully random values. */
    void misc(long iterations) {
        for (long i = 0; i < iterations; i++) {
            if (i % 2 == 0) {
                int code = chance(0.5) ? between(-3, 6) : rng.nextInt();
                int st = FxNative.fx_cpu_set_isa(code);
                boolean known = code >= 0 && code <= 4; // FX_ISA_AUTO .. FX_ISA_AVX512
                if (known) {
                    report.either("jni.cpu_set_isa", i, "isa " + code, st == 0, st == 0 || st == 4, "status " + st);
                } else {
                    report.broken("jni.cpu_set_isa", i, "isa " + code, st != 0, st == 1, "status " + st);
                }
                FxNative.fx_cpu_set_isa(0);
            } else {
                long n = rng.nextLong() >> rng.nextInt(64);
                long c = rng.nextLong() >> rng.nextInt(64);
                long h = rng.nextLong() >> rng.nextInt(64);
                long w = rng.nextLong() >> rng.nextInt(64);
                int k = between(-2, 9);
                int s = between(-1, 3);
                int pt = between(-1, 7);
                int pl = between(-1, 7);
                int pb = between(-1, 7);
                int pr = between(-1, 7);
                long packed = FxNative.fxj_depthwise_out_size(n, c, h, w, k, s, pt, pl, pb, pr, between(-1, 2));
                boolean ok = packed < 0 ? packed == -1
                        : n >= 1 && c >= 1 && (packed >>> 32) == (h + pt + pb - k) / s + 1
                        && (packed & 0xFFFFFFFFL) == (w + pl + pr - k) / s + 1;
                report.either("jni.depthwise_out_size", i, n + "," + c + "," + h + "," + w + " k" + k + " s" + s,
                        packed >= 0, ok, packed >= 0 ? "ok" : "status " + -packed);
            }
        }
    }
}
