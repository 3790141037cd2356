package org.fixres4j.fuzz;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import javax.imageio.ImageIO;

import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.ImageDecoder;
import org.fixres4j.preprocess.CpuPreprocessor;
import org.fixres4j.preprocess.OutputSpec;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.ResamplePlan;
import org.fixres4j.weights.PthReader;
import org.fixres4j.weights.SafeTensors;
import org.fixres4j.weights.TensorData;

/**
 * Random mutations of valid files fed to the decoders and readers: JPEG and PNG to {@link ImageDecoder} (then the
 * decoded image through the CPU preprocessing kernel), safetensors to {@link SafeTensors}, {@code .pth} pickles to
 * {@link PthReader}. A mutated file may be valid or not; either way the reader must return a result or throw an
 * {@link IOException}, {@link IllegalArgumentException} or {@link IllegalStateException}. Any other exception, any
 * {@link Error} (out of memory, stack overflow) is a wrong outcome; a JVM crash is the parent's to see; an input
 * that takes longer than the watchdog's limit is saved and ends the run with exit status 3.
 */
final class FileFuzz {
    private static final long[] INTERESTING = {0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFFL,
        0x80000000L, 0xFFFFFFFFL, Long.MAX_VALUE, -1, 1L << 32, 1L << 40};

    private final SplittableRandom rng;
    private final FuzzReport report;
    private final Path work;
    private final Watchdog watchdog;
    private final Map<String, List<byte[]>> seeds = new LinkedHashMap<>();

    FileFuzz(SplittableRandom rng, FuzzReport report, Path work, Watchdog watchdog) {
        this.rng = rng;
        this.report = report;
        this.work = work;
        this.watchdog = watchdog;
    }

