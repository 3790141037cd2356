package org.fixres4j.preprocess;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.fixres4j.TestData;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.ImageDecoder;
import org.fixres4j.io.Json;
import org.fixres4j.io.Npy;
import org.fixres4j.kernels.Kernels;
import org.fixres4j.transform.Normalization;
import org.fixres4j.transform.ResamplePlan;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole Java path (OpenCV decoding, plans, JNI, the kernel) against Pillow 9.4's bytes: every case of
 * {@code tests/data/preprocess/cases.json} (made by its {@code make_goldens.py}), on the scalar and the AVX2 path,
 * as uint8 and as float32 (which must equal torchvision's ToTensor + Normalize of the golden pixels, bit for bit).
 */
class PillowGoldenTest {
    private static final Path DIR = TestData.path("preprocess");

    static Stream<Arguments> cases() throws IOException {
        Map<String, Object> root = Json.parseObject(java.nio.file.Files.readString(DIR.resolve("cases.json")));
        List<Arguments> list = new ArrayList<>();
        for (Object o : (List<?>) root.get("cases")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> c = (Map<String, Object>) o;
            for (Kernels.Isa isa : Kernels.Isa.values()) {
                list.add(Arguments.of(c.get("name"), isa, c));
            }
        }
        return list.stream();
    }

    @AfterEach
    void resetIsa() {
        Kernels.resetCpuIsa();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    @SuppressWarnings("unchecked")
    void matchesPillow(String name, Kernels.Isa isa, Map<String, Object> c) throws IOException {
        Assumptions.assumeTrue(Kernels.cpuSupports(isa), "this CPU lacks " + isa);
        Kernels.setCpuIsa(isa);
        ResamplePlan plan = ResamplePlan.fromMap((Map<String, ?>) c.get("plan"));
        Npy.Array golden = Npy.read(DIR.resolve((String) c.get("golden")));
        byte[] expected = golden.toByteArray();
        CpuPreprocessor pre = new CpuPreprocessor(1);
        try (DecodedImage im = ImageDecoder.decode(DIR.resolve((String) c.get("image")))) {
            byte[] rgb = pre.runToBytes(im, plan, OutputSpec.rgbBytes(plan.outW(), plan.outH()));
            assertArrayEquals(expected, rgb, name + ": uint8 output differs from Pillow's");

            OutputSpec f32 = OutputSpec.nchwFloat(plan.outW(), plan.outH(), Normalization.IMAGENET);
            float[] values = pre.runToFloats(im, plan, f32);
            float[] want = torchvisionNormalize(expected, plan.outW(), plan.outH(), Normalization.IMAGENET);
            assertArrayEquals(want, values, 0f, name + ": float32 output differs from ToTensor+Normalize");
        }
    }

    /** torchvision: ToTensor ((float) v / 255) then Normalize ((x - mean) / std), float32, NCHW. */
    static float[] torchvisionNormalize(byte[] hwc, int w, int h, Normalization n) {
        float[] out = new float[3 * w * h];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < w * h; i++) {
                float x = (float) (hwc[3 * i + c] & 0xFF) / 255.0f;
                out[c * w * h + i] = (x - n.mean()[c]) / n.std()[c];
            }
        }
        return out;
    }

    @Test
    void everyLayoutTypeAndOrderAgrees() throws IOException {
        ResamplePlan plan = ResamplePlan.wholeImage(500, 375, 341, 256, 58, 16, 224, 224,
                org.fixres4j.transform.Interpolation.BICUBIC, false);
        CpuPreprocessor pre = new CpuPreprocessor(2);
        try (DecodedImage im = ImageDecoder.decode(DIR.resolve("sources/landscape_500x375.png"))) {
            byte[] rgb = pre.runToBytes(im, plan, OutputSpec.rgbBytes(224, 224));
            int n = 224 * 224;
            for (Layout layout : Layout.values()) {
                for (DecodedImage.ChannelOrder order : DecodedImage.ChannelOrder.values()) {
                    for (OutputType type : OutputType.values()) {
                        OutputSpec spec = new OutputSpec(224, 224, layout, type, order, Normalization.INCEPTION);
                        ByteBuffer b = ByteBuffer.wrap(pre.runToBytes(im, plan, spec)).order(ByteOrder.LITTLE_ENDIAN);
                        for (int i = 0; i < n; i += 97) {
                            for (int c = 0; c < 3; c++) {
                                int src = order == DecodedImage.ChannelOrder.RGB ? c : 2 - c;
                                int v = rgb[3 * i + src] & 0xFF;
                                long at = layout == Layout.NCHW ? (long) c * n + i : 3L * i + c;
                                float want = ((float) v / 255f - 0.5f) / 0.5f;
                                String where = layout + " " + order + " " + type + " pixel " + i + " channel " + c;
                                switch (type) {
                                    case UINT8 -> assertEquals(v, b.get((int) at) & 0xFF, where);
                                    case FLOAT32 -> assertEquals(want, b.getFloat((int) (4 * at)), 0f, where);
                                    case FLOAT16 -> assertEquals(half(want),
                                            b.getShort((int) (2 * at)), where);
                                    case BFLOAT16 -> assertEquals(bfloat16(want), b.getShort((int) (2 * at)), where);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** IEEE binary16, round to nearest even (Float.floatToFloat16 needs Java 20). */
    static short half(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = ((bits >>> 23) & 0xFF) - 127 + 15;
        int mant = bits & 0x7FFFFF;
        if (exp >= 31) {
            return (short) (sign | 0x7C00);
        }
        int shift = 13;
        if (exp <= 0) {
            if (exp < -10) {
                return (short) sign;
            }
            mant |= 0x800000;
            shift = 14 - exp;
            exp = 0;
        }
        int half = sign | (exp << 10) | (mant >>> shift);
        int rem = mant & ((1 << shift) - 1);
        int mid = 1 << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1) != 0)) {
            half++;
        }
        return (short) half;
    }

    private static short bfloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}
