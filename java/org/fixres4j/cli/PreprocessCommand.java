package org.fixres4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.bytedeco.javacpp.FloatPointer;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.ImageDecoder;
import org.fixres4j.io.AtomicFiles;
import org.fixres4j.io.Npy;
import org.fixres4j.preprocess.CpuPreprocessor;
import org.fixres4j.preprocess.OutputSpec;
import org.fixres4j.preprocess.Sample;
import org.fixres4j.transform.FixResTestTransform;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.fixres4j.transform.SampleTransform;
import org.fixres4j.transform.TimmEvalTransform;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code fixres preprocess}: images to a float32 NCHW {@code .npy}, exactly as timm's eval transform makes them. */
@Command(name = "preprocess", mixinStandardHelpOptions = true,
        description = {"Decode images and write the network input, float32 [N,3,R,R] (NCHW, normalised), as NumPy .npy.",
            "Bit-exact with timm/torchvision's Pillow pipeline: Resize(floor(R / crop_pct)) on the shorter side + "
                + "CenterCrop(R) + ToTensor + Normalize.",
            "The output file is written only when every image was read; an existing file is left untouched on error."})
final class PreprocessCommand implements Callable<Integer> {
    @Option(names = {"--res", "--img-size"}, required = true, paramLabel = "R",
            description = "Output resolution (square).")
    int res;

    @Option(names = "--crop-pct", paramLabel = "P", defaultValue = "0.875",
            description = "timm's crop_pct: the shorter side is resized to floor(R / P) (default: ${DEFAULT-VALUE}).")
    double cropPct;

    @Option(names = "--interpolation", paramLabel = "I", defaultValue = "bicubic",
            description = "bicubic, bilinear or nearest (default: ${DEFAULT-VALUE}).")
    String interpolation;

    @Option(names = "--mean", paramLabel = "a,b,c", description = "Per-channel mean, RGB (default: ImageNet).")
    String mean;

    @Option(names = "--std", paramLabel = "a,b,c", description = "Per-channel std, RGB (default: ImageNet).")
    String std;

    @Option(names = "--transform", paramLabel = "T", defaultValue = "timm",
            description = "timm (resize shorter side + centre crop) or fixres (the FixRes repository's test transform:"
                    + " height to int(256/224*R), bilinear, centre crop); default: ${DEFAULT-VALUE}.")
    String transform;

    @Option(names = "--threads", paramLabel = "T", description = "Threads for decoding and the kernel (default: all).")
    Integer threads;

    @Option(names = "--out", required = true, paramLabel = "FILE.npy", description = "Output file.")
    Path out;