    /** Seeds: generated PNG/JPEG/safetensors files, plus every small matching file under {@code corpus}. */
    void loadSeeds(Path corpus) throws IOException {
        for (String kind : List.of("jpeg", "png", "safetensors", "pth")) {
            seeds.put(kind, new ArrayList<>());
        }
        for (int i = 0; i < 6; i++) {
            int w = 1 + rng.nextInt(40);
            int h = 1 + rng.nextInt(40);
            int type = new int[] {BufferedImage.TYPE_BYTE_GRAY, BufferedImage.TYPE_3BYTE_BGR,
                BufferedImage.TYPE_4BYTE_ABGR}[i % 3];
            BufferedImage img = new BufferedImage(w, h, type);
            byte[] px = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
            rng.nextBytes(px);
            for (String format : List.of("png", "jpeg")) {
                if (format.equals("jpeg") && type == BufferedImage.TYPE_4BYTE_ABGR) {
                    continue;
                }
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                if (!ImageIO.write(img, format, out)) {
                    throw new IOException("no ImageIO writer for " + format);
                }
                seeds.get(format).add(out.toByteArray());
            }
        }
        for (int i = 0; i < 3; i++) {
            Map<String, TensorData> t = new LinkedHashMap<>();
            t.put("conv.weight", TensorData.ofFloats(new long[] {2, 1, 3, 3}, new float[18]));
            t.put("bn.num_batches_tracked", TensorData.ofLongs(new long[] {}, 7L));
            t.put("fc.bias", TensorData.ofFloats(new long[] {1 + i}, new float[1 + i]));
            seeds.get("safetensors").add(SafeTensors.toBytes(t, Map.of("format", "pt")));
        }
        if (corpus != null && Files.isDirectory(corpus)) {
            try (Stream<Path> files = Files.walk(corpus)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    String name = f.getFileName().toString().toLowerCase(Locale.ROOT);
                    if (!Files.isRegularFile(f) || Files.size(f) > 2_000_000) {
                        continue;
                    }
                    String kind = name.endsWith(".jpg") || name.endsWith(".jpeg") ? "jpeg"
                            : name.endsWith(".png") ? "png" : name.endsWith(".safetensors") ? "safetensors"
                            : name.endsWith(".pth") || name.endsWith(".pt") ? "pth" : null;
                    if (kind != null) {
                        seeds.get(kind).add(Files.readAllBytes(f));
                    }
                }
            }
        }
    }

    Map<String, Integer> seedCounts() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        seeds.forEach((k, v) -> counts.put(k, v.size()));
        return counts;
    }

    /** 1 to 4 random edits of a seed; {@code ops} receives a description of each (to reproduce it). */
    byte[] mutate(List<byte[]> pool, StringBuilder ops) {
        int si = rng.nextInt(pool.size());
        byte[] b = pool.get(si).clone();
        ops.append("seed ").append(si);
        int edits = 1 + rng.nextInt(4);
        for (int e = 0; e < edits; e++) {
            if (b.length == 0) {
                b = new byte[] {(byte) rng.nextInt()};
            }
            int at = rng.nextInt(b.length);
            switch (rng.nextInt(8)) {
                case 0:
                    b[at] ^= (byte) (1 << rng.nextInt(8));
                    ops.append("; flip@").append(at);
                    break;
                case 1:
                    b[at] = (byte) INTERESTING[rng.nextInt(5)];
                    ops.append("; byte@").append(at);
                    break;
                case 2: { // an interesting 32- or 64-bit value, either byte order (sizes, lengths, offsets)
                    long v = INTERESTING[rng.nextInt(INTERESTING.length)];
                    int width = rng.nextBoolean() ? 4 : 8;
                    boolean big = rng.nextBoolean();
                    for (int k = 0; k < width && at + k < b.length; k++) {
                        int shift = 8 * (big ? width - 1 - k : k);
                        b[at + k] = (byte) (v >>> shift);
                    }
                    ops.append("; int").append(width * 8).append(big ? "be" : "le").append('@').append(at);
                    break;
                }
                case 3:
                    b = Arrays.copyOf(b, at);
                    ops.append("; truncate@").append(at);
                    break;
                case 4: {
                    int len = 1 + rng.nextInt(64);
                    byte[] extra = new byte[len];
                    rng.nextBytes(extra);
                    byte[] nb = new byte[b.length + len];
                    System.arraycopy(b, 0, nb, 0, at);
                    System.arraycopy(extra, 0, nb, at, len);
                    System.arraycopy(b, at, nb, at + len, b.length - at);
                    b = nb;
                    ops.append("; insert").append(len).append('@').append(at);
                    break;
                }
                case 5: {
                    int len = Math.min(b.length - at, 1 + rng.nextInt(64));
                    byte[] nb = new byte[b.length - len];
                    System.arraycopy(b, 0, nb, 0, at);
                    System.arraycopy(b, at + len, nb, at, b.length - at - len);
                    b = nb;
                    ops.append("; delete").append(len).append('@').append(at);
                    break;
                }
                case 6: { // duplicate a chunk
                    int len = Math.min(b.length - at, 1 + rng.nextInt(256));
                    byte[] nb = new byte[b.length + len];
                    System.arraycopy(b, 0, nb, 0, at + len);
                    System.arraycopy(b, at, nb, at + len, b.length - at);
                    b = nb;
                    ops.append("; dup").append(len).append('@').append(at);
                    break;
                }
                default: { // splice the tail of another seed of the same kind
                    byte[] other = pool.get(rng.nextInt(pool.size()));
                    int from = rng.nextInt(Math.max(1, other.length));
                    byte[] nb = Arrays.copyOf(b, at + other.length - Math.min(from, other.length));
                    System.arraycopy(other, Math.min(from, other.length), nb, at, other.length - Math.min(from,
                            other.length));
                    b = nb;
                    ops.append("; splice@").append(at);
                }
            }
        }
        return b;
    }

    private static boolean acceptable(Throwable t) {
        return t instanceof IOException || t instanceof UncheckedIOException || t instanceof IllegalArgumentException
                || t instanceof IllegalStateException;
    }

    private static String describe(Throwable t) {
        String m = String.valueOf(t.getMessage());
        return t.getClass().getSimpleName() + ": " + (m.length() > 160 ? m.substring(0, 160) + "..." : m);
    }

    void images(String kind, long iterations) {
        List<byte[]> pool = seeds.get(kind);
        if (pool.isEmpty()) {
            return;
        }
        CpuPreprocessor pre = new CpuPreprocessor(1);
        OutputSpec spec = OutputSpec.rgbBytes(8, 8);
        String family = "file.decode_" + kind;
        for (long i = 0; i < iterations; i++) {
            StringBuilder ops = new StringBuilder();
            byte[] bytes = mutate(pool, ops);
            watchdog.enter(family, i, bytes);
            try (DecodedImage im = ImageDecoder.decode(bytes, "fuzz-" + i + "." + kind)) {
                ResamplePlan plan = ResamplePlan.wholeImage(im.width(), im.height(), 8, 8, 0, 0, 8, 8,
                        Interpolation.BICUBIC, false);
                byte[] out = pre.runToBytes(im, plan, spec);
                report.either(family, i, ops.toString(), true, out.length == 8 * 8 * 3,
                        "decoded " + im.width() + "x" + im.height() + "x" + im.channels());
            } catch (Throwable t) {
                report.either(family, i, ops.toString(), false, acceptable(t), describe(t));
                if (t instanceof VirtualMachineError) {
                    throw (VirtualMachineError) t;
                }
            } finally {
                watchdog.exit();
            }
        }
    }

    void weights(String kind, long iterations) throws IOException {
        List<byte[]> pool = seeds.get(kind);
        if (pool.isEmpty()) {
            return;
        }
        String family = "file.read_" + kind;
        Path file = work.resolve("fuzz." + kind);
        for (long i = 0; i < iterations; i++) {
            StringBuilder ops = new StringBuilder();
            byte[] bytes = mutate(pool, ops);
            Files.write(file, bytes);
            watchdog.enter(family, i, bytes);
            try {
                int tensors = kind.equals("safetensors") ? SafeTensors.read(file).size() : PthReader.read(file).size();
                report.either(family, i, ops.toString(), true, true, "read " + tensors + " tensors");
            } catch (Throwable t) {
                report.either(family, i, ops.toString(), false, acceptable(t), describe(t));
                if (t instanceof VirtualMachineError) {
                    throw (VirtualMachineError) t;
                }
            } finally {
                watchdog.exit();
            }
        }
        Files.deleteIfExists(file);
    }
}
