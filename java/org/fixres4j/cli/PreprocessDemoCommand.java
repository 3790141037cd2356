package org.fixres4j.cli;

import static org.bytedeco.opencv.global.opencv_imgcodecs.imwrite;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import org.bytedeco.opencv.opencv_core.Mat;
import org.fixres4j.bench.Samples;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.ImageDecoder;
import org.fixres4j.io.Json;
import org.fixres4j.io.Sha256;
import org.fixres4j.kernels.Backends;
import org.fixres4j.preprocess.CpuPreprocessor;
import org.fixres4j.preprocess.Layout;
import org.fixres4j.preprocess.OutputSpec;
import org.fixres4j.preprocess.OutputType;
import org.fixres4j.transform.FixResTestTransform;
import org.fixres4j.transform.ResamplePlan;
import org.fixres4j.transform.SampleTransform;
import org.fixres4j.transform.TimmEvalTransform;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code fixres demo preprocess}: the preprocessing path on a real photograph. Runs timm's EfficientNet-B0 eval transform
 * (224 px), the same at FixEfficientNet-B0's test resolution (320 px) and the FixRes repository's test transform
 * (320 px), checks every byte against torchvision/Pillow run in the same process tree when python3-pil is installed,
 * times the kernel, and writes the crops (PNG) and a JSON report.
 */
@Command(name = "preprocess", mixinStandardHelpOptions = true,
        description = {"Preprocess a photograph as timm (224 px, B0) and FixRes (320 px) would, check the bytes "
                + "against Pillow, time it, and write the crops and a JSON report.",
            "The end-to-end FixRes demo is 'fixres demo'; this shows the exact input pipeline it stands on."})
