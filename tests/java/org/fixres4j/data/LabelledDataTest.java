package org.fixres4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening an evaluation dataset: layouts, the mapping onto the model's class names, limits, refusals. */
class LabelledDataTest {
    @TempDir
    Path dir;

    private Path folder() throws IOException {
        Path root = dir.resolve("ds");
        for (String c : List.of("cat", "dog")) {
            Path d = Files.createDirectories(root.resolve(c));
            for (int i = 0; i < 3; i++) {
                Files.write(d.resolve(i + ".png"), new byte[] {1});
            }
        }
        return root;
    }

    private static LabelledData.Spec spec(String layout, Integer limit) {
        return new LabelledData.Spec(layout, null, "test", null, limit, "stratified", 0);
    }

    @Test
    void folderNamesTakeTheModelsClassIndices() throws IOException {
        ByteArrayOutputStream warn = new ByteArrayOutputStream();
        LabelledData d = LabelledData.open(folder(), spec("image-folder", null), List.of("bird", "cat", "dog"),
                Path.of("m.safetensors"), new PrintStream(warn, true, StandardCharsets.UTF_8));
        assertEquals("imagefolder", d.layout());
        assertEquals(List.of("bird", "cat", "dog"), d.dataset().classNames());
        assertEquals(6, d.dataset().size());
        assertFalse(d.classList());
        assertNull(d.limitMode());
        assertTrue(warn.toString(StandardCharsets.UTF_8).contains("label names mapped to the model's class indices"),
                warn.toString(StandardCharsets.UTF_8));
    }

    @Test
    void anUnrelatedModelGetsAWarningAndTheLimitApplies() throws IOException {
        ByteArrayOutputStream warn = new ByteArrayOutputStream();
        LabelledData d = LabelledData.open(folder(), spec("imagefolder", 4), List.of("car", "bus"),
                Path.of("m.safetensors"), new PrintStream(warn, true, StandardCharsets.UTF_8));
        assertEquals(List.of("cat", "dog"), d.dataset().classNames());
        assertEquals(4, d.dataset().size());
        assertEquals("stratified", d.limitMode());
        assertTrue(warn.toString(StandardCharsets.UTF_8).contains("are not the model's"),
                warn.toString(StandardCharsets.UTF_8));
    }

    @Test
    void refusals() throws IOException {
        Path root = folder();
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LabelledData.open(root, spec("csv", null), List.of(), null, quiet));
        assertTrue(e.getMessage().startsWith("--layout csv expects a CSV file"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> LabelledData.open(root, spec("tar", null), List.of(), null, quiet));
        assertEquals("--layout must be imagefolder, imagenetv2, fashion-mnist or csv, got 'tar'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> LabelledData.open(root, spec("imagefolder", 0), List.of(), null, quiet));
        assertEquals("--limit must be >= 1, got 0", e.getMessage());
        Path empty = Files.writeString(dir.resolve("classes.txt"), "\n\n");
        assertThrows(IOException.class, () -> LabelledData.readClassList(empty));
    }
}
