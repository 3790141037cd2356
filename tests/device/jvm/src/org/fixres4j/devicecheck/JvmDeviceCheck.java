package org.fixres4j.devicecheck;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;
import org.fixres4j.kernels.Backends;
import org.fixres4j.kernels.CudaCheckMemory;
import org.fixres4j.kernels.CudaDepthwise;
import org.fixres4j.kernels.CudaDepthwise.DType;
import org.fixres4j.kernels.CudaDepthwise.Shape;
import org.fixres4j.kernels.FxNative;
import org.fixres4j.kernels.Kernels;
import org.fixres4j.kernels.NativeCalls;
import org.fixres4j.kernels.UnsupportedBackendException;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.ResamplePlan;
import org.fixres4j.transform.TimmEvalTransform;

/**
 * The JVM-level device check: the JavaCPP bindings of the CUDA kernels (preprocessing through {@link NativeCalls},
 * the path {@code CudaPreprocessor} takes; depthwise through {@link CudaDepthwise}) run from Java on raw device
 * memory ({@link CudaCheckMemory}) on a non-default stream, against the CPU kernels called through the same
 * bindings. No libtorch, OpenCV or CUDA preset is on the class path (only the library jar and JavaCPP's).
 *
 * <pre>
 *   java -cp fixres4j.jar:javacpp.jar:device-check.jar org.fixres4j.devicecheck.JvmDeviceCheck [--dry-run]
 * </pre>
 * With a GPU (the default mode) every comparison must pass; {@code --dry-run} (no GPU) runs the CPU references and
 * checks that every CUDA entry point refuses cleanly (UnsupportedBackendException in a build without CUDA,
 * IllegalStateException without a driver or device) and that bad arguments are IllegalArgumentExceptions. Prints
 * one line per check and "jvm device check: N passed, M failed"; exit status 1 on any failure.
 */
public final class JvmDeviceCheck {
    private int passed;
    private int failed;

    public static void main(String[] args) {
        boolean dry = args.length > 0 && args[0].equals("--dry-run");
        JvmDeviceCheck c = new JvmDeviceCheck();
        try {
            c.run(dry);
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            c.fail("unexpected " + t);
        }
        System.out.println("jvm device check: " + c.passed + " passed, " + c.failed + " failed" + (dry ? " (dry run)"
                : ""));
        System.exit(c.failed == 0 ? 0 : 1);
    }

    private void ok(String what) {
        passed++;
        System.out.println("PASS " + what);
    }

    private void fail(String what) {
        failed++;
        System.out.println("FAIL " + what);
    }

    private void expect(boolean cond, String what) {
        if (cond) {
            ok(what);
        } else {
            fail(what);
        }
    }

