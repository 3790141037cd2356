package org.fixres4j.eval;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * The per-k members of an accuracy report: {@code top<k>} (percent of {@code total}, null when it is 0) and
 * {@code top<k>_correct}, for each k in ascending order. A report part embeds it with {@code @JsonUnwrapped}.
 *
 * @param ks the ks, ascending
 * @param correct top-k correct samples, per k
 * @param total the samples the percentages are of
 */
public record TopKCounts(@JsonIgnore int[] ks, @JsonIgnore long[] correct, @JsonIgnore long total) {
    public TopKCounts {
        if (ks.length != correct.length) {
            throw new IllegalArgumentException(ks.length + " ks but " + correct.length + " counts");
        }
        ks = ks.clone();
        correct = correct.clone();
    }

    /** The members in order, as Jackson writes them. */
    @JsonAnyGetter
    public Map<String, Object> members() {
        // dynamic: the member names depend on the ks a run asks for
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < ks.length; i++) {
            m.put("top" + ks[i], total == 0 ? null : 100.0 * correct[i] / total);
            m.put("top" + ks[i] + "_correct", correct[i]);
        }
        return m;
    }
}
