package org.fixres4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ReaL labels: the file format, matching by base name, and clear errors for other datasets. */
class RealLabelsTest {
    @TempDir
    Path dir;

    private static final String JSON = "[[0], [], [2, 7], [999], [3]]";

    @Test
    void parsesAndNamesEntries() throws IOException {
        RealLabels real = RealLabels.read(Files.writeString(dir.resolve("real.json"), JSON));
        assertEquals(5, real.size());
        assertEquals(1, real.emptyCount());
        assertArrayEquals(new int[] {2, 7}, real.labels(2));
        assertEquals("ILSVRC2012_val_00000001.JPEG", RealLabels.fileName(0));
        assertEquals("ILSVRC2012_val_00050000.JPEG", RealLabels.fileName(49_999));
        assertEquals(2, real.indexOf("ILSVRC2012_val_00000003.JPEG"));
        assertEquals(2, real.indexOf("ILSVRC2012_val_00000003.png"));
        assertEquals(-1, real.indexOf("ILSVRC2012_val_00000006.JPEG"), "beyond the file");
        assertEquals(-1, real.indexOf("ILSVRC2012_val_00000000.JPEG"));
        assertEquals(-1, real.indexOf("ILSVRC2012_val_0000003.JPEG"));
        assertEquals(-1, real.indexOf("x_ILSVRC2012_val_00000003.JPEG"));
    }

    @Test
    void alignsAClassFolderValidationSetByBaseName() throws IOException {
        Path val = dir.resolve("val");
        // ImageNet val in class folders: the class folders reorder the files; matching is by base name
        DatasetFixtures.touch(val.resolve("n01/ILSVRC2012_val_00000004.JPEG"));
        DatasetFixtures.touch(val.resolve("n01/ILSVRC2012_val_00000002.JPEG"));
        DatasetFixtures.touch(val.resolve("n02/ILSVRC2012_val_00000001.JPEG"));
        DatasetFixtures.touch(val.resolve("n02/ILSVRC2012_val_00000003.JPEG"));
        FileDataset d = ImageFolder.read(val);
        RealLabels.Aligned a = RealLabels.parse(JSON).align(d);
        assertEquals(4, a.size());
        assertArrayEquals(new int[] {}, a.of(0));        // ..._00000002: empty, not scored
        assertArrayEquals(new int[] {999}, a.of(1));     // ..._00000004
        assertArrayEquals(new int[] {0}, a.of(2));       // ..._00000001
        assertArrayEquals(new int[] {2, 7}, a.of(3));    // ..._00000003
        assertEquals(1, a.emptyCount());
        // a subset aligns too
        RealLabels.Aligned sub = RealLabels.parse(JSON).align(Subsets.first(d, 1));
        assertEquals(1, sub.size());
    }

    @Test
    void otherFileNamesAreAClearError() throws IOException {
        Path v2 = dir.resolve("v2");
        DatasetFixtures.touch(v2.resolve("0/7e3f.jpeg"));
        DatasetFixtures.touch(v2.resolve("1/ILSVRC2012_val_00000001.JPEG"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RealLabels.parse(JSON).align(ImageFolder.readImageNetV2(v2)));
        assertTrue(e.getMessage().startsWith("1 of 2 samples"), e.getMessage());
        assertTrue(e.getMessage().contains("7e3f.jpeg") && e.getMessage().contains("ILSVRC2012_val_NNNNNNNN.JPEG"),
                e.getMessage());

        Path dup = dir.resolve("dup");
        DatasetFixtures.touch(dup.resolve("a/ILSVRC2012_val_00000001.JPEG"));
        DatasetFixtures.touch(dup.resolve("b/ILSVRC2012_val_00000001.png"));
        e = assertThrows(IllegalArgumentException.class, () -> RealLabels.parse(JSON).align(ImageFolder.read(dup)));
        assertTrue(e.getMessage().contains("both match ReaL entry ILSVRC2012_val_00000001.JPEG"), e.getMessage());
    }

    @Test
    void badJsonIsAClearError() throws IOException {
        IOException e = assertThrows(IOException.class,
                () -> RealLabels.read(Files.writeString(dir.resolve("a.json"), "{\"a\": 1}")));
        assertTrue(e.getMessage().contains("expected a JSON array"), e.getMessage());
        e = assertThrows(IOException.class,
                () -> RealLabels.read(Files.writeString(dir.resolve("b.json"), "[[1], [1000]]")));
        assertTrue(e.getMessage().contains("entry 1 (ILSVRC2012_val_00000002.JPEG) holds 1000"), e.getMessage());
        e = assertThrows(IOException.class,
                () -> RealLabels.read(Files.writeString(dir.resolve("c.json"), "[[1], 2]")));
        assertTrue(e.getMessage().contains("entry 1") && e.getMessage().contains("not a list"), e.getMessage());
        e = assertThrows(IOException.class,
                () -> RealLabels.read(Files.writeString(dir.resolve("d.json"), "[[1]")));
        assertTrue(e.getMessage().contains("d.json"), e.getMessage());
    }
}
