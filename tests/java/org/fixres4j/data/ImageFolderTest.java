package org.fixres4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Class-folder datasets: ImageNet-style ordering and ImageNet-V2's integer folder names. */
class ImageFolderTest {
    @TempDir
    Path dir;

    private static List<String> relative(Path root, FileDataset d) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < d.size(); i++) {
            out.add(root.relativize(d.path(i)).toString().replace('\\', '/'));
        }
        return out;
    }

    @Test
    void classesAndFilesAreSortedAsPythonSortsThem() throws IOException {
        Path root = dir.resolve("train");
        // Python: sorted(['n02', 'N01', 'n01', '_x']) == ['N01', '_x', 'n01', 'n02'] (by code point)
        for (String f : List.of("n02/b.jpg", "n02/A.JPEG", "n01/z.png", "n01/a.PNG", "n01/sub/c.webp",
                "n01/m.Bmp", "N01/x.jpeg", "_x/y.jpg")) {
            DatasetFixtures.touch(root.resolve(f));
        }
        DatasetFixtures.touch(root.resolve("n01/notes.txt"));
        DatasetFixtures.touch(root.resolve("n02/.DS_Store"));
        DatasetFixtures.touch(root.resolve("README"));       // files in the root are not classes
        FileDataset d = ImageFolder.read(root);
        assertEquals(List.of("N01", "_x", "n01", "n02"), d.classNames());
        // torchvision order: folders by relative path ("" < "sub"), files by name within a folder
        assertEquals(List.of("N01/x.jpeg", "_x/y.jpg", "n01/a.PNG", "n01/m.Bmp", "n01/z.png", "n01/sub/c.webp",
                "n02/A.JPEG", "n02/b.jpg"), relative(root, d));
        assertArrayEquals(new int[] {0, 1, 2, 2, 2, 2, 3, 3}, d.labels());
        assertEquals(2, d.ignoredFiles());
        assertEquals(8, d.size());
        Sample s = d.get(2);
        assertEquals(root.resolve("n01/a.PNG"), s.path());
        assertEquals(2, s.label());
        assertEquals("a.PNG", s.baseName());
        assertTrue(d.describe().contains("8 images") && d.describe().contains("4 classes"), d.describe());
        assertThrows(IndexOutOfBoundsException.class, () -> d.get(8));
    }

    @Test
    void codePointOrderDiffersFromUtf16WhereItMatters() {
        // U+FF21 (fullwidth A) sorts after U+1F600 in UTF-16 units, before it by code point (as Python does)
        String bmp = "\uFF21";
        String astral = new String(Character.toChars(0x1F600));
        assertTrue(bmp.compareTo(astral) > 0, "String.compareTo compares UTF-16 units");
        assertTrue(ImageFolder.PYTHON_ORDER.compare(bmp, astral) < 0);
        assertTrue(ImageFolder.PYTHON_ORDER.compare("ab", "abc") < 0);
        assertEquals(0, ImageFolder.PYTHON_ORDER.compare("n01", "n01"));
    }

    @Test
    void givenClassListKeepsTheGlobalLabels() throws IOException {
        Path root = dir.resolve("val");
        DatasetFixtures.touch(root.resolve("n03/a.jpg"));
        DatasetFixtures.touch(root.resolve("n01/a.jpg"));
        List<String> all = List.of("n00", "n01", "n02", "n03");
        FileDataset d = ImageFolder.read(root, all);
        assertEquals(all, d.classNames());
        assertArrayEquals(new int[] {1, 3}, d.labels());
        DatasetFixtures.touch(root.resolve("n09/a.jpg"));
        IOException e = assertThrows(IOException.class, () -> ImageFolder.read(root, all));
        assertTrue(e.getMessage().contains("'n09'"), e.getMessage());
    }

    @Test
    void emptyAndMissingFoldersAreClearErrors() throws IOException {
        Path root = dir.resolve("ds");
        DatasetFixtures.touch(root.resolve("a/x.jpg"));
        DatasetFixtures.touch(root.resolve("b/readme.txt"));
        IOException e = assertThrows(IOException.class, () -> ImageFolder.read(root));
        assertTrue(e.getMessage().contains("'b'") && e.getMessage().contains("no image file"), e.getMessage());
        assertThrows(NoSuchFileException.class, () -> ImageFolder.read(dir.resolve("nope")));
        Path noClasses = Files.createDirectories(dir.resolve("flat"));
        DatasetFixtures.touch(noClasses.resolve("x.jpg"));
        e = assertThrows(IOException.class, () -> ImageFolder.read(noClasses));
        assertTrue(e.getMessage().contains("no class folders"), e.getMessage());
    }

    @Test
    void imageNetV2LabelsAreTheFolderIntegers() throws IOException {
        Path root = dir.resolve("imagenetv2-matched-frequency-format-val");
        for (String c : List.of("0", "1", "2", "10", "100")) {
            DatasetFixtures.touch(root.resolve(c + "/b" + c + ".jpeg"));
            DatasetFixtures.touch(root.resolve(c + "/a" + c + ".jpeg"));
        }
        FileDataset v2 = ImageFolder.readImageNetV2(root);
        assertEquals(1000, v2.numClasses());
        assertEquals("10", v2.classNames().get(10));
        assertArrayEquals(new int[] {0, 0, 1, 1, 2, 2, 10, 10, 100, 100}, v2.labels());
        assertEquals(List.of("0/a0.jpeg", "0/b0.jpeg", "1/a1.jpeg", "1/b1.jpeg", "2/a2.jpeg", "2/b2.jpeg",
                "10/a10.jpeg", "10/b10.jpeg", "100/a100.jpeg", "100/b100.jpeg"), relative(root, v2));
        // every file's label is the integer value of its folder
        for (int i = 0; i < v2.size(); i++) {
            assertEquals(Integer.parseInt(v2.path(i).getParent().getFileName().toString()), v2.label(i));
        }
        // the trap: reading the same folders as strings gives '10' label 2 and '2' label 4
        FileDataset wrong = ImageFolder.read(root);
        assertEquals(List.of("0", "1", "10", "100", "2"), wrong.classNames());
        assertEquals(root.resolve("10/a10.jpeg"), wrong.path(4));
        assertEquals(2, wrong.label(4));
        assertEquals(root.resolve("2/a2.jpeg"), wrong.path(8));
        assertEquals(4, wrong.label(8));
    }

    @Test
    void imageNetV2WithSynsetNamesAndBadFolders() throws IOException {
        Path root = dir.resolve("v2");
        DatasetFixtures.touch(root.resolve("1/x.jpeg"));
        DatasetFixtures.touch(root.resolve("0/x.jpeg"));
        FileDataset d = ImageFolder.readImageNetV2(root, List.of("n01440764", "n01443537", "n01484850"));
        assertEquals(List.of("n01440764", "n01443537", "n01484850"), d.classNames());
        assertArrayEquals(new int[] {0, 1}, d.labels());
        DatasetFixtures.touch(root.resolve("3/x.jpeg"));
        IOException e = assertThrows(IOException.class,
                () -> ImageFolder.readImageNetV2(root, List.of("a", "b", "c")));
        assertTrue(e.getMessage().contains("'3'") && e.getMessage().contains("0..2"), e.getMessage());
        DatasetFixtures.touch(root.resolve("03/x.jpeg"));
        e = assertThrows(IOException.class, () -> ImageFolder.readImageNetV2(root));
        assertTrue(e.getMessage().contains("both name class 3"), e.getMessage());
        Path bad = dir.resolve("v2bad");
        DatasetFixtures.touch(bad.resolve("n01440764/x.jpeg"));
        e = assertThrows(IOException.class, () -> ImageFolder.readImageNetV2(bad));
        assertTrue(e.getMessage().contains("named by their class index"), e.getMessage());
    }

    @Test
    void linkedFoldersAreFollowedAndLoopsReported() throws IOException {
        Path root = dir.resolve("links");
        DatasetFixtures.touch(dir.resolve("elsewhere/b.jpg"));
        DatasetFixtures.touch(root.resolve("c/a.jpg"));
        Files.createSymbolicLink(root.resolve("c/more"), dir.resolve("elsewhere"));
        Files.createSymbolicLink(root.resolve("d"), dir.resolve("elsewhere"));
        FileDataset d = ImageFolder.read(root);
        assertEquals(List.of("c", "d"), d.classNames());
        assertEquals(List.of("c/a.jpg", "c/more/b.jpg", "d/b.jpg"), relative(root, d));
        Files.createSymbolicLink(root.resolve("c/loop"), root.resolve("c"));
        IOException e = assertThrows(IOException.class, () -> ImageFolder.read(root));
        assertTrue(e.getMessage().contains("symbolic-link loop"), e.getMessage());
    }

    @Test
    void imageExtensions() {
        assertTrue(ImageFolder.isImageFile("a.JPG"));
        assertTrue(ImageFolder.isImageFile("a.b.webp"));
        assertTrue(!ImageFolder.isImageFile("jpg"));
        assertTrue(!ImageFolder.isImageFile("a.tif"));
        assertTrue(!ImageFolder.isImageFile("a.jpg.txt"));
    }
}
