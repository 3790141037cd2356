package org.fixres4j.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.fixres4j.classify.Classifier;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.transform.FixResTestTransform;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.TimmEvalTransform;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The options, batching and error paths of {@link Classifier} (a tiny model; CI-sized). */
class ClassifierPathsTest {
    @TempDir
    static Path dir;

    @Test
    void optionsAreValidatedAndApplied() {
        Classifier.Options o = new Classifier.Options();
        assertThrows(IllegalArgumentException.class, () -> o.resolution(7));
        assertThrows(IllegalArgumentException.class, () -> o.cropPct(0));
        assertThrows(IllegalArgumentException.class, () -> o.cropPct(4.5));
        assertThrows(IllegalArgumentException.class, () -> o.batchSize(0));
        assertThrows(IllegalArgumentException.class, () -> o.batchSize(5000));
        assertThrows(IllegalArgumentException.class, () -> o.threads(0));
        assertThrows(NullPointerException.class, () -> o.interpolation(null));
        assertThrows(IllegalArgumentException.class, () -> Classifier.of(ReliabilityFixtures.tinyModel(),
                ReliabilityFixtures.b0Config(), new Classifier.Options().classNames(List.of("a", "b"))),
                "2 class names for 10 classes");

        try (Classifier c = Classifier.of(ReliabilityFixtures.tinyModel(), ReliabilityFixtures.b0Config(),
                new Classifier.Options().resolution(40).cropPct(1.0).interpolation(Interpolation.BILINEAR))) {
            TimmEvalTransform t = assertInstanceOf(TimmEvalTransform.class, c.transform());
            assertEquals(40, t.outputWidth());
            assertEquals(1.0, t.cropPct());
            assertEquals(Interpolation.BILINEAR, t.interpolation());
            assertEquals(10, c.labels().size());
            assertEquals("class 3", c.labels().get(3));
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            names.add("n" + i);
        }
        try (Classifier c = Classifier.of(ReliabilityFixtures.tinyModel(), ReliabilityFixtures.b0Config(),
                new Classifier.Options().resolution(36).fixresResize(true).classNames(names))) {
            assertTrue(c.transform() instanceof FixResTestTransform, c.transform().describe());
            assertEquals(36, c.transform().outputWidth());
            assertEquals(names, c.labels());
        }
    }

    static <T> T assertInstanceOf(Class<T> type, Object o) {
        assertTrue(type.isInstance(o), o + " is not a " + type.getSimpleName());
        return type.cast(o);
    }

    @Test
    void batchingDoesNotChangeTheResultsAndTopKIsConsistent() {
        SplittableRandom rng = new SplittableRandom(4);
        List<DecodedImage> images = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            images.add(ReliabilityFixtures.randomImage(rng, 20 + rng.nextInt(40), 20 + rng.nextInt(40), 3));
        }
        try (Classifier one = ReliabilityFixtures.tinyClassifier(32, 1, 1, true);
             Classifier three = Classifier.of(ReliabilityFixtures.tinyModel(), ReliabilityFixtures.b0Config(),
                     new Classifier.Options().resolution(32).batchSize(3).threads(2))) {
            float[][] a = one.logits(images);
            float[][] b = three.logits(images);
            assertEquals(7, a.length);
            for (int i = 0; i < 7; i++) {
                float max = 0;
                for (float v : a[i]) {
                    max = Math.max(max, Math.abs(v));
                }
                assertArrayEquals(a[i], b[i], 1e-5f * Math.max(1f, max), "image " + i + ": batch 1 vs batch 3");
            }
            List<List<Classifier.Prediction>> top = three.classifyImages(images, 50);
            for (int i = 0; i < 7; i++) {
                List<Classifier.Prediction> p = top.get(i);
                assertEquals(10, p.size(), "top-k above the class count is clipped");
                double sum = 0;
                for (int k = 0; k < p.size(); k++) {
                    sum += p.get(k).probability();
                    if (k > 0) {
                        assertTrue(p.get(k - 1).probability() >= p.get(k).probability(), "sorted");
                    }
                }
                assertEquals(1.0, sum, 1e-9, "the probabilities of every class sum to 1");
                assertEquals(argmax(b[i]), p.get(0).index());
            }
            assertThrows(IllegalArgumentException.class, () -> three.classifyImages(images, 0));
            assertEquals(0, three.logits(List.of()).length);
        } finally {
            images.forEach(DecodedImage::close);
        }
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void unreadableFilesAndWeightsFailWithTheirName() throws IOException {
        Path bad = dir.resolve("not-an-image.jpg");
        Files.writeString(bad, "this is text");
        Path missing = dir.resolve("missing.png");
        try (Classifier c = ReliabilityFixtures.tinyClassifier(32, 2, 1, true)) {
            IOException e = assertThrows(IOException.class, () -> c.classify(List.of(bad), 1));
            assertTrue(e.getMessage().contains("not-an-image.jpg"), e.getMessage());
            IOException m = assertThrows(IOException.class, () -> c.classify(missing, 1));
            assertTrue(m.getMessage().contains("missing.png"), m.getMessage());
        }
        // a missing weights file is refused before anything is read, naming it (the model source's argument check)
        Exception none = assertThrows(Exception.class, () -> Classifier.load("tf_efficientnet_b0",
                dir.resolve("none.safetensors"), new Classifier.Options()));
        assertTrue((none instanceof IOException || none instanceof IllegalArgumentException)
                && none.getMessage().contains("none.safetensors"), none.toString());
        Path junk = dir.resolve("junk.safetensors");
        Files.write(junk, new byte[] {1, 2, 3});
        assertThrows(IOException.class, () -> Classifier.load("tf_efficientnet_b0", junk, new Classifier.Options()));
        assertThrows(IllegalArgumentException.class, () -> Classifier.load("no_such_model", junk,
                new Classifier.Options()));
    }
}
