package org.fixres4j.dist;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;

import org.bytedeco.pytorch.global.torch;
import org.fixres4j.data.CsvImageList;
import org.fixres4j.data.Dataset;
import org.fixres4j.data.DemoShapes;
import org.fixres4j.data.Pixels;
import org.fixres4j.data.Sample;
import org.fixres4j.fixres.Sweep;
import org.fixres4j.io.Json;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.EfficientNetSpec;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.FixResTestTransform;
import org.fixres4j.transform.SampleTransform;
import org.fixres4j.transform.TimmEvalTransform;

/**
 * A sweep of a tiny, seeded EfficientNet over generated shapes (PNG files listed in a CSV, two of them corrupt) at
 * two transforms, with or without a {@link Collective}: the rank's program of {@code ShardedSweepTest}, and the
 * single-process reference it is compared with.
 */
final class ShardedSweep {
    static { Torch.ensureLoaded(); }

    private ShardedSweep() {}

    /** Writes the images (once) and returns the CSV dataset. */
    static synchronized Dataset dataset(Path dir) throws IOException {
        Path csv = dir.resolve("shapes.csv");
        if (!Files.exists(csv)) {
            DemoShapes shapes = new DemoShapes(37, 48, 5, "test");
            StringBuilder b = new StringBuilder("path,label\n");
            Files.createDirectories(dir.resolve("img"));
            for (int i = 0; i < shapes.size(); i++) {
                String name = String.format("img/%02d.png", i);
                if (i == 6 || i == 29) {
                    Files.write(dir.resolve(name), new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 1, 2});
                } else {
                    Sample s = shapes.get(i);
                    Pixels p = s.pixels();
                    BufferedImage im = new BufferedImage(p.width(), p.height(), BufferedImage.TYPE_BYTE_GRAY);
                    im.getRaster().setDataElements(0, 0, p.width(), p.height(),
                            java.util.Arrays.copyOfRange(p.data(), p.offset(), p.offset() + p.byteCount()));
                    ImageIO.write(im, "png", dir.resolve(name).toFile());
                }
                b.append(name).append(',').append(shapes.get(i).label()).append('\n');
            }
            Files.writeString(dir.resolve("shapes.csv.tmp"), b, StandardCharsets.UTF_8);
            Files.move(dir.resolve("shapes.csv.tmp"), csv);
        }
        return CsvImageList.read(csv, null);
    }

    /** The sweep's result without its timing, as JSON. */
    static String run(Path dir, Collective c) throws IOException {
        Dataset d = dataset(dir);
        List<SampleTransform> ts = List.of(TimmEvalTransform.of(32), new FixResTestTransform(40));
        torch.manual_seed(7);
        try (EfficientNet m = ModelRegistry.create(EfficientNetSpec.custom("tiny", 0.25, 0.25, false, 10))) {
            m.initTimm();
            m.eval();
            Sweep.Result r = Sweep.over(d, ts).batchSize(4).threads(1).collective(c).run(m::forward);
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("images", (long) r.datasetSize());
            doc.put("evaluated", (long) r.evaluated());
            List<Object> failures = new ArrayList<>();
            r.failures().forEach(f -> failures.add(f.index() + " " + f.name() + ": " + f.message()));
            doc.put("failures", failures);
            List<Object> entries = new ArrayList<>();
            for (Sweep.Entry e : r.entries()) {
                Map<String, Object> one = Json.parseObject(Json.write(e.report()));
                one.keySet().removeIf(k -> k.contains("second"));
                List<Object> perClass = new ArrayList<>();
                e.accuracy().perClass().forEach(pc -> perClass.add(pc.count() + ":"
                        + java.util.Arrays.toString(pc.correct())));
                one.put("per_class", perClass);
                entries.add(one);
            }
            doc.put("resolutions", entries);
            doc.put("indices", java.util.Arrays.toString(r.indices()));
            return Json.writePretty(doc);
        }
    }

    /** A rank: joins the group the environment describes and prints the sweep's JSON after a RESULT line. */
    public static void main(String[] args) throws Exception {
        DistConfig cfg = DistConfig.resolve(System.getenv(), null, null, null, java.time.Duration.ofSeconds(60),
                null);
        try (Collective c = Collective.connect(cfg)) {
            String json = run(Path.of(args[0]), c);
            Files.writeString(Path.of(args[0]).resolve("rank" + c.rank() + ".json"), json);
            System.out.println("RESULT done " + c.rank());
        }
    }
}