    @Mixin
    ImageOptions imageOptions;

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "JPEG, PNG, WebP or BMP files.")
    List<Path> images;

    @Override
    public Integer call() throws Exception {
        EvalCommand.checkOutputs(out);
        if (res < 1 || res > 8192) {
            throw new IllegalArgumentException("--res must be in 1..8192, got " + res);
        }
        Normalization norm = (mean == null && std == null) ? Normalization.IMAGENET
                : Normalization.parse(mean == null ? "0.485,0.456,0.406" : mean,
                        std == null ? "0.229,0.224,0.225" : std);
        SampleTransform t = switch (transform) {
            case "timm" -> new TimmEvalTransform(res, cropPct, Interpolation.parse(interpolation), norm);
            case "fixres" -> new FixResTestTransform(res, Interpolation.parse(interpolation), norm);
            default -> throw new IllegalArgumentException("--transform must be timm or fixres, got '" + transform + "'");
        };
        for (Path p : images) {
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException("no such image file: " + p);
            }
        }
        Threads.check("--threads", threads);
        int n = threads == null ? Math.max(1, Runtime.getRuntime().availableProcessors()) : threads;
        write(t, n);
        System.err.printf("fixres preprocess: %d image(s) -> %s [%d,3,%d,%d] float32 (%s)%n", images.size(), out,
                images.size(), res, res, t.describe());
        return 0;
    }

    /**
     * The most bytes of output one chunk of images may hold in memory (twice: the native buffer and its Java copy):
     * a quarter of the Java heap, at most 1 GiB, never more than a Java array holds.
     */
    static long chunkByteLimit() {
        return Math.min(Math.min(1L << 30, Runtime.getRuntime().maxMemory() / 4), (long) Integer.MAX_VALUE - 8);
    }

    /**
     * Images per chunk: {@code max(8, 4 threads)}, fewer when that would not fit {@link #chunkByteLimit()}.
     *
     * @throws UserException if one image's output alone does not fit
     */
    static int chunkSize(long sampleElements, int nThreads, int width, int height) {
        return chunkSize(sampleElements, nThreads, width, height, chunkByteLimit());
    }

    /** {@link #chunkSize(long, int, int, int)} under a given byte limit. */
    static int chunkSize(long sampleElements, int nThreads, int width, int height, long limit) {
        long sampleBytes = 4 * sampleElements;
        if (sampleBytes > limit) {
            throw new UserException(String.format(java.util.Locale.ROOT, "--res %dx%d asks for %.1f MB of float32 "
                    + "per image (3 x %d x %d x 4 bytes), more than the %.1f MB this process may hold at once (a "
                    + "quarter of the Java heap, at most 1 GiB): use a smaller --res, or a larger heap "
                    + "(JAVA_TOOL_OPTIONS=-Xmx...)", width, height, sampleBytes / 1e6, height, width, limit / 1e6));
        }
        return (int) Math.max(1, Math.min(Math.max(8, 4L * nThreads), limit / sampleBytes));
    }

    private void write(SampleTransform t, int nThreads) throws IOException, InterruptedException {
        OutputSpec spec = OutputSpec.nchwFloat(t.outputWidth(), t.outputHeight(), t.normalization());
        int chunk = chunkSize(spec.sampleElements(), nThreads, t.outputWidth(), t.outputHeight());
        CpuPreprocessor kernel = new CpuPreprocessor(nThreads);
        ExecutorService pool = Executors.newFixedThreadPool(nThreads);
        try (AtomicFiles.Replacement replacement = AtomicFiles.begin(out);
             FloatPointer buffer = new FloatPointer(chunk * spec.sampleElements())) {
            Path tmp = replacement.tmp();
            float[] values = new float[(int) (chunk * spec.sampleElements())];
            try (Npy.Writer writer = Npy.writer(tmp, "<f4", spec.shape(images.size()))) {
                for (int start = 0; start < images.size(); start += chunk) {
                    List<Path> part = images.subList(start, Math.min(images.size(), start + chunk));
                    List<DecodedImage> decoded = decodeAll(part, pool);
                    try {
                        List<Sample> samples = new ArrayList<>();
                        for (int i = 0; i < decoded.size(); i++) {
                            DecodedImage im = decoded.get(i);
                            samples.add(new Sample(im, t.plan(im.width(), im.height(), null), i));
                        }
                        kernel.run(samples, spec, buffer);
                    } finally {
                        decoded.forEach(DecodedImage::close);
                    }
                    int count = (int) (part.size() * spec.sampleElements());
                    buffer.get(values, 0, count);
                    writer.write(values, 0, count);
                }
            }
            replacement.commit();
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<DecodedImage> decodeAll(List<Path> files, ExecutorService pool)
            throws IOException, InterruptedException {
        List<Future<DecodedImage>> futures = new ArrayList<>();
        for (Path p : files) {
            futures.add(pool.submit(() -> ImageDecoder.decode(p)));
        }
        List<DecodedImage> done = new ArrayList<>();
        IOException failure = null;
        for (Future<DecodedImage> f : futures) {
            try {
                done.add(f.get());
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (failure == null) {
                    failure = cause instanceof IOException io ? io : new IOException(cause.getMessage(), cause);
                }
            }
        }
        if (failure != null) {
            done.forEach(DecodedImage::close);
            throw failure;
        }
        return done;
    }
}
