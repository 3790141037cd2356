package org.fixres4j.report;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.function.IntSupplier;

import org.bytedeco.pytorch.global.torch;
import org.fixres4j.TestData;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.torch.Torch;
import org.fixres4j.weights.SafeTensors;
import org.fixres4j.weights.StateDict;
import org.fixres4j.weights.TensorData;

/**
 * Tiny evaluation fixtures made from the repository's real photos (tests/data): class folders, ImageNet-V2 and ReaL
 * layouts, a corrupt file, and B0 weights (seeded random with timm's init, or with a constant prediction).
 */
public final class EvalFixtures {
    /** The architecture of the fixture weights (timm's native B0: symmetric padding). */
    public static final String ARCH = "efficientnet_b0";

    /** Real photos of several sizes and kinds (JPEG, PNG; landscape, portrait, gray, RGBA, odd sizes). */
    public static final List<String> PHOTOS = List.of("decode/photo.jpg", "preprocess/sources/landscape_500x375.png",
            "preprocess/sources/portrait_333x500.png", "preprocess/sources/odd_301x227.png",
            "preprocess/sources/small_150x100.png", "preprocess/sources/gray_257x193.png",
            "preprocess/sources/rgba_211x160.png", "preprocess/sources/odd_97x61.png");

    private EvalFixtures() {}

    /** ReaL labels for {@link #imageFolder(Path, boolean, boolean)} with ReaL names: entry i is dataset sample i. */
    public static final String REAL_JSON = "[[2],[0,2],[1],[],[0],[0],[1,2]]";

    /**
     * Three classes {@code ant, bee, cat} with two photos each: {@code ant/a1.jpg, ant/a2.png, bee/b1.png,
     * bee/b2.png, cat/c1.png, cat/c2.png}; with {@code corrupt}, also {@code bee/b3_corrupt.jpg} (not an image), which
     * is dataset index 4.
     */
    public static Path imageFolder(Path root, boolean corrupt) throws IOException {
        return imageFolder(root, corrupt, false);
    }

    /**
     * {@link #imageFolder(Path, boolean)}, or with {@code realNames} the same files named
     * {@code ILSVRC2012_val_00000001.JPEG} .. in dataset order (the corrupt one is {@code ..._00000005.JPEG}), so that
     * {@link #REAL_JSON} gives sample i its ReaL labels.
     */
    public static Path imageFolder(Path root, boolean corrupt, boolean realNames) throws IOException {
        String[][] files = {{"ant", "a1.jpg", PHOTOS.get(0)}, {"ant", "a2.png", PHOTOS.get(1)},
            {"bee", "b1.png", PHOTOS.get(2)}, {"bee", "b2.png", PHOTOS.get(3)}, {"bee", "b3_corrupt.jpg", null},
            {"cat", "c1.png", PHOTOS.get(4)}, {"cat", "c2.png", PHOTOS.get(5)}};
        int n = 0;
        for (String[] f : files) {
            if (f[2] == null && !corrupt) {
                continue;
            }
            n++;
            Path to = root.resolve(f[0]).resolve(realNames ? String.format("ILSVRC2012_val_%08d.JPEG", n) : f[1]);
            if (f[2] == null) {
                corrupt(to);
            } else {
                copy(f[2], to);
            }
        }
        return root;
    }

    /** A file with an image extension that holds no image. */
    public static Path corrupt(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.writeString(file, "this is not an image, whatever its extension says\n");
    }

    /** Copies tests/data/{@code relative} to {@code to}. */
    public static Path copy(String relative, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        return Files.copy(TestData.path(relative), to, StandardCopyOption.REPLACE_EXISTING);
    }

    /** A B0 with {@code classes} outputs, seeded random weights (timm's init), saved as safetensors. */
    public static Path randomWeights(Path file, int classes, long seed) throws IOException {
        Torch.ensureLoaded();
        torch.manual_seed(seed);
        try (EfficientNet m = ModelRegistry.create(ARCH, classes)) {
            m.initTimm();
            SafeTensors.write(file, m.stateDict());
        }
        return file;
    }

    /**
     * A B0 with {@code classes} outputs that predicts {@code predicted} for every image: classifier weight 0, bias 10
     * at {@code predicted} and 0 elsewhere (so the ranking is {@code predicted, 0, 1, 2, ...}).
     */
    public static Path constantWeights(Path file, int classes, int predicted) throws IOException {
        Torch.ensureLoaded();
        torch.manual_seed(1);
        try (EfficientNet m = ModelRegistry.create(ARCH, classes)) {
            m.initTimm();
            StateDict sd = m.stateDict();
            long features = sd.get("classifier.weight").shape()[1];
            sd.put("classifier.weight", TensorData.ofFloats(new long[] {classes, features},
                    new float[(int) (classes * features)]));
            float[] bias = new float[classes];
            bias[predicted] = 10f;
            sd.put("classifier.bias", TensorData.ofFloats(new long[] {classes}, bias));
            SafeTensors.write(file, sd);
        }
        return file;
    }

    /** What a CLI run printed and returned. */
    public record Run(int code, String out, String err) {}

    /** Runs {@code main} with stdout and stderr captured. */
    public static synchronized Run capture(IntSupplier main) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = main.getAsInt();
        } finally {
            System.out.flush();
            System.err.flush();
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
