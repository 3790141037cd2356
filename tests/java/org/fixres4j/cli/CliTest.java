package org.fixres4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.fixres4j.TestData;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.ImageDecoder;
import org.fixres4j.io.Npy;
import org.fixres4j.preprocess.CpuPreprocessor;
import org.fixres4j.preprocess.OutputSpec;
import org.fixres4j.transform.TimmEvalTransform;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI on real files: {@code preprocess} output, and bad input that must leave existing output untouched. */
class CliTest {
    @Test
    void preprocessWritesTimmInputAsNpy(@TempDir Path dir) throws IOException {
        Path a = TestData.path("preprocess/sources/landscape_500x375.png");
        Path b = TestData.path("decode/photo.jpg");
        Path out = dir.resolve("x.npy");
        assertEquals(0, Main.execute("preprocess", "--res", "96", "--threads", "2", "--out", out.toString(),
                a.toString(), b.toString()));
        Npy.Array arr = Npy.read(out);
        assertArrayEquals(new long[] {2, 3, 96, 96}, arr.shape());
        assertEquals("<f4", arr.dtype());
        float[] values = arr.toFloatArray();
        TimmEvalTransform t = TimmEvalTransform.of(96);
        CpuPreprocessor pre = new CpuPreprocessor(1);
        int n = 3 * 96 * 96;
        Path[] files = {a, b};
        for (int i = 0; i < 2; i++) {
            try (DecodedImage im = ImageDecoder.decode(files[i])) {
                float[] want = pre.runToFloats(im, t.plan(im.width(), im.height(), null),
                        OutputSpec.nchwFloat(96, 96, t.normalization()));
                assertArrayEquals(want, java.util.Arrays.copyOfRange(values, i * n, (i + 1) * n), 0f);
            }
        }
    }

    @Test
    void badInputFailsCleanlyAndKeepsExistingOutput(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("keep.npy");
        Files.write(out, new byte[] {1, 2, 3});
        Path junk = dir.resolve("junk.jpg");
        Files.writeString(junk, "not an image");
        Path good = TestData.path("decode/photo.jpg");
        assertEquals(1, Main.execute("preprocess", "--res", "64", "--out", out.toString(), good.toString(),
                junk.toString()));
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(out), "existing output untouched");
        assertEquals(2, Main.execute("preprocess", "--res", "64", "--out", out.toString(),
                dir.resolve("missing.jpg").toString()));
        assertEquals(2, Main.execute("preprocess", "--res", "64", "--interpolation", "lanczos", "--out",
                out.toString(), good.toString()));
        assertEquals(2, Main.execute("preprocess", "--res", "64", "--mean", "0.5,0.5", "--out", out.toString(),
                good.toString()));
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(out));
        try (var files = Files.list(dir)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary left");
        }
    }

    @Test
    void infoReportsBackends() {
        assertEquals(0, Main.execute("info"));
    }

    @Test
    void demoRunsOnTheBundledPhoto(@TempDir Path dir) throws IOException {
        assertEquals(0, Main.execute("demo", "preprocess", "--quick", "--out-dir", dir.toString()));
        assertTrue(Files.size(dir.resolve("timm_224.png")) > 1000);
        assertTrue(Files.readString(dir.resolve("demo.json")).contains("\"timm_224\""));
    }
}
