package org.fixres4j.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import org.fixres4j.data.LoadFailure;
import org.fixres4j.fixres.Sweep;

/**
 * The JSON document of {@code eval --out} (and {@code recommend --out}): {@code format}, {@code schema_version},
 * {@code config} (as given), {@code summary} (of the first series), {@code results} (one object per series and
 * transform: {@link Row}: {@code series} then {@link Sweep.Entry.Report}), {@code failures} (of the first series), then any extra
 * members a command adds ({@link #with}). Serialised by Jackson ({@link org.fixres4j.io.Json}) in that order.
 *
 * @param format always {@link Reports#FORMAT}
 * @param schemaVersion {@link #SCHEMA_VERSION}: raised when a member is renamed, removed or changes meaning
 * @param extra members after {@code failures}, in order (e.g. {@code recommend}'s recommendation)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonPropertyOrder({"format", "schema_version", "config", "summary", "results", "failures"})
public record EvalReport(String format, int schemaVersion, Map<String, Object> config, Summary summary,
                         List<Row> results, List<Failure> failures,
                         @JsonIgnore Map<String, Object> extra) {
    /** The version of this document's schema. */
    public static final int SCHEMA_VERSION = 1;

    /** Copies the lists and maps (a report does not change after it is made). */
    public EvalReport {
        Objects.requireNonNull(summary, "summary");
        results = List.copyOf(results);
        failures = List.copyOf(failures);
        extra = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(extra));
    }

    /**
     * Counts and timing of a sweep, with its best resolution.
     *
     * @param imagesPerSecond null when the sweep took no measurable time
     * @param bestResolution null (and {@code bestTop1} null) when nothing was evaluated
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"images", "evaluated", "failed", "seconds", "images_per_second", "load_wait_seconds",
        "batch_size", "threads", "best_resolution", "best_top1"})
    public record Summary(long images, long evaluated, long failed, double seconds, Double imagesPerSecond,
                          double loadWaitSeconds, long batchSize, long threads, Long bestResolution,
                          Double bestTop1) {
        /** The summary of {@code r}. */
        public static Summary of(Sweep.Result r) {
            Sweep.Entry best = r.best();
            return new Summary(r.datasetSize(), r.evaluated(), r.failures().size(), r.seconds(),
                    r.seconds() > 0 ? r.imagesPerSecond() : null, r.loadWaitSeconds(), r.batchSize(), r.threads(),
                    best == null ? null : (long) best.resolution(), best == null ? null : best.top1());
        }
    }

    /** One series at one transform: {@code series}, then the transform's result. */
    @JsonPropertyOrder({"series", "result"})
    public record Row(String series, @JsonUnwrapped Sweep.Entry.Report result) {}

    /** A sample that could not be loaded: its dataset index, name and why. */
    @JsonPropertyOrder({"index", "name", "message"})
    public record Failure(long index, String name, String message) {
        /** The report's view of {@code f}. */
        public static Failure of(LoadFailure f) {
            return new Failure(f.index(), f.name(), f.message());
        }
    }

    /**
     * The report of one or more sweeps over the same data.
     *
     * @param series the sweeps by name, in order (e.g. {@code "eval"}, or {@code "before"} and {@code "after"})
     */
    public static EvalReport of(Map<String, Object> config, Map<String, Sweep.Result> series) {
        if (series.isEmpty()) {
            throw new IllegalArgumentException("a report needs at least one sweep");
        }
        Sweep.Result first = series.values().iterator().next();
        List<Row> results = new ArrayList<>();
        for (Map.Entry<String, Sweep.Result> s : series.entrySet()) {
            for (Sweep.Entry e : s.getValue().entries()) {
                results.add(new Row(s.getKey(), e.report()));
            }
        }
        return new EvalReport(Reports.FORMAT, SCHEMA_VERSION, config, Summary.of(first), results,
                first.failures().stream().map(Failure::of).toList(), Map.of());
    }

    /** This report with {@code more} members after {@code failures} (a later key replaces an earlier one). */
    public EvalReport with(Map<String, Object> more) {
        Map<String, Object> m = new LinkedHashMap<>(extra);
        m.putAll(more);
        return new EvalReport(format, schemaVersion, config, summary, results, failures, m);
    }

    /** The extra members, written after {@code failures}. */
    @JsonAnyGetter
    Map<String, Object> extraMembers() {
        return extra;
    }
}
