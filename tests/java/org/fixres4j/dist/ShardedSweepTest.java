package org.fixres4j.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.fixres4j.data.BatchLoader;
import org.fixres4j.data.Dataset;
import org.fixres4j.transform.FixResTestTransform;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep shared by two ranks (child JVMs over loopback) returns exactly what one process returns: every count, every
 * per-class tally, the failures and the evaluated indices; and the loader's shards deal the epoch's order without
 * overlap or gap.
 */
class ShardedSweepTest {
    @TempDir
    Path dir;

    @Test
    void twoRanksGiveTheSingleProcessResultExactly() throws Exception {
        ShardedSweep.dataset(dir); // written once, before the ranks read it
        String single = ShardedSweep.run(dir, null);
        assertTrue(single.contains("cannot decode"), single); // the two corrupt files are among the failures
        int port = 30000 + (int) (ProcessHandle.current().pid() % 20000);
        Process[] ps = new Process[2];
        for (int r = 0; r < 2; r++) {
            ps[r] = TwoRankTest.start(TwoRankTest.java(ShardedSweep.class.getName(), dir.toString()), r, 2, port,
                    dir.resolve("out" + r), dir.resolve("err" + r));
        }
        for (int r = 0; r < 2; r++) {
            int code = TwoRankTest.finish(ps[r]);
            assertEquals(0, code, Files.readString(dir.resolve("err" + r)));
        }
        for (int r = 0; r < 2; r++) {
            assertEquals(single, Files.readString(dir.resolve("rank" + r + ".json")), "rank " + r);
        }
    }

    @Test
    void shardsDealTheOrderWithoutOverlapOrGap() throws Exception {
        Dataset d = ShardedSweep.dataset(dir);
        for (int world : new int[] {1, 2, 3, 5}) {
            boolean[] seen = new boolean[d.size()];
            int total = 0;
            for (int r = 0; r < world; r++) {
                try (BatchLoader l = BatchLoader.builder(d, new FixResTestTransform(16)).shard(r, world).shuffle(true)
                        .seed(3).threads(1).build()) {
                    int[] order = l.order(2);
                    int[] all;
                    try (BatchLoader whole = BatchLoader.builder(d, new FixResTestTransform(16)).shuffle(true)
                            .seed(3).threads(1).build()) {
                        all = whole.order(2);
                    }
                    assertEquals(l.shardSize(), order.length);
                    for (int j = 0; j < order.length; j++) {
                        assertEquals(all[j * world + r], order[j]); // position p goes to shard p % world
                        assertTrue(!seen[order[j]], "index " + order[j] + " twice");
                        seen[order[j]] = true;
                    }
                    total += order.length;
                }
            }
            assertEquals(d.size(), total, "world " + world);
        }
    }
}
