package org.fixres4j.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.data.Batch;
import org.fixres4j.data.BatchLoader;
import org.fixres4j.data.Dataset;
import org.fixres4j.data.EvalPipeline;
import org.fixres4j.data.ImageFolder;
import org.fixres4j.data.SubsetDataset;
import org.fixres4j.fixres.Sweep;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.ImageDecoder;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.BatchStreams;
import org.fixres4j.model.FastEfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.model.PretrainedConfig;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.SampleTransform;

/**
 * {@code fixres bench eval}: where evaluation's time goes, on one image folder, batch size and core count, in one
 * run: the decoder alone, decode + preprocessing (the loader without a model), the model alone (the fast path on
 * random input, as {@code bench model} times it), {@code eval} end to end (the same {@link Sweep} the command runs,
 * with its thread split and forward chunks), their ratio, and optionally timm's {@code validate.py} on the same folder
 * (its Pillow DataLoader, run by Python as a child process) with the ratio of our end to end to it.
 *
 * <p>The model has seeded random weights (speed does not depend on their values; timm's side runs without
 * {@code --pretrained} too). Every throughput counts images per second of wall time; the end-to-end runs include
 * the loader's start and the wait for the first batch, as {@code eval}'s figure does.
 */
public final class EvalBench {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }
    /** Defaults of {@code fixres bench eval}. */
    public static final String DEFAULT_MODEL = "tf_efficientnet_b0";
    public static final int DEFAULT_IMAGES = 400;

    /** Set by the launcher: the environment variables it set itself (not the caller). */
    static final String LAUNCHER_DEFAULTS = "FIXRES_LAUNCHER_DEFAULTS";
    private static final Pattern TIMM_BATCH = Pattern.compile("Test: \\[\\s*(\\d+)/(\\d+)\\]\\s+Time: ([0-9.]+)s");

    private EvalBench() {}

    /**
     * What to run.
     *
     * @param data the image folder (imagefolder layout); null: generate one in a temporary folder (deleted after);
     *     a path that does not exist: generate it there and keep it
     * @param images images of a generated folder
     * @param seed the generated folder's seed
     * @param model a timm model name
     * @param res the test resolution (null: the model's)
     * @param batch images per batch
     * @param threads the cores to use (the model-alone figure's libtorch threads; eval's split of them)
     * @param loaderThreads eval's loader threads (null: {@link EvalPipeline#split})
     * @param computeThreads eval's libtorch threads (null: {@link EvalPipeline#split})
     * @param chunk images per forward pass in the end-to-end runs (null: the whole batch, as eval runs it; see
     *     {@link EvalPipeline#chunked})
     * @param repeats timed end-to-end runs (the median is reported)
     * @param seconds measured seconds of the model-alone figure
     * @param baseline also time eval with the whole batch per forward pass and {@code threads} loader and libtorch
     *     threads each (the split before the pipeline was tuned)
     * @param timm a timm source tree with {@code validate.py} (put on PYTHONPATH), or null: no timm run
     * @param python the Python interpreter for timm
     * @param timmWorkers timm's DataLoader workers
     * @param amp the precision of the fast path, in the model-alone and the end-to-end figures alike (--amp)
     * @param overlap whether eval's loader loads during forward passes (null: as {@link EvalPipeline#overlaps} says
     *     for the split)
     */
    public record Options(Path data, int images, long seed, String model, Integer res, int batch, int threads,
                          Integer loaderThreads, Integer computeThreads, Integer chunk, int repeats, double seconds,
                          boolean baseline, Path timm, String python, int timmWorkers,
                          org.fixres4j.torch.Amp amp, Boolean overlap) {
        public Options {
            java.util.Objects.requireNonNull(amp, "amp").checkDevice("cpu");
            if (images < 1 || images > 100_000) {
                throw new IllegalArgumentException("--images must be in 1..100000, got " + images);
            }
            if (batch < 1 || batch > 1024) {
                throw new IllegalArgumentException("--batch must be in 1..1024, got " + batch);
            }
            if (threads < 1 || (loaderThreads != null && loaderThreads < 1)
                    || (computeThreads != null && computeThreads < 1)) {
                throw new IllegalArgumentException("thread counts must be >= 1");
            }
            if (chunk != null && chunk < 1) {
                throw new IllegalArgumentException("--chunk must be >= 1, got " + chunk);
            }
            if (repeats < 1 || repeats > 100) {
                throw new IllegalArgumentException("--repeats must be in 1..100, got " + repeats);
            }
            if (!(seconds > 0 && seconds <= 600)) {
                throw new IllegalArgumentException("--seconds must be in (0, 600], got " + seconds);
            }
            if (timmWorkers < 0 || timmWorkers > 64) {
                throw new IllegalArgumentException("--timm-workers must be in 0..64, got " + timmWorkers);
            }
        }
    }

    /** Runs every stage and returns the report as a JSON-ready map (progress lines go to {@code log}). */
    @SuppressWarnings("try")
    public static Map<String, Object> run(Options o, PrintStream log) throws IOException, InterruptedException {
        Torch.ensureLoaded();
        Path folder = o.data();
        boolean temporary = folder == null;
        boolean generated = temporary || !Files.exists(folder);
        if (temporary) {
            folder = Files.createTempDirectory("fixres4j-bench-eval-");
        }
        try {
            if (generated) {
                log.printf(Locale.ROOT, "fixres bench eval: writing %d JPEGs to %s%n", o.images(), folder);
                EvalFolder.generate(folder, o.images(), o.seed());
            }
            return run(o, folder, generated, log);
        } finally {
            if (temporary) {
                deleteTree(folder);
            }
        }
    }

    @SuppressWarnings("try")
    private static Map<String, Object> run(Options o, Path folder, boolean generated, PrintStream log)
            throws IOException, InterruptedException {
        Dataset dataset = ImageFolder.read(folder);
        int n = dataset.size();
        if (n == 0) {
            throw new IllegalArgumentException("no images in " + folder);
        }
        PretrainedConfig config = ModelRegistry.resolve(o.model()).config();
        int res = o.res() != null ? o.res() : config.inputSize();
        SampleTransform transform = config.evalTransform(res);
        EvalPipeline.Split auto = EvalPipeline.split(o.threads());
        int loaderThreads = o.loaderThreads() != null ? o.loaderThreads() : auto.loaderThreads();
        int computeThreads = o.computeThreads() != null ? o.computeThreads() : auto.computeThreads();
        EvalPipeline.Split split = new EvalPipeline.Split(loaderThreads, computeThreads, o.overlap() != null
                ? o.overlap() : EvalPipeline.overlaps(loaderThreads, computeThreads, o.threads()));
        int chunk = o.chunk() != null ? o.chunk() : o.batch();

        Map<String, Object> report = new LinkedHashMap<>();
        report.put("benchmark", "eval");
        report.put("model", ModelRegistry.resolve(o.model()).name());
        report.put("res", res);
        if (o.amp().enabled()) {
            report.put("amp", o.amp().label());
        }
        report.put("folder", generated ? "generated: " + n + " JPEGs, seed " + o.seed() : folder.toString());
        report.put("images", n);
        report.put("batch", o.batch());
        report.put("threads", o.threads());
        report.put("eval_split", Map.of("loader_threads", split.loaderThreads(), "compute_threads",
                split.computeThreads(), "forward_chunk", chunk, "overlap", split.overlap()));
        report.put("machine", Machine.describe());
        report.put("huge_pages", Torch.hugePageReport());
        report.put("malloc", Torch.mallocReport());

        int saved = torch.get_num_threads();
        try {
            log.println("fixres bench eval: decoder alone");
            report.put("decode_images_per_s", decodeOnly(dataset, o.threads()));
            log.println("fixres bench eval: decode + preprocess (the loader, no model)");
            report.put("decode_preprocess_images_per_s", loaderOnly(dataset, transform, o.batch(), o.threads()));

            torch.manual_seed(0);
            // as eval runs it: BatchStreams where EvalPipeline.streams says so (bf16 on 2+ threads)
            boolean bf16 = o.amp() == org.fixres4j.torch.Amp.BF16;
            int aloneStreams = EvalPipeline.streams(bf16, o.threads(), null);
            int e2eStreams = EvalPipeline.streams(bf16, split.computeThreads(), null);
            try (EfficientNet plain = ModelRegistry.create(o.model())) {
                plain.eval();
                try (FastEfficientNet fast = o.amp().enabled() ? FastEfficientNet.fuse(plain, o.amp())
                        : FastEfficientNet.fuse(plain, true);
                     BatchStreams e2e = e2eStreams > 1 ? BatchStreams.of(split.computeThreads(), e2eStreams) : null) {
                    log.println("fixres bench eval: the model alone (fast path"
                            + (aloneStreams > 1 ? ", " + aloneStreams + " streams)" : ")"));
                    org.fixres4j.kernels.ComputeThreads.set(o.threads());
                    double modelAlone;
                    try (PointerScope scope = new PointerScope();
                         BatchStreams streams = aloneStreams > 1 ? BatchStreams.of(o.threads(), aloneStreams) : null) {
                        Tensor x = torch.randn(o.batch(), 3, res, res);
                        java.util.function.UnaryOperator<Tensor> f = streams == null ? fast::forward
                                : streams.over(fast::forward);
                        modelAlone = 1000.0 / ModelBench.interleavedTimings(o.seconds(), o.batch(),
                                List.of(() -> f.apply(x)))[0].msPerItem();
                    }
                    report.put("model_images_per_s", modelAlone);
                    // what ran: a forward of fewer than two images per stream is one pass (BatchStreams.used)
                    report.put("model_streams", BatchStreams.used(aloneStreams, o.batch()));
                    report.put("e2e_streams", BatchStreams.used(e2eStreams, Math.min(o.batch(), chunk)));

                    org.fixres4j.kernels.ComputeThreads.set(split.computeThreads());
                    Sweep.ModelFn fn = EvalPipeline.chunked(e2e == null ? fast::forward : e2e.over(fast::forward),
                            chunk)::apply;
                    log.println("fixres bench eval: eval end to end");
                    // warm-up on the first two batches: JIT, libtorch's kernel choice per shape, the loader's code
                    int[] first = new int[Math.min(n, 2 * o.batch())];
                    Arrays.setAll(first, i -> i);
                    sweep(new SubsetDataset(dataset, first, "warm-up"), transform, o.batch(), split.loaderThreads(),
                            split.overlap(), fn);
                    List<Map<String, Object>> runs = new ArrayList<>();
                    for (int r = 0; r < o.repeats(); r++) {
                        runs.add(runMap(sweep(dataset, transform, o.batch(), split.loaderThreads(), split.overlap(),
                                fn)));
                    }
                    Map<String, Object> median = median(runs);
                    report.put("e2e_runs", runs);
                    report.put("e2e_images_per_s", median.get("images_per_s"));
                    report.put("e2e_median_run", median);
                    report.put("e2e_vs_model", (Double) median.get("images_per_s") / modelAlone);
                    if (o.baseline()) {
                        log.println("fixres bench eval: eval end to end, previous split (whole batch, "
                                + o.threads() + " loader + " + o.threads() + " libtorch threads)");
                        org.fixres4j.kernels.ComputeThreads.set(o.threads());
                        Sweep.ModelFn whole = fast::forward;
                        sweep(new SubsetDataset(dataset, first, "warm-up"), transform, o.batch(), o.threads(), true,
                                whole);
                        List<Map<String, Object>> base = new ArrayList<>();
                        for (int r = 0; r < o.repeats(); r++) {
                            base.add(runMap(sweep(dataset, transform, o.batch(), o.threads(), true, whole)));
                        }
                        Map<String, Object> bm = median(base);
                        report.put("baseline_runs", base);
                        report.put("baseline_images_per_s", bm.get("images_per_s"));
                    }
                }
            }
        } finally {
            torch.set_num_threads(saved);
        }
        report.put("goal_e2e_vs_model", 0.85);
        report.put("timm", timm(o, folder, n, res, log));
        Object timmRate = ((Map<?, ?>) report.get("timm")).get("images_per_s");
        if (timmRate instanceof Double t && t > 0) {
            report.put("e2e_vs_timm", (Double) report.get("e2e_images_per_s") / t);
        }
        report.put("goal_e2e_vs_timm", 6.0);
        return report;
    }

    private static Sweep.Result sweep(Dataset dataset, SampleTransform transform, int batch, int loaderThreads,
                                      boolean overlap, Sweep.ModelFn fn) throws IOException {
        return Sweep.over(dataset, List.of(transform)).batchSize(batch).threads(loaderThreads).overlap(overlap)
                .run(fn);
    }

    private static Map<String, Object> runMap(Sweep.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("images_per_s", r.imagesPerSecond());
        m.put("seconds", r.seconds());
        m.put("forward_seconds", r.entries().get(0).forwardSeconds());
        m.put("load_wait_seconds", r.loadWaitSeconds());
        m.put("other_seconds", r.seconds() - r.entries().get(0).forwardSeconds() - r.loadWaitSeconds());
        m.put("failures", r.failures().size());
        return m;
    }

    private static Map<String, Object> median(List<Map<String, Object>> runs) {
        List<Map<String, Object>> sorted = new ArrayList<>(runs);
        sorted.sort(Comparator.comparingDouble(m -> (Double) m.get("images_per_s")));
        return sorted.get(sorted.size() / 2);
    }

    /** Images/s of reading and decoding every file once on {@code threads} threads (after a short warm-up). */
    static double decodeOnly(Dataset dataset, int threads) throws IOException, InterruptedException {
        int n = dataset.size();
        for (int i = 0; i < Math.min(n, 8); i++) {
            try (DecodedImage im = dataset.get(i).decode()) {
                im.width();
            }
        }
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> error = new AtomicReference<>();
        Thread[] ts = new Thread[threads];
        long t0 = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            ts[t] = new Thread(() -> {
                try {
                    for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                        try (DecodedImage im = ImageDecoder.decode(dataset.get(i).path())) {
                            im.width();
                        }
                    }
                } catch (Throwable e) {
                    error.compareAndSet(null, e);
                }
            }, "fixres4j-bench-decode-" + t);
            ts[t].start();
        }
        for (Thread t : ts) {
            t.join();
        }
        double s = (System.nanoTime() - t0) * 1e-9;
        if (error.get() != null) {
            throw new IOException("decoding failed: " + error.get(), error.get());
        }
        return n / s;
    }

    /** Images/s of the loader alone (decode + preprocess into batches, no model), after one warm-up batch. */
    @SuppressWarnings("try")
    static double loaderOnly(Dataset dataset, SampleTransform transform, int batch, int threads) {
        try (BatchLoader loader = BatchLoader.builder(dataset, transform).batchSize(batch).threads(threads)
                .consumerHelps(false).build()) {
            int[] first = new int[Math.min(dataset.size(), batch)];
            Arrays.setAll(first, i -> i);
            try (BatchLoader warm = BatchLoader.builder(new SubsetDataset(dataset, first, "warm-up"), transform)
                    .batchSize(batch).threads(threads).build();
                 BatchLoader.Epoch e = warm.epoch(0)) {
                while (e.hasNext()) {
                    e.next().close();
                }
            }
            long t0 = System.nanoTime();
            int images = 0;
            try (BatchLoader.Epoch e = loader.epoch(0)) {
                while (e.hasNext()) {
                    try (Batch b = e.next()) {
                        images += b.size() + b.failures().size();
                    }
                }
            }
            return images / ((System.nanoTime() - t0) * 1e-9);
        }
    }

    /**
     * timm's validate.py on the folder, or why it was skipped: images/s as timm measures it (the sum of its
     * per-batch times, each from the end of the previous batch, data loading included).
     */
    static Map<String, Object> timm(Options o, Path folder, int n, int res, PrintStream log)
            throws IOException, InterruptedException {
        Map<String, Object> m = new LinkedHashMap<>();
        if (o.timm() == null) {
            m.put("skipped", "no --timm DIR given (a timm source tree with validate.py, e.g. timm 0.9.16)");
            return m;
        }
        Path validate = o.timm().resolve("validate.py");
        if (!Files.isRegularFile(validate)) {
            m.put("skipped", "no validate.py in " + o.timm());
            return m;
        }
        List<String> probe = List.of(o.python(), "-c", "import torch, timm, PIL; print(torch.__version__, "
                + "timm.__version__, PIL.__version__)");
        Proc p = exec(probe, o.timm(), 120);
        if (p.exit != 0) {
            String last = p.output.strip();
            last = last.substring(last.lastIndexOf('\n') + 1);
            m.put("skipped", "torch/timm/Pillow are not importable by " + o.python() + " with PYTHONPATH="
                    + o.timm() + ": " + last);
            return m;
        }
        String[] versions = p.output.strip().split("\\s+");
        m.put("versions", "torch " + versions[0] + ", timm " + versions[1] + ", Pillow " + versions[2]);
        m.put("environment", launcherDefaults().isEmpty() ? "this process's"
                : "this process's without the launcher's " + String.join(", ", launcherDefaults()));
        // validate.py asks for pretrained weights unless given a checkpoint: give it one of random weights
        Path dir = Files.createTempDirectory("fixres4j-bench-timm-");
        Path checkpoint = dir.resolve("random.pth");
        Proc run;
        try {
            Proc made = exec(List.of(o.python(), "-c", "import sys, torch, timm; torch.manual_seed(0); "
                    + "torch.save(timm.create_model(sys.argv[1], pretrained=False).state_dict(), sys.argv[2])",
                    o.model(), checkpoint.toString()), o.timm(), 300);
            if (made.exit != 0) {
                String out = made.output.strip();
                m.put("skipped", "timm could not create " + o.model() + ": "
                        + out.substring(Math.max(0, out.length() - 300)));
                return m;
            }
            List<String> cmd = List.of(o.python(), validate.toString(), folder.toString(), "--model", o.model(),
                    "--checkpoint", checkpoint.toString(), "-b", Integer.toString(o.batch()), "-j",
                    Integer.toString(o.timmWorkers()), "--device", "cpu", "--img-size", Integer.toString(res),
                    "--log-freq", "1");
            m.put("command", "validate.py FOLDER --model " + o.model() + " --checkpoint RANDOM.pth -b " + o.batch()
                    + " -j " + o.timmWorkers() + " --device cpu --img-size " + res
                    + " --log-freq 1 (timm on PYTHONPATH)");
            log.println("fixres bench eval: timm validate.py");
            run = exec(cmd, o.timm(), 1800);
        } finally {
            deleteTree(dir);
        }
        if (run.exit != 0) {
            String out = run.output.strip();
            m.put("skipped", "validate.py failed (exit " + run.exit + "): "
                    + out.substring(Math.max(0, out.length() - 400)));
            return m;
        }
        double seconds = 0;
        int batches = 0;
        Matcher mt = TIMM_BATCH.matcher(run.output);
        while (mt.find()) {
            seconds += Double.parseDouble(mt.group(3));
            batches++;
        }
        int expected = (n + o.batch() - 1) / o.batch();
        if (batches != expected || !(seconds > 0)) {
            m.put("skipped", "could not read validate.py's " + expected + " batch times (found " + batches + ")");
            return m;
        }
        m.put("seconds", seconds);
        m.put("images_per_s", n / seconds);
        return m;
    }

    private record Proc(int exit, String output) {}

    private static Proc exec(List<String> cmd, Path pythonPath, long timeoutSeconds)
            throws IOException, InterruptedException {
        // timm runs in the caller's environment, as its users run it: without what the launcher set for FixRes4J
        // (jemalloc, or glibc's malloc keeping freed memory, speeds Python's torch up as well: docs/PERFORMANCE.md)
        ProcessBuilder pb = withoutLauncherDefaults(new ProcessBuilder(cmd).redirectErrorStream(true));
        String pp = System.getenv("PYTHONPATH");
        pb.environment().put("PYTHONPATH", pythonPath + (pp == null || pp.isEmpty() ? "" : ":" + pp));
        Process proc;
        try {
            proc = pb.start();
        } catch (IOException e) {
            return new Proc(127, "cannot run " + cmd.get(0) + ": " + e.getMessage());
        }
        byte[] out;
        try (InputStream in = proc.getInputStream()) {
            out = in.readAllBytes();
        }
        if (!proc.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            proc.destroyForcibly();
            return new Proc(124, "timed out after " + timeoutSeconds + " s");
        }
        return new Proc(proc.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /**
     * {@code pb} with the environment variables the launcher set itself removed ({@link #launcherDefaults()}): a
     * reference child process (timm, Pillow) runs as its users run it, not with FixRes4J's allocator settings.
     */
    public static ProcessBuilder withoutLauncherDefaults(ProcessBuilder pb) {
        for (String name : launcherDefaults()) {
            pb.environment().remove(name);
        }
        return pb;
    }

    /** The environment variables the launcher set itself (its {@value #LAUNCHER_DEFAULTS}: names, space-separated). */
    static List<String> launcherDefaults() {
        String names = System.getenv(LAUNCHER_DEFAULTS);
        return names == null || names.isBlank() ? List.of() : List.of(names.strip().split("\\s+"));
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // a leftover temporary file is harmless
                }
            });
        } catch (IOException e) {
            // same
        }
    }

    /** Formats the report as a Markdown table. */
    @SuppressWarnings("unchecked")
    public static String table(Map<String, Object> r) {
        StringBuilder b = new StringBuilder();
        Map<String, Object> split = (Map<String, Object>) r.get("eval_split");
        b.append(String.format(Locale.ROOT, "Model: %s at %s px%s, batch %s, %s threads; folder: %s (%s images)%n",
                r.get("model"), r.get("res"), r.get("amp") != null ? ", " + r.get("amp") + " fast path" : "",
                r.get("batch"), r.get("threads"), r.get("folder"), r.get("images")));
        b.append("Machine: ").append(r.get("machine")).append('\n');
        b.append("libtorch CPU allocator, huge pages: ").append(r.get("huge_pages")).append('\n');
        b.append("glibc malloc: ").append(r.get("malloc")).append("\n\n");
        b.append("| stage | images/s | note |\n|---|---:|---|\n");
        row(b, "decoder alone", r.get("decode_images_per_s"), r.get("threads") + " threads");
        row(b, "decode + preprocess (loader, no model)", r.get("decode_preprocess_images_per_s"),
                r.get("threads") + " threads");
        row(b, "model alone (fast path, bench model)", r.get("model_images_per_s"), r.get("threads")
                + " libtorch threads, whole batch");
        Map<String, Object> med = (Map<String, Object>) r.get("e2e_median_run");
        row(b, "eval end to end", r.get("e2e_images_per_s"), String.format(Locale.ROOT,
                "%s loader + %s libtorch threads (%s), forward %s images at a time; median of %d: %.2f s = forward"
                        + " %.2f s + waiting for the loader %.2f s + other %.2f s", split.get("loader_threads"),
                split.get("compute_threads"), Boolean.TRUE.equals(split.get("overlap")) ? "loading during forward"
                        : "loading between forward passes", split.get("forward_chunk"), ((List<?>) r.get("e2e_runs")).size(),
                med.get("seconds"), med.get("forward_seconds"), med.get("load_wait_seconds"),
                med.get("other_seconds")));
        if (r.get("baseline_images_per_s") != null) {
            row(b, "eval end to end, previous split", r.get("baseline_images_per_s"), r.get("threads")
                    + " loader + " + r.get("threads") + " libtorch threads, whole batch");
        }
        Map<String, Object> timm = (Map<String, Object>) r.get("timm");
        if (timm.get("images_per_s") != null) {
            row(b, "timm validate.py", timm.get("images_per_s"), timm.get("versions") + "; " + timm.get("command"));
        }
        b.append('\n');
        b.append(String.format(Locale.ROOT, "eval end to end / model alone: %.2f (goal >= %.2f: %s)%n",
                r.get("e2e_vs_model"), r.get("goal_e2e_vs_model"),
                (Double) r.get("e2e_vs_model") >= (Double) r.get("goal_e2e_vs_model") ? "met" : "not met"));
        if (r.get("e2e_vs_timm") != null) {
            b.append(String.format(Locale.ROOT, "eval end to end / timm validate.py: %.2fx (goal >= %.1fx: %s)%n",
                    r.get("e2e_vs_timm"), r.get("goal_e2e_vs_timm"),
                    (Double) r.get("e2e_vs_timm") >= (Double) r.get("goal_e2e_vs_timm") ? "met" : "not met"));
        } else {
            b.append("timm: skipped: ").append(timm.get("skipped")).append('\n');
        }
        return b.toString();
    }

    private static void row(StringBuilder b, String stage, Object value, String note) {
        b.append(String.format(Locale.ROOT, "| %s | %.1f | %s |%n", stage, ((Number) value).doubleValue(), note));
    }
}
