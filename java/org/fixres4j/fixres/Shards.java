package org.fixres4j.fixres;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import org.fixres4j.data.LoadFailure;
import org.fixres4j.dist.Collective;

/**
 * Combines what the ranks of a sharded sweep found, exactly: variable-length lists of indices and of load failures
 * gathered from every rank over a {@link Collective} (whose gather wants equal lengths: each rank's list is padded to
 * the longest and trimmed again).
 */
final class Shards {
    /** A failure's message is cut to this many bytes when it travels between ranks. */
    static final int MAX_MESSAGE_BYTES = 2000;

    private Shards() {}

    /** Every rank's {@code values}, row r from rank r, each at its own length. */
    static long[][] gather(Collective c, long[] values) {
        long[][] lengths = c.allGather(new long[] {values.length});
        int max = 0;
        for (long[] l : lengths) {
            max = (int) Math.max(max, l[0]);
        }
        long[][] rows = c.allGather(Arrays.copyOf(values, Math.max(1, max)));
        long[][] out = new long[rows.length][];
        for (int r = 0; r < rows.length; r++) {
            out[r] = Arrays.copyOf(rows[r], (int) lengths[r][0]);
        }
        return out;
    }

    /** The union of every rank's (disjoint) indices, ascending. */
    static int[] gatherIndices(Collective c, int[] local) {
        long[] mine = new long[local.length];
        for (int i = 0; i < local.length; i++) {
            mine[i] = local[i];
        }
        List<Integer> all = new ArrayList<>();
        for (long[] row : gather(c, mine)) {
            for (long v : row) {
                all.add((int) v);
            }
        }
        return all.stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    /**
     * Every rank's load failures, in dataset order, with the dataset index as their position (a sweep visits the
     * dataset in order).
     */
    static List<LoadFailure> gatherFailures(Collective c, List<LoadFailure> local) {
        List<Long> stream = new ArrayList<>();
        for (LoadFailure f : local) {
            stream.add((long) f.index());
            add(stream, f.name());
            add(stream, f.message());
        }
        long[] mine = stream.stream().mapToLong(Long::longValue).toArray();
        List<LoadFailure> out = new ArrayList<>();
        for (long[] row : gather(c, mine)) {
            int[] at = {0};
            while (at[0] < row.length) {
                int index = (int) row[at[0]++];
                String name = read(row, at);
                String message = read(row, at);
                out.add(new LoadFailure(index, index, name, message));
            }
        }
        out.sort(Comparator.comparingInt(LoadFailure::index));
        return out;
    }

    private static void add(List<Long> stream, String text) {
        byte[] b = (text == null ? "" : text).getBytes(StandardCharsets.UTF_8);
        int n = Math.min(b.length, MAX_MESSAGE_BYTES);
        stream.add((long) n);
        for (int i = 0; i < n; i++) {
            stream.add((long) b[i]);
        }
    }

    private static String read(long[] row, int[] at) {
        int n = (int) row[at[0]++];
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) row[at[0]++];
        }
        return new String(b, StandardCharsets.UTF_8);
    }
}