final class PreprocessDemoCommand implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "IMAGE", description = "A photograph (default: the bundled one).")
    Path image;

    @Option(names = "--out-dir", paramLabel = "DIR", defaultValue = "fixres-demo",
            description = "Where crops and report go (default: ${DEFAULT-VALUE}).")
    Path outDir;

    @Option(names = "--quick", description = "Shorter timing (for tests).")
    boolean quick;

    @Option(names = "--require-pillow",
            description = "Fail when the comparison with Pillow could not run (no python3-pil): CI uses it.")
    boolean requirePillow;

    @Override
    public Integer call() throws Exception {
        Path photo = image != null ? image : Samples.extract("coffee-500x375.jpg");
        String label = image != null ? image.toString() : "bundled photograph coffee-500x375.jpg (CC0)";
        System.out.println("FixRes4J demo: the input pipeline of EfficientNet at train and FixRes test resolution");
        for (Backends.Backend b : Backends.report(false)) {
            System.out.println("  backend " + b);
        }
        Files.createDirectories(outDir);
        Map<String, Object> reference = pillowReference(photo);
        Object referenceName = reference.getOrDefault("error", "Pillow " + reference.get("pillow")
                + (reference.get("torchvision") == null ? "" : " + torchvision " + reference.get("torchvision")));
        Map<String, Case> results = new LinkedHashMap<>(); // by the case's name, in the order run
        CpuPreprocessor kernel = new CpuPreprocessor(1);
        boolean allExact = true;
        boolean allChecked = true;
        try (DecodedImage img = ImageDecoder.decode(photo)) {
            System.out.printf("%nimage: %s, %dx%d, %d channel(s)%n%n", label, img.width(), img.height(),
                    img.channels());
            System.out.printf("%-11s %-9s %-10s %s%n", "name", "ms/image", "vs Pillow", "crop");
            List<Map.Entry<String, SampleTransform>> cases = List.of(
                    Map.entry("timm_224", TimmEvalTransform.of(224)),
                    Map.entry("timm_320", TimmEvalTransform.of(320)),
                    Map.entry("fixres_320", new FixResTestTransform(320)));
            for (Map.Entry<String, SampleTransform> c : cases) {
                SampleTransform t = c.getValue();
                ResamplePlan plan = t.plan(img.width(), img.height(), null);
                OutputSpec rgb = new OutputSpec(plan.outW(), plan.outH(), Layout.NHWC, OutputType.UINT8,
                        DecodedImage.ChannelOrder.BGR, t.normalization());
                byte[] bgr = kernel.runToBytes(img, plan, rgb);
                byte[] asRgb = swapRb(bgr);
                String sha = Sha256.of(asRgb);
                String verdict = verdict(reference, c.getKey(), sha);
                allExact &= !verdict.startsWith("DIFFERENT");
                allChecked &= !verdict.equals("unchecked");
                OutputSpec f32 = OutputSpec.nchwFloat(plan.outW(), plan.outH(), t.normalization());
                double ms = time(() -> kernel.runToFloats(img, plan, f32), quick ? 0.2 : 1.0);
                Path png = outDir.resolve(c.getKey() + ".png");
                writePng(png, bgr, plan.outW(), plan.outH());
                System.out.printf("%-11s %-9.3f %-10s %s%n", c.getKey(), ms, verdict, png);
                System.out.printf("            %s%n", t.describe());
                results.put(c.getKey(), new Case(t.describe(), plan, sha, verdict, ms, png.toString()));
            }
        }
        Path json = outDir.resolve("demo.json");
        Json.write(json, new Report(Report.SCHEMA_VERSION, label, String.valueOf(referenceName), results));
        System.out.println();
        System.out.println(reference.containsKey("error")
                ? "Pillow check " + reference.get("error")
                : allExact ? "Every output is byte-identical to torchvision/Pillow's." : "MISMATCH with Pillow (see above).");
        System.out.println("Report: " + json);
        if (requirePillow && (reference.containsKey("error") || !allChecked)) {
            throw new UserException("--require-pillow: the comparison with Pillow did not run ("
                    + reference.getOrDefault("error", "some outputs unchecked") + ")");
        }
        return allExact ? 0 : 1;
    }

    private static String verdict(Map<String, Object> reference, String name, String sha) {
        Object outputs = reference.get("outputs");
        if (!(outputs instanceof Map<?, ?> map) || !(map.get(name) instanceof Map<?, ?> ref)) {
            return "unchecked";
        }
        return sha.equals(ref.get("sha256")) ? "identical" : "DIFFERENT";
    }

    private static byte[] swapRb(byte[] bgr) {
        byte[] rgb = bgr.clone();
        for (int i = 0; i < rgb.length; i += 3) {
            rgb[i] = bgr[i + 2];
            rgb[i + 2] = bgr[i];
        }
        return rgb;
    }

    private static void writePng(Path file, byte[] bgr, int w, int h) {
        try (Mat m = new Mat(h, w, org.bytedeco.opencv.global.opencv_core.CV_8UC3)) {
            m.data().put(bgr);
            if (!imwrite(file.toString(), m)) {
                throw new UserException("cannot write " + file);
            }
        }
    }

    private static double time(Runnable r, double seconds) {
        for (int i = 0; i < 3; i++) {
            r.run();
        }
        long start = System.nanoTime();
        int n = 0;
        do {
            r.run();
            n++;
        } while (System.nanoTime() - start < seconds * 1e9);
        return (System.nanoTime() - start) * 1e-6 / n;
    }

    /** Runs the reference script with python3; on any failure returns {"error": "skipped: ..."}. */
    private static Map<String, Object> pillowReference(Path photo) {
        Map<String, Object> failed = new LinkedHashMap<>();
        try {
            Path script = Samples.extractResource("/org/fixres4j/bench/pillow_reference.py", "pillow_reference.py");
            String python = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
            Process p = org.fixres4j.bench.EvalBench.withoutLauncherDefaults( // Pillow as its users run it
                    new ProcessBuilder(python, script.toString(), photo.toString())).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (p.waitFor() != 0) {
                failed.put("error", "skipped: python3 with Pillow and numpy not usable here (apt-get install "
                        + "python3-pil python3-numpy)");
                return failed;
            }
            return Json.parseObject(out.strip());
        } catch (IOException | InterruptedException | RuntimeException e) {
            failed.put("error", "skipped: " + e.getMessage());
            return failed;
        }
    }

    /** {@code demo.json}: the image, what the outputs were checked against, and each case's result by name. */
    @JsonPropertyOrder({"schema_version", "image", "reference", "results"})
    record Report(@JsonProperty("schema_version") int schemaVersion, String image, String reference,
                  Map<String, Case> results) {
        /** Raised when a member is renamed, removed or changes meaning. */
        static final int SCHEMA_VERSION = 1;
    }

    /** One transform: its plan, the SHA-256 of its RGB uint8 output, Pillow's verdict, its time and its PNG. */
    @JsonPropertyOrder({"transform", "plan", "sha256_rgb_uint8", "pillow", "ms_per_image_float32_nchw_1_thread", "png"})
    record Case(String transform, ResamplePlan plan, @JsonProperty("sha256_rgb_uint8") String sha256RgbUint8,
                String pillow, @JsonProperty("ms_per_image_float32_nchw_1_thread") double msPerImage, String png) {}
}