    private void run(boolean dry) {
        Kernels.ensureLoaded();
        System.out.println("java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name")
                + ")");
        System.out.println("kernels: " + Kernels.buildInfo());
        System.out.println(Backends.cudaKernels());
        boolean compiled = FxNative.fx_cuda_compiled() != 0;
        int devices = compiled ? Backends.cudaDeviceCount() : 0;
        if (!dry) {
            expect(compiled, "the loaded kernels are the CUDA build");
            expect(devices > 0, "a CUDA device is usable (" + devices + ")");
            if (!compiled || devices == 0) {
                return;
            }
            preprocessing();
            depthwiseAll();
            nativeValidation();
        } else {
            dryRun(compiled);
        }
        javaValidation();
    }

    // ---- preprocessing: CUDA batch vs the CPU batch, byte for byte ---------------------------------------------

    /** Synthetic RGB images of different sizes, timm eval 224 (bicubic, centre crop), float32 and bf16 NCHW. */
    private void preprocessing() {
        int count = 6;
        int res = 224;
        TimmEvalTransform t = TimmEvalTransform.of(res);
        SplittableRandom rng = new SplittableRandom(14);
        List<BytePointer> images = new ArrayList<>();
        long[] addr = new long[count];
        long[] stride = new long[count];
        int[] imageInts = new int[5 * count];
        int[] planInts = new int[12 * count];
        double[] boxes = new double[4 * count];
        long[] indices = new long[count];
        for (int j = 0; j < count; j++) {
            int w = 300 + rng.nextInt(260);
            int h = 240 + rng.nextInt(200);
            BytePointer im = new BytePointer((long) w * h * 3);
            byte[] px = new byte[w * h * 3];
            for (int i = 0; i < px.length; i++) {
                px[i] = (byte) rng.nextInt(256);
            }
            im.put(px);
            images.add(im);
            ResamplePlan p = t.plan(w, h, null);
            addr[j] = im.address();
            stride[j] = (long) w * 3;
            imageInts[5 * j] = w;
            imageInts[5 * j + 1] = h;
            imageInts[5 * j + 2] = 3;
            imageInts[5 * j + 3] = 0; // RGB
            int[] q = {p.roiX(), p.roiY(), p.roiW(), p.roiH(), p.resizeW(), p.resizeH(), p.cropX(), p.cropY(),
                p.outW(), p.outH(), p.interpolation().code(), j % 2};
            System.arraycopy(q, 0, planInts, 12 * j, 12);
            boxes[4 * j] = p.boxX0();
            boxes[4 * j + 1] = p.boxY0();
            boxes[4 * j + 2] = p.boxX1();
            boxes[4 * j + 3] = p.boxY1();
            indices[j] = count - 1 - j;
        }
        float[] mean = {0.485f, 0.456f, 0.406f};
        float[] std = {0.229f, 0.224f, 0.225f};
        long pre = NativeCalls.createCudaPreprocessor(0);
        long stream = CudaCheckMemory.createStream(0);
        try {
            for (int[] kind : new int[][] {{0, 0, 4}, {1, 2, 2}, {0, 3, 1}}) { // layout, dtype, bytes per value
                int layout = kind[0];
                int dtype = kind[1];
                long bytes = (long) count * 3 * res * res * kind[2];
                int[] outInts = {layout, dtype, 0, res, res};
                BytePointer cpu = new BytePointer(bytes);
                BytePointer back = new BytePointer(bytes);
                NativeCalls.preprocessCpu(count, addr, stride, imageInts, planInts, boxes, indices, cpu.address(),
                        count, outInts, mean, std, 1);
                long dev = CudaCheckMemory.malloc(0, bytes);
                try {
                    NativeCalls.preprocessCuda(pre, count, addr, stride, imageInts, planInts, boxes, indices, dev,
                            count, outInts, mean, std, stream);
                    CudaCheckMemory.synchronize(stream);
                    CudaCheckMemory.copy(back.address(), dev, bytes);
                } finally {
                    CudaCheckMemory.free(dev);
                }
                long diff = firstDifference(cpu, back, bytes);
                expect(diff < 0, "preprocess CUDA == CPU byte for byte (" + count + " images, layout " + layout
                        + ", dtype " + dtype + ", " + bytes + " bytes" + (diff < 0 ? "" : ", first difference at byte "
                        + diff) + ")");
                cpu.close();
                back.close();
            }
            // the native check of the output memory: a host address as the output is refused before any copy
            BytePointer host = new BytePointer((long) count * 3 * res * res * 4);
            expectThrows(IllegalArgumentException.class, "preprocess CUDA: host memory as the output", () ->
                    NativeCalls.preprocessCuda(pre, count, addr, stride, imageInts, planInts, boxes, indices,
                            host.address(), count, new int[] {0, 0, 0, res, res}, mean, std, stream));
            host.close();
        } finally {
            CudaCheckMemory.destroyStream(stream);
            NativeCalls.destroyCudaPreprocessor(pre);
            for (BytePointer im : images) {
                im.close();
            }
        }
    }

    private static long firstDifference(BytePointer a, BytePointer b, long bytes) {
        for (long i = 0; i < bytes; i++) {
            if (a.get(i) != b.get(i)) {
                return i;
            }
        }
        return -1;
    }

    // ---- depthwise: CUDA (three dtypes, both layouts) vs the CPU kernels in float32 ---------------------------

    private void depthwiseAll() {
        long[][] geo = {
            // n, c, h, w, k, stride, pad top, left, bottom, right
            {2, 32, 28, 28, 3, 1, 1, 1, 1, 1},
            {2, 24, 29, 31, 5, 2, 1, 1, 2, 2},
            {3, 40, 17, 17, 3, 2, 0, 0, 1, 1},
            {1, 20, 9, 13, 5, 1, 2, 2, 2, 2},
        };
        long stream = CudaCheckMemory.createStream(0);
        try {
            for (long[] g : geo) {
                for (boolean nhwc : new boolean[] {true, false}) {
                    Shape s = Shape.of(g[0], g[1], g[2], g[3], (int) g[4], (int) g[5], (int) g[6], (int) g[7],
                            (int) g[8], (int) g[9], nhwc);
                    for (DType dt : DType.values()) {
                        depthwise(s, dt, stream);
                    }
                }
            }
        } finally {
            CudaCheckMemory.destroyStream(stream);
        }
    }

    /** Values k / 64 with |k| < 128: exact in float16 and bfloat16, so every dtype convolves the same inputs. */
    private static float[] values(SplittableRandom rng, long n) {
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (rng.nextInt(255) - 127) / 64f;
        }
        return v;
    }

    private void depthwise(Shape s, DType dt, long stream) {
        SplittableRandom rng = new SplittableRandom(s.hashCode() * 31L + dt.ordinal());
        float[] x = values(rng, s.inputElements());
        float[] w = values(rng, s.weightElements());
        float[] b = values(rng, s.c());
        float[] dy = values(rng, s.outputElements());
        // CPU references (float32, same bindings)
        float[] y = new float[(int) s.outputElements()];
        float[] se = new float[(int) (s.n() * s.c())];
        float[] dx = new float[x.length];
        float[] dw = new float[w.length];
        float[] db = new float[b.length];
        try (FloatPointer px = new FloatPointer(x); FloatPointer pw = new FloatPointer(w);
             FloatPointer pb = new FloatPointer(b); FloatPointer pdy = new FloatPointer(dy);
             FloatPointer py = new FloatPointer(y.length); FloatPointer pse = new FloatPointer(se.length);
             FloatPointer pdx = new FloatPointer(dx.length); FloatPointer pdw = new FloatPointer(dw.length);
             FloatPointer pdb = new FloatPointer(db.length)) {
            int layout = s.nhwc() ? 1 : 0;
            check(FxNative.fxj_depthwise_forward_cpu(s.n(), s.c(), s.h(), s.w(), s.k(), s.stride(), s.padTop(),
                    s.padLeft(), s.padBottom(), s.padRight(), layout, px.address(), pw.address(), pb.address(), 1,
                    py.address(), pse.address(), 1));
            check(FxNative.fxj_depthwise_backward_cpu(s.n(), s.c(), s.h(), s.w(), s.k(), s.stride(), s.padTop(),
                    s.padLeft(), s.padBottom(), s.padRight(), layout, px.address(), pw.address(), pdy.address(),
                    pdx.address(), pdw.address(), pdb.address(), 1));
            py.get(y);
            pse.get(se);
            pdx.get(dx);
            pdw.get(dw);
            pdb.get(db);
        }
        // device buffers
        List<Long> owned = new ArrayList<>();
        try {
            long gx = upload(x, dt, owned);
            long gw = upload(w, dt, owned);
            long gb = upload(b, dt, owned);
            long gdy = upload(dy, dt, owned);
            long gy = alloc(y.length * (long) dt.bytes, owned);
            long gse = alloc(se.length * 4L, owned);
            long gdx = alloc(dx.length * (long) dt.bytes, owned);
            long gdw = alloc(dw.length * (long) dt.bytes, owned);
            long gdb = alloc(db.length * (long) dt.bytes, owned);
            long wsBytes = CudaDepthwise.workspaceBytes(s, dt);
            long gws = wsBytes > 0 ? alloc(wsBytes, owned) : 0;
            CudaDepthwise.forward(0, s, dt, gx, gw, gb, true, gy, gse, stream);
            CudaDepthwise.backward(0, s, dt, gx, gw, gdy, gdx, gdw, gdb, gws, wsBytes, stream);
            CudaCheckMemory.synchronize(stream);
            double tol = dt == DType.FLOAT32 ? 1e-5 : dt == DType.FLOAT16 ? 2e-3 : 1.6e-2;
            String what = "depthwise CUDA " + dt + " " + s;
            compare(what + " y (bias + SiLU)", download(gy, y.length, dt), y, tol);
            compare(what + " SE sums", download(gse, se.length, DType.FLOAT32), se, dt == DType.FLOAT32 ? 1e-4 : tol);
            compare(what + " dx", download(gdx, dx.length, dt), dx, tol);
            compare(what + " dw", download(gdw, dw.length, dt), dw, tol);
            compare(what + " db", download(gdb, db.length, dt), db, tol);
        } finally {
            for (long p : owned) {
                CudaCheckMemory.free(p);
            }
        }
    }

    private void compare(String what, float[] got, float[] ref, double tol) {
        double scale = 0;
        for (float r : ref) {
            scale = Math.max(scale, Math.abs(r));
        }
        int bad = -1;
        double worst = 0;
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs(got[i] - ref[i]) / (Math.abs(ref[i]) + 0.05 * scale + 1e-30);
            if (!(err <= tol)) {
                if (bad < 0) {
                    bad = i;
                }
            }
            if (err > worst || Double.isNaN(err)) {
                worst = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
            }
        }
        expect(bad < 0, what + ": worst relative error " + String.format("%.2e", worst) + " (tolerance " + tol + ")"
                + (bad < 0 ? "" : ", first bad element " + bad + ": " + got[bad] + " vs " + ref[bad]));
    }

    private static void check(int status) {
        if (status != 0) {
            throw new IllegalStateException("CPU kernel failed: " + FxNative.fx_last_error());
        }
    }

    private static long alloc(long bytes, List<Long> owned) {
        long p = CudaCheckMemory.malloc(0, Math.max(bytes, 1));
        owned.add(p);
        return p;
    }

    private static long upload(float[] v, DType dt, List<Long> owned) {
        long bytes = v.length * (long) dt.bytes;
        long p = alloc(bytes, owned);
        Pointer host = hostCopy(v, dt);
        try {
            CudaCheckMemory.copy(p, host.address(), bytes);
        } finally {
            host.close();
        }
        return p;
    }

    private static Pointer hostCopy(float[] v, DType dt) {
        if (dt == DType.FLOAT32) {
            return new FloatPointer(v);
        }
        short[] s = new short[v.length];
        for (int i = 0; i < v.length; i++) {
            s[i] = dt == DType.BFLOAT16 ? toBf16(v[i]) : toF16(v[i]);
        }
        return new ShortPointer(s);
    }

    private static float[] download(long dev, int n, DType dt) {
        float[] out = new float[n];
        if (dt == DType.FLOAT32) {
            try (FloatPointer h = new FloatPointer(n)) {
                CudaCheckMemory.copy(h.address(), dev, n * 4L);
                h.get(out);
            }
            return out;
        }
        short[] s = new short[n];
        try (ShortPointer h = new ShortPointer(n)) {
            CudaCheckMemory.copy(h.address(), dev, n * 2L);
            h.get(s);
        }
        for (int i = 0; i < n; i++) {
            out[i] = dt == DType.BFLOAT16 ? Float.intBitsToFloat((s[i] & 0xFFFF) << 16) : fromF16(s[i]);
        }
        return out;
    }

    /** bfloat16 of a value exact in bfloat16 (the inputs above): the upper half of its float bits. */
    static short toBf16(float f) {
        return (short) (Float.floatToRawIntBits(f) >>> 16);
    }

    /** float16 of a normal value exact in float16 (the inputs above), or zero. */
    static short toF16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        if ((bits & 0x7FFFFFFF) == 0) {
            return (short) sign;
        }
        int exp = ((bits >>> 23) & 0xFF) - 127 + 15;
        int mant = (bits >>> 13) & 0x3FF;
        return (short) (sign | (exp << 10) | mant);
    }

    /** float of a float16 bit pattern (normals, subnormals, zeros, infinities, NaN). */
    static float fromF16(short h) {
        int v = h & 0xFFFF;
        int sign = (v & 0x8000) << 16;
        int exp = (v >>> 10) & 0x1F;
        int mant = v & 0x3FF;
        if (exp == 0) {
            float m = mant * 0x1p-24f;
            return sign != 0 ? -m : m;
        }
        if (exp == 31) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    // ---- validation ----------------------------------------------------------------------------------------

    /** With a device: the kernels' own checks, reached through the binding (Java's checks pass these). */
    private void nativeValidation() {
        Shape s = Shape.of(1, 16, 8, 8, 3, 1, 1, 1, 1, 1, true);
        try (FloatPointer host = new FloatPointer(16 * 64 * 2)) {
            long h = host.address();
            expectThrows(IllegalArgumentException.class, "depthwise CUDA: host memory as x is refused natively", () ->
                    CudaDepthwise.forward(0, s, DType.FLOAT32, h, h, 0, false, h + 16 * 64 * 4, 0, 0));
        }
        expectThrows(IllegalArgumentException.class, "depthwise CUDA: device index out of range", () ->
                CudaDepthwise.forward(4096, s, DType.FLOAT32, 256, 256, 0, false, 512, 0, 0));
    }

    /** Without a device: CPU references through the bindings, and the CUDA entry points' clean refusal. */
    private void dryRun(boolean compiled) {
        Class<? extends RuntimeException> refusal = compiled ? IllegalStateException.class
                : UnsupportedBackendException.class;
        String why = compiled ? "no device: IllegalStateException" : "CPU-only build: UnsupportedBackendException";
        Shape s = Shape.of(1, 16, 8, 8, 3, 1, 1, 1, 1, 1, true);
        expectThrows(refusal, "depthwise forward CUDA refused (" + why + ")", () ->
                CudaDepthwise.forward(0, s, DType.BFLOAT16, 256, 256, 0, true, 4096, 0, 0));
        expectThrows(refusal, "depthwise backward CUDA refused (" + why + ")", () ->
                CudaDepthwise.backward(0, s, DType.FLOAT16, 256, 256, 1024, 4096, 0, 0, 0, 0, 0));
        if (!compiled) { // with CUDA compiled the workspace size is pure arithmetic: no device needed
            expectThrows(refusal, "depthwise workspace CUDA refused (" + why + ")", () ->
                    CudaDepthwise.workspaceBytes(s, DType.FLOAT32));
        } else {
            expect(CudaDepthwise.workspaceBytes(s, DType.FLOAT32) > 0, "depthwise workspace size without a device");
        }
        expectThrows(refusal, "CUDA preprocessor refused (" + why + ")", () -> NativeCalls.createCudaPreprocessor(0));
        expectThrows(refusal, "CUDA malloc refused (" + why + ")", () -> CudaCheckMemory.malloc(0, 1024));
        // the CPU references the GPU run compares against
        float[] ones = new float[16 * 64];
        java.util.Arrays.fill(ones, 1f);
        float[] w = new float[16 * 9];
        java.util.Arrays.fill(w, 1f);
        try (FloatPointer px = new FloatPointer(ones); FloatPointer pw = new FloatPointer(w);
             FloatPointer py = new FloatPointer(16 * 64)) {
            check(FxNative.fxj_depthwise_forward_cpu(1, 16, 8, 8, 3, 1, 1, 1, 1, 1, 1, px.address(), pw.address(), 0,
                    0, py.address(), 0, 1));
            float[] y = new float[16 * 64];
            py.get(y);
            // NHWC: pixel (0, 0) sees a 2x2 window of ones, pixel (1, 1) a full 3x3
            expect(y[0] == 4f && y[16 * 9] == 9f, "depthwise CPU reference through the binding (corner 4, inside 9)");
        }
        ResamplePlan p = ResamplePlan.wholeImage(4, 4, 2, 2, 0, 0, 2, 2, Interpolation.BILINEAR, false);
        try (BytePointer im = new BytePointer(48); BytePointer out = new BytePointer(12)) {
            im.fill(200);
            NativeCalls.preprocessCpu(1, new long[] {im.address()}, new long[] {12}, new int[] {4, 4, 3, 0, 0},
                    new int[] {p.roiX(), p.roiY(), p.roiW(), p.roiH(), p.resizeW(), p.resizeH(), p.cropX(),
                        p.cropY(), p.outW(), p.outH(), p.interpolation().code(), 0},
                    new double[] {p.boxX0(), p.boxY0(), p.boxX1(), p.boxY1()}, new long[] {0}, out.address(), 1,
                    new int[] {0, 3, 0, 2, 2}, new float[] {0, 0, 0}, new float[] {1, 1, 1}, 1);
            expect((out.get(0) & 0xFF) == 200 && (out.get(11) & 0xFF) == 200,
                    "preprocess CPU reference through the binding (a flat image stays flat)");
        }
    }

    /** Java's own checks, the same with and without a GPU: nothing reaches native code. */
    private void javaValidation() {
        Shape s = Shape.of(1, 16, 8, 8, 3, 1, 1, 1, 1, 1, true);
        expectThrows(IllegalArgumentException.class, "depthwise CUDA: null x", () ->
                CudaDepthwise.forward(0, s, DType.FLOAT32, 0, 256, 0, false, 512, 0, 0));
        expectThrows(IllegalArgumentException.class, "depthwise CUDA: misaligned y", () ->
                CudaDepthwise.forward(0, s, DType.FLOAT32, 256, 256, 0, false, 514, 0, 0));
        expectThrows(IllegalArgumentException.class, "depthwise CUDA: negative device", () ->
                CudaDepthwise.forward(-1, s, DType.FLOAT32, 256, 256, 0, false, 512, 0, 0));
        expectThrows(IllegalArgumentException.class, "depthwise CUDA: nothing wanted", () ->
                CudaDepthwise.backward(0, s, DType.FLOAT32, 256, 256, 512, 0, 0, 0, 0, 0, 0));
        expectThrows(IllegalArgumentException.class, "depthwise shape: even k", () ->
                Shape.of(1, 16, 8, 8, 4, 1, 1, 1, 1, 1, true));
        expectThrows(IllegalArgumentException.class, "depthwise shape: stride 3", () ->
                Shape.of(1, 16, 8, 8, 3, 3, 1, 1, 1, 1, true));
    }

    private void expectThrows(Class<? extends Throwable> type, String what, Runnable r) {
        try {
            r.run();
            fail(what + ": no exception");
        } catch (Throwable t) {
            boolean exact = type.isInstance(t) && (type != IllegalStateException.class
                    || !(t instanceof UnsupportedBackendException));
            expect(exact, what + ": " + t.getClass().getSimpleName() + ": " + t.getMessage());
        }
    }
}
