package org.fixres4j.preprocess;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.TestData;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.ImageDecoder;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.fixres4j.transform.ResamplePlan;
import org.fixres4j.transform.TimmEvalTransform;
import org.junit.jupiter.api.Test;

/** Batches into libtorch tensors, and every kind of bad input ending as a clear Java exception (never a crash). */
class PreprocessorInputTest {
    private static DecodedImage photo() throws IOException {
        return ImageDecoder.decode(TestData.path("preprocess/sources/landscape_500x375.png"));
    }

    @Test
    void batchIntoTensorEqualsSingleImages() throws IOException {
        Torch.ensureLoaded();
        TimmEvalTransform t = TimmEvalTransform.of(64);
        OutputSpec spec = OutputSpec.nchwFloat(64, 64, t.normalization());
        CpuPreprocessor single = new CpuPreprocessor(1);
        CpuPreprocessor pool = new CpuPreprocessor(2);
        List<DecodedImage> images = List.of(photo(), ImageDecoder.decode(TestData.path("decode/photo.jpg")),
                ImageDecoder.decode(TestData.path("decode/gray_alpha.png")));
        try {
            Tensor out = torch.zeros(new long[] {5, 3, 64, 64}, new TensorOptions(torch.ScalarType.Float));
            List<Sample> samples = new ArrayList<>();
            int[] slots = {4, 0, 2};
            for (int i = 0; i < images.size(); i++) {
                DecodedImage im = images.get(i);
                samples.add(new Sample(im, t.plan(im.width(), im.height(), null), slots[i]));
            }
            pool.run(samples, spec, out);
            float[] all = new float[5 * 3 * 64 * 64];
            new FloatPointer(out.data_ptr()).get(all);
            int n = 3 * 64 * 64;
            for (int i = 0; i < images.size(); i++) {
                DecodedImage im = images.get(i);
                float[] one = single.runToFloats(im, t.plan(im.width(), im.height(), null), spec);
                float[] slot = java.util.Arrays.copyOfRange(all, slots[i] * n, (slots[i] + 1) * n);
                assertArrayEquals(one, slot, 0f, "slot " + slots[i]);
            }
            float[] untouched = java.util.Arrays.copyOfRange(all, n, 2 * n);
            assertArrayEquals(new float[n], untouched, 0f, "slot 1 was not asked for and stays zero");
        } finally {
            images.forEach(DecodedImage::close);
        }
    }

    @Test
    void tensorsOfTheWrongKindAreRefused() throws IOException {
        Torch.ensureLoaded();
        OutputSpec spec = OutputSpec.nchwFloat(32, 32, Normalization.IMAGENET);
        CpuPreprocessor pre = new CpuPreprocessor(1);
        try (DecodedImage im = photo()) {
            List<Sample> one = List.of(new Sample(im, TimmEvalTransform.of(32).plan(500, 375, null), 0));
            Tensor half = torch.zeros(new long[] {1, 3, 32, 32}, new TensorOptions(torch.ScalarType.Half));
            assertMessage(assertThrows(IllegalArgumentException.class, () -> pre.run(one, spec, half)), "dtype");
            Tensor nhwc = torch.zeros(new long[] {1, 32, 32, 3}, new TensorOptions(torch.ScalarType.Float));
            assertMessage(assertThrows(IllegalArgumentException.class, () -> pre.run(one, spec, nhwc)), "shape");
            Tensor strided = torch.zeros(new long[] {1, 3, 32, 64}, new TensorOptions(torch.ScalarType.Float))
                    .narrow(3, 0, 32);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> pre.run(one, spec, strided)),
                    "contiguous");
            Tensor small = torch.zeros(new long[] {1, 3, 32, 32}, new TensorOptions(torch.ScalarType.Float));
            List<Sample> slot3 = List.of(new Sample(im, TimmEvalTransform.of(32).plan(500, 375, null), 3));
            assertMessage(assertThrows(IllegalArgumentException.class, () -> pre.run(slot3, spec, small)), "index");
        }
    }

    @Test
    void badGeometryAndMemoryAreRefused() throws IOException {
        OutputSpec spec = OutputSpec.nchwFloat(32, 32, Normalization.IMAGENET);
        CpuPreprocessor pre = new CpuPreprocessor(1);
        try (DecodedImage im = photo()) {
            ResamplePlan outside = new ResamplePlan(400, 300, 200, 100, 0, 0, 200, 100, 32, 32, 0, 0, 32, 32,
                    Interpolation.BILINEAR, false);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> pre.runToFloats(im, outside, spec)),
                    "roi");
            ResamplePlan otherSize = ResamplePlan.wholeImage(500, 375, 48, 48, 0, 0, 48, 48, Interpolation.BICUBIC,
                    false);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> pre.runToFloats(im, otherSize, spec)),
                    "48x48");
            ResamplePlan ok = ResamplePlan.wholeImage(500, 375, 32, 32, 0, 0, 32, 32, Interpolation.BICUBIC, false);
            try (FloatPointer tiny = new FloatPointer(100)) {
                assertMessage(assertThrows(IllegalArgumentException.class,
                        () -> pre.run(List.of(new Sample(im, ok, 0)), spec, tiny)), "capacity");
            }
            assertThrows(IllegalArgumentException.class, () -> new ResamplePlan(0, 0, 10, 10, 5, 0, 5, 10, 32, 32,
                    0, 0, 32, 32, Interpolation.BICUBIC, false));
            assertThrows(IllegalArgumentException.class, () -> new CpuPreprocessor(0));
        }
        DecodedImage closed = photo();
        closed.close();
        ResamplePlan ok = ResamplePlan.wholeImage(500, 375, 32, 32, 0, 0, 32, 32, Interpolation.BICUBIC, false);
        assertMessage(assertThrows(IllegalStateException.class, () -> pre.runToFloats(closed, ok, spec)), "closed");
    }

    @Test
    void pixelsWrappedFromJavaArraysWork() {
        byte[] px = new byte[7 * 5 * 3];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i * 7);
        }
        try (DecodedImage im = DecodedImage.ofPixels("synthetic", px, 7, 5, 3, DecodedImage.ChannelOrder.RGB)) {
            ResamplePlan identity = ResamplePlan.wholeImage(7, 5, 7, 5, 0, 0, 7, 5, Interpolation.BICUBIC, false);
            byte[] out = new CpuPreprocessor(1).runToBytes(im, identity, OutputSpec.rgbBytes(7, 5));
            assertArrayEquals(px, out, "an identity resize returns the pixels");
        }
        assertThrows(IllegalArgumentException.class,
                () -> DecodedImage.ofPixels("bad", new byte[10], 7, 5, 3, DecodedImage.ChannelOrder.RGB));
    }

    private static void assertMessage(Exception e, String part) {
        assertTrue(e.getMessage() != null && e.getMessage().contains(part),
                "message should mention '" + part + "': " + e.getMessage());
        assertEquals(false, e.getMessage().isBlank());
    }
}
