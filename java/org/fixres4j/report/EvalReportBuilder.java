package org.fixres4j.report;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.fixres4j.data.LabelledData;
import org.fixres4j.fixres.Sweep;
import org.fixres4j.model.EvalPreprocessing;
import org.fixres4j.model.ModelSource;
import org.fixres4j.transform.SampleTransform;

/**
 * The reports of {@code eval} and {@code recommend}: the configuration block (command, arguments, model, weights,
 * preprocessing, dataset, run settings, software) and the JSON / CSV / plot outputs of a resolution sweep, built on
 * {@link Reports}.
 */
public final class EvalReportBuilder {
    private EvalReportBuilder() {}

    /**
     * What the report says of the model as it ran.
     *
     * @param numClasses the classifier's classes
     * @param parameters the parameter count
     * @param fastPath whether the BN-folded fast path ran
     * @param channelsLast whether the model ran channels-last
     */
    public record RunModel(int numClasses, long parameters, boolean fastPath, boolean channelsLast) {}

    /**
     * The run settings.
     *
     * @param batch images per forward pass
     * @param threads the threads asked for, or null (all processors)
     * @param strict whether the first unreadable image stops the run
     * @param streams slices of each batch run at once on the CPU ({@code BatchStreams}; 1: one pass)
     */
    public record RunSettings(int batch, Integer threads, boolean strict, int streams) {
        /** Settings of a run whose forward passes are one pass over each batch (no {@code BatchStreams}). */
        public RunSettings(int batch, Integer threads, boolean strict) {
            this(batch, threads, strict, 1);
        }
    }

    /** The configuration block of the reports. */
    public static Map<String, Object> config(String command, List<String> arguments, ModelSource source,
                                             RunModel model, LabelledData o, EvalPreprocessing preprocessing,
                                             List<SampleTransform> transforms, RunSettings run) throws IOException {
        var cfg = source.config();
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("command", command);
        c.put("arguments", new ArrayList<>(arguments));
        c.put("started", Reports.timestamp());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", source.name());
        m.put("requested", source.resolved() == null ? null : source.resolved().requested());
        m.put("architecture", source.info() != null ? source.info().describe() : cfg.architecture());
        m.put("described_by", source.info() != null ? "fixres4j metadata" : "timm name");
        m.put("num_classes", (long) model.numClasses());
        m.put("parameters", model.parameters());
        m.put("fast_path", model.fastPath());
        m.put("channels_last", model.channelsLast());
        m.put("input_size", (long) cfg.inputSize());
        m.put("config_crop_pct", cfg.cropPct());
        m.put("config_interpolation", cfg.interpolation().id());
        m.put("config_normalization", cfg.normalization().toString());
        if (!source.classNames().isEmpty()) {
            m.put("class_names", source.classNames());
        }
        c.put("model", m);
        c.put("weights", Reports.fileInfo(source.weights()));
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("resize_mode", preprocessing.resizeMode().spelling());
        List<Long> res = new ArrayList<>();
        List<String> desc = new ArrayList<>();
        for (SampleTransform t : transforms) {
            res.add((long) t.outputWidth());
            desc.add(t.describe());
        }
        p.put("resolutions", res);
        p.put("transforms", desc);
        p.put("test_crop_ratio", preprocessing.cropRatio());
        p.put("normalization", transforms.get(0).normalization().toString());
        p.put("decoder", "OpenCV imdecode (no EXIF rotation), fused Pillow-exact resize kernel");
        c.put("preprocessing", p);
        c.put("dataset", Reports.datasetInfo(o.dataset(), o.path(), o.layout(), o.limit(), o.limitMode()));
        c.put("real_labels", o.realPath() == null ? null : Reports.fileInfo(o.realPath()));
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("batch_size", (long) run.batch());
        r.put("threads", run.threads() == null ? (long) Runtime.getRuntime().availableProcessors()
                : (long) (int) run.threads());
        r.put("strict", run.strict());
        r.put("streams", (long) run.streams());
        r.put("device", "cpu");
        c.put("run", r);
        c.put("software", Reports.software());
        return c;
    }

    /** Writes JSON (+ CSV next to it), the CSV alone, and the plot, as asked; each named on stderr. */
    public static void writeOutputs(Map<String, Object> config, Map<String, Sweep.Result> series,
                                    Map<String, Object> extra, Path out, Path csv, Path plot, String title, int kTrain,
                                    List<Plot.Marker> markers) throws IOException {
        if (out != null) {
            EvalReport doc = Reports.sweepReport(config, series);
            Reports.writeJson(out, extra != null ? doc.with(extra) : doc);
            System.err.println("fixres: results written to " + out);
        }
        Path csvPath = csv != null ? csv : out != null ? Reports.csvNextTo(out) : null;
        if (csvPath != null) {
            Reports.writeSweepCsv(csvPath, config, series);
            System.err.println("fixres: CSV written to " + csvPath);
        }
        if (plot != null) {
            Plot p = Plot.accuracy(title, kTrain, series);
            for (Plot.Marker mk : markers) {
                p.marker(mk.x(), mk.label());
            }
            p.write(plot);
            System.err.println("fixres: plot written to " + plot);
        }
    }
}
