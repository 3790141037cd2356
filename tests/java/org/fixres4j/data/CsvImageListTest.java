package org.fixres4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** path,label CSV datasets: header detection, quoting, relative paths, label kinds and errors with line numbers. */
class CsvImageListTest {
    @TempDir
    Path dir;

    @BeforeEach
    void files() throws IOException {
        DatasetFixtures.touch(dir.resolve("img/a.jpg"));
        DatasetFixtures.touch(dir.resolve("img/b, \"c\".png"));
        DatasetFixtures.touch(dir.resolve("img/d.png"));
    }

    private Path csv(String text) throws IOException {
        return Files.writeString(dir.resolve("list.csv"), text, StandardCharsets.UTF_8);
    }

    @Test
    void headerQuotesCrlfBomAndBlankLines() throws IOException {
        Path abs = dir.resolve("img/d.png").toAbsolutePath();
        FileDataset d = CsvImageList.read(csv("\uFEFFPath , LABEL\r\n"
                + "img/a.jpg,2\r\n"
                + "\r\n"
                + "\"img/b, \"\"c\"\".png\", 0\r\n"
                + abs + ",1"));
        assertEquals(3, d.size());
        assertEquals(dir.resolve("img/a.jpg"), d.path(0));
        assertEquals(dir.resolve("img/b, \"c\".png"), d.path(1));
        assertEquals(abs, d.path(2));
        assertArrayEquals(new int[] {2, 0, 1}, d.labels());
        assertEquals(List.of("0", "1", "2"), d.classNames());
    }

    @Test
    void withoutHeaderAndWithNamedLabels() throws IOException {
        FileDataset d = CsvImageList.read(csv("img/a.jpg,dog\nimg/d.png,Cat\nimg/a.jpg,cat\n"));
        assertEquals(List.of("Cat", "cat", "dog"), d.classNames());
        assertArrayEquals(new int[] {2, 0, 1}, d.labels());
        FileDataset given = CsvImageList.read(csv("img/a.jpg,dog\nimg/d.png,cat\n"), List.of("cat", "dog", "eel"));
        assertArrayEquals(new int[] {1, 0}, given.labels());
        assertEquals(3, given.numClasses());
        FileDataset numeric = CsvImageList.read(csv("img/a.jpg,1\n"), List.of("cat", "dog", "eel"));
        assertArrayEquals(new int[] {1}, numeric.labels());
    }

    @Test
    void quotedFieldsMaySpanLines() throws IOException {
        DatasetFixtures.touch(dir.resolve("img/two\nlines.png"));
        FileDataset d = CsvImageList.read(csv("\"img/two\nlines.png\",0\nimg/a.jpg,1\n"));
        assertEquals(dir.resolve("img/two\nlines.png"), d.path(0));
        IOException e = assertThrows(IOException.class,
                () -> CsvImageList.read(csv("\"img/two\nlines.png\",0\nimg/a.jpg,1,x\n")));
        assertTrue(e.getMessage().endsWith("line 3: expected 2 fields (path,label), got 3"), e.getMessage());
    }

    @Test
    void errorsNameTheFileAndLine() throws IOException {
        assertError("path,label\nimg/a.jpg,0\nimg/missing.jpg,1\n", "line 3: no such file");
        assertError("img/a.jpg\n", "line 1: expected 2 fields");
        assertError("img/a.jpg,0\n\n\"img/a.jpg,1\n", "line 3: unterminated quoted field");
        assertError("img/a.jpg,0\nimg/\"a\".jpg,1\n", "line 2: a quote inside an unquoted field");
        assertError("img/a.jpg,0\n\"img/a.jpg\"x,1\n", "line 2: unexpected character 'x'");
        assertError("img/a.jpg,0\n,1\n", "line 2: empty path");
        assertError("path,label\n", "no data rows");
        IOException e = assertThrows(IOException.class,
                () -> CsvImageList.read(csv("img/a.jpg,0\nimg/d.png,7\n"), List.of("a", "b")));
        assertTrue(e.getMessage().contains("line 2: label 7 is outside 0..1"), e.getMessage());
        e = assertThrows(IOException.class,
                () -> CsvImageList.read(csv("img/a.jpg,cat\nimg/d.png,emu\n"), List.of("cat", "dog")));
        assertTrue(e.getMessage().contains("line 2: label 'emu' is not one of the 2 given class names"),
                e.getMessage());
        assertError("img/a.jpg,cat\nimg/d.png, \n", "line 2: empty label");
    }

    @Test
    void aFifoIsASampleForTheLoaderToSkipButAFolderIsAnErrorAndTheListMustBeARegularFile() throws Exception {
        Path fifo = dir.resolve("img/zz.png");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        FileDataset ds = CsvImageList.read(csv("img/a.jpg,0\nimg/zz.png,1\n"));
        assertEquals(2, ds.size());
        assertEquals(fifo, ds.path(1));
        IOException e = assertThrows(IOException.class, () -> ds.get(1).decode());
        assertTrue(e.getMessage().contains("zz.png") && e.getMessage().contains("not a regular file"),
                e.getMessage());
        assertError("img/a.jpg,0\nimg,1\n", "line 2: a directory");
        Path listFifo = dir.resolve("list-fifo.csv");
        assertEquals(0, new ProcessBuilder("mkfifo", listFifo.toString()).start().waitFor());
        IOException l = assertThrows(IOException.class, () -> CsvImageList.read(listFifo));
        assertTrue(l.getMessage().contains("not a regular file"), l.getMessage());
    }

    private void assertError(String text, String expected) throws IOException {
        Path f = csv(text);
        IOException e = assertThrows(IOException.class, () -> CsvImageList.read(f));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
