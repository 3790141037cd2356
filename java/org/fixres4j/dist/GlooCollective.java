package org.fixres4j.dist;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AllgatherOptions;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.BarrierOptions;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.LayoutOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.PrefixStore;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.torch.Torch;
import org.fixres4j.weights.DType;
import org.fixres4j.weights.TorchTensors;

/**
 * A group of processes over TCP: c10d's {@code TCPStore} (served by rank 0 on the master port) for the rendezvous and
 * {@code ProcessGroupGloo} for the collectives.
 *
 * <p>Rendezvous: every rank connects to the store, claims its rank (a rank started twice is an error) and publishes
 * its host and pid; then every rank waits until all have done so, bounded by the timeout. A missing rank is named
 * ("1/2 clients joined; rank 1 never joined"). The Gloo group then connects its full mesh through a clone of the
 * store under the prefix {@code fixres/pg}.
 *
 * <p>Gloo's device: the interfaces of {@link DistConfig#glooInterfaces()} ({@code GLOO_SOCKET_IFNAME}) when given;
 * else 127.0.0.1 when the master is a loopback address (every rank on this machine); else the address this machine's
 * hostname resolves to (libtorch's default device, which falls back to loopback when the hostname does not resolve
 * to a usable address). Gloo must bind to each rank's own interface, never to the master's address.
 *
 * <p>Lifetime: libtorch's stores and groups are reference-counted C++ objects that the Java wrappers adopt; closing or
 * collecting them while Gloo's threads still use them aborts the process. They are therefore created outside any
 * {@link PointerScope} (on a thread of their own) and kept strongly reachable until the JVM exits; {@link #close()}
 * only asks the group to shut down. Each consumer of the store gets its own {@code clone()} (handing one wrapper to
 * two consumers aborts the JVM).
 */
public final class GlooCollective extends AbstractCollective {
    static {
        Torch.ensureLoaded();
    }

    /** Every store, option set and group ever made: they must outlive their Java users (see the class comment). */
    private static final List<Object> KEEP = new ArrayList<>();

    private static final String PREFIX = "fixres/";

    private final DistConfig config;
    private final long timeoutMs;
    private final TCPStore store;
    private final ProcessGroupGloo group;
    private final String[] members;
    private String broken;
    private boolean closed;

    private GlooCollective(DistConfig config, TCPStore store, ProcessGroupGloo group, String[] members) {
        this.config = config;
        this.timeoutMs = config.timeout().toMillis();
        this.store = store;
        this.group = group;
        this.members = members;
    }

    /**
     * Joins the group: rendezvous through rank 0's store, then Gloo's full mesh; each bounded by the config's
     * timeout.
     *
     * @throws CollectiveException when the store cannot be reached or served, a rank never joins, or Gloo cannot
     *         connect
     */
    public static GlooCollective connect(DistConfig config) {
        if (!config.distributed()) {
            throw new IllegalArgumentException("a Gloo group needs a world of at least 2, got " + config.worldSize());
        }
        // PointerScopes are per thread: a thread of our own guarantees that no caller's scope adopts the store or
        // the group (closing such a scope would free them under Gloo's threads).
        AtomicReference<Object> result = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                result.set(build(config));
            } catch (Throwable e) {
                result.set(e);
            }
        }, "fixres-dist-connect");
        t.setDaemon(true);
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CollectiveException(config.rank(), "rendezvous", null,
                    "rank " + config.rank() + ": interrupted while joining the group", e);
        }
        Object r = result.get();
        if (r instanceof RuntimeException re) {
            throw re;
        }
        if (r instanceof Error err) {
            throw err;
        }
        return (GlooCollective) r;
    }

    private static GlooCollective build(DistConfig c) {
        int rank = c.rank();
        int world = c.worldSize();
        long timeoutMs = c.timeout().toMillis();
        long start = System.nanoTime();
        // Gloo's devices first: a wrong interface name fails at once, not after the rendezvous
        ProcessGroupGloo.Options options = keep(ProcessGroupGloo.Options.create(keep(new Milliseconds(timeoutMs))));
        for (String dev : devices(c)) {
            try {
                options.devices().push_back(keep(dev.startsWith("if:")
                        ? ProcessGroupGloo.createDeviceForInterface(dev.substring(3))
                        : dev.equals("default") ? ProcessGroupGloo.createDefaultDevice()
                        : ProcessGroupGloo.createDeviceForHostname(dev)));
            } catch (RuntimeException e) {
                throw new CollectiveException(rank, "connect", null, "rank " + rank + ": Gloo cannot use "
                        + (dev.startsWith("if:") ? "interface " + dev.substring(3) : dev) + ": " + firstLine(e), e);
            }
        }
        TCPStoreOptions so = keep(new TCPStoreOptions());
        // the port is a C++ uint16_t mapped to a Java short: the cast keeps the 16 bits, so 40000 stays 40000
        so.port((short) c.masterPort());
        so.isServer(rank == 0);
        so.numWorkers(keep(new SizeTPointer(1)).put(world));
        so.waitWorkers(false); // we wait for named ranks ourselves, so a missing one can be named
        so.timeout(keep(new Milliseconds(timeoutMs)));
        TCPStore store;
        try {
            store = keep(new TCPStore(c.masterAddr(), so));
        } catch (RuntimeException e) {
            String what = rank == 0
                    ? "could not serve the store on port " + c.masterPort() + " (is it in use?)"
                    : "could not reach rank 0's store at " + c.master() + " (gave up after " + since(start)
                    + "; --dist-timeout " + DistConfig.seconds(c.timeout()) + ")";
            throw new CollectiveException(rank, "rendezvous", rank == 0 ? null : 0,
                    "rank " + rank + ": " + what + ": " + firstLine(e), e);
        }
        String me = describeSelf();
        long claims;
        try {
            claims = store.add(PREFIX + "claim/" + rank, 1);
            store.set(PREFIX + "rank/" + rank, me);
        } catch (RuntimeException e) {
            throw new CollectiveException(rank, "rendezvous", 0, "rank " + rank + ": the store at " + c.master()
                    + " failed during the rendezvous: " + firstLine(e), e);
        }
        if (claims > 1) {
            throw new CollectiveException(rank, "rendezvous", rank, "rank " + rank + ": rank " + rank
                    + " was started more than once for the store at " + c.master(), null);
        }
        String[] keys = new String[world];
        for (int r = 0; r < world; r++) {
            keys[r] = PREFIX + "rank/" + r;
        }
        long left = Math.max(1, timeoutMs - (System.nanoTime() - start) / 1_000_000);
        try (PointerScope scope = new PointerScope()) {
            store._wait(new StringVector(keys), new Milliseconds(left));
        } catch (RuntimeException e) {
            List<Integer> missing = new ArrayList<>();
            try (PointerScope scope = new PointerScope()) {
                for (int r = 0; r < world; r++) {
                    if (!store.check(new StringVector(keys[r]))) {
                        missing.add(r);
                    }
                }
            } catch (RuntimeException ignored) {
                // the store itself went away: report the original failure
            }
            String who = missing.isEmpty() ? firstLine(e)
                    : (world - missing.size()) + "/" + world + " clients joined; "
                    + (missing.size() == 1 ? "rank " + missing.get(0) + " never joined"
                    : "ranks " + missing + " never joined");
            throw new CollectiveException(rank, "rendezvous", missing.isEmpty() ? null : missing.get(0),
                    "rank " + rank + ": rendezvous at " + c.master() + " timed out after " + since(start)
                    + " (--dist-timeout " + DistConfig.seconds(c.timeout()) + "): " + who, e);
        }
        String[] members = new String[world];
        for (int r = 0; r < world; r++) {
            members[r] = store.get_to_str(keys[r]);
        }
        // the group gets its own clone of the store: one wrapper handed to two consumers aborts the JVM
        Store forGroup = keep(new PrefixStore(PREFIX + "pg", keep(store.clone())));
        ProcessGroupGloo group;
        try {
            group = keep(new ProcessGroupGloo(forGroup, rank, world, options));
        } catch (RuntimeException e) {
            throw new CollectiveException(rank, "connect", world == 2 ? 1 - rank : null, "rank " + rank
                    + ": Gloo could not connect to its peers after " + since(start) + ": " + firstLine(e), e);
        }
        return new GlooCollective(c, store, group, members);
    }

    /** "if:NAME" per interface, "127.0.0.1" for a loopback master, else "default". */
    static List<String> devices(DistConfig c) {
        List<String> out = new ArrayList<>();
        if (c.glooInterfaces() != null) {
            for (String s : c.glooInterfaces().split(",")) {
                if (!s.isBlank()) {
                    out.add("if:" + s.trim());
                }
            }
        }
        if (out.isEmpty()) {
            out.add(c.loopback() ? "127.0.0.1" : "default");
        }
        return out;
    }

    private static <T> T keep(T o) {
        synchronized (KEEP) {
            KEEP.add(o);
        }
        return o;
    }

    // ------------------------------------------------------------------------------------------------ operations

    @Override
    public int rank() {
        return config.rank();
    }

    @Override
    public int worldSize() {
        return config.worldSize();
    }

    /** This job's configuration. */
    public DistConfig config() {
        return config;
    }

    /** Host and pid of each rank, as each published it at the rendezvous. */
    public List<String> members() {
        return List.of(members);
    }

    @Override
    public void allReduce(Tensor t, Op op) {
        String what = "allreduce " + op + " of " + count(t);
        check(t, what);
        if (op == Op.AVG && !t.is_floating_point()) {
            throw new IllegalArgumentException("allreduce AVG needs a floating-point tensor, got " + count(t));
        }
        ReduceOp.RedOpType type = switch (op) {
            case SUM, AVG -> ReduceOp.RedOpType.SUM;
            case MIN -> ReduceOp.RedOpType.MIN;
            case MAX -> ReduceOp.RedOpType.MAX;
        };
        execute(what, () -> {
            AllreduceOptions o = new AllreduceOptions();
            o.reduceOp(new ReduceOp(type));
            o.timeout(new Milliseconds(timeoutMs));
            return group.allreduce(new TensorVector(t), o);
        });
        if (op == Op.AVG) {
            // AVG as SUM then one division: the same result on every rank, whatever the backend supports
            try (PointerScope scope = new PointerScope()) {
                t.div_(new Scalar((double) worldSize()));
            }
        }
    }

    @Override
    public void broadcast(Tensor t, int root) {
        checkRoot(root);
        String what = "broadcast from rank " + root + " of " + count(t);
        check(t, what);
        execute(what, () -> {
            BroadcastOptions o = new BroadcastOptions();
            o.rootRank(root);
            o.rootTensor(0);
            o.timeout(new Milliseconds(timeoutMs));
            return group.broadcast(new TensorVector(t), o);
        });
    }

    @Override
    public Tensor allGather(Tensor t) {
        String what = "allgather of " + count(t);
        check(t, what);
        long n = t.numel();
        long[] shape = Buckets.shape(t);
        long[] stacked = new long[shape.length + 1];
        stacked[0] = worldSize();
        System.arraycopy(shape, 0, stacked, 1, shape.length);
        // the result lives in the caller's scope; Gloo gathers into equal 1-D chunks of one flat buffer
        Tensor out = torch.empty(new long[] {n * worldSize()}, new ScalarTypeOptional(t.scalar_type()),
                new LayoutOptional(), new DeviceOptional(), new BoolOptional(), new MemoryFormatOptional());
        execute(what, () -> {
            AllgatherOptions o = new AllgatherOptions();
            o.timeout(new Milliseconds(timeoutMs));
            return group._allgather_base(out, t.view(n), o);
        });
        return out.view(stacked);
    }

    @Override
    public void barrier() {
        execute("barrier", () -> {
            BarrierOptions o = new BarrierOptions();
            o.timeout(new Milliseconds(timeoutMs));
            return group.barrier(o);
        });
    }

    /** Starts one operation and waits for it; any failure breaks the group and names the operation and the peer. */
    @SuppressWarnings("try")
    private synchronized void execute(String what, Supplier<Work> start) {
        if (closed) {
            throw new IllegalStateException("rank " + rank() + ": " + what + " after close()");
        }
        if (broken != null) {
            throw new CollectiveException(rank(), what, peer(), "rank " + rank() + ": " + what
                    + " refused: the group failed earlier (" + broken + ")", null);
        }
        long t0 = System.nanoTime();
        RuntimeException failure = null;
        boolean done = false;
        try (PointerScope scope = new PointerScope()) {
            Work w = start.get();
            done = w._wait(new Milliseconds(timeoutMs));
        } catch (RuntimeException e) {
            failure = e;
        }
        if (failure == null && done) {
            return;
        }
        String cause = failure == null ? "not completed within the timeout" : firstLine(failure);
        broken = what + " failed: " + cause;
        throw new CollectiveException(rank(), what, peer(), "rank " + rank() + ": " + what + " failed after "
                + since(t0) + " (" + peerText() + "; --dist-timeout " + DistConfig.seconds(config.timeout())
                + "): " + cause, failure);
    }

    /** The only other rank of a world of two; unknown for larger worlds (Gloo does not say which). */
    private Integer peer() {
        return worldSize() == 2 ? 1 - rank() : null;
    }

    private String peerText() {
        Integer p = peer();
        return p != null ? "peer rank " + p + ", " + members[p]
                : "one of the other " + (worldSize() - 1) + " ranks";
    }

    /** Whether an operation failed (the group is unusable). */
    public synchronized boolean broken() {
        return broken != null;
    }

    /**
     * Leaves the group: aborts it after a failure, else shuts it down; never blocks on peers and never frees the
     * native objects (they stay until the JVM exits). Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (broken != null) {
                group.abort();
            } else {
                group.shutdown();
            }
        } catch (RuntimeException ignored) {
            // a backend without shutdown/abort: the group simply stays idle until exit
        }
    }

    @Override
    public String toString() {
        return "GlooCollective(" + config + ")";
    }

    // ------------------------------------------------------------------------------------------------ messages

    /** "5,288,548 floats", "3 int64s". */
    static String count(Tensor t) {
        if (t == null || !t.defined()) {
            return "an undefined tensor";
        }
        String n = String.format(Locale.US, "%,d", t.numel());
        DType d;
        try {
            d = TorchTensors.dtype(t.scalar_type());
        } catch (IllegalArgumentException e) {
            return n + " elements";
        }
        return n + " " + switch (d) {
            case F32 -> "floats";
            case F64 -> "doubles";
            case I64 -> "int64s";
            default -> d.name().toLowerCase(Locale.ROOT) + " elements";
        };
    }

    static String since(long t0) {
        double s = (System.nanoTime() - t0) / 1e9;
        return String.format(Locale.ROOT, s < 10 ? "%.2f s" : "%.0f s", s);
    }

    /** The C++ message without libtorch's "Exception raised from" backtrace. */
    static String firstLine(Throwable e) {
        String m = e.getMessage();
        if (m == null) {
            return e.getClass().getSimpleName();
        }
        int cut = m.indexOf("Exception raised from");
        if (cut > 0) {
            m = m.substring(0, cut);
        }
        // "[/long/build/path/gloo/transport/tcp/pair.cc:538] Read error" -> "[pair.cc:538] Read error"
        m = m.replaceAll("/[^\\s\\]]*/([^/\\s\\]]+:\\d+)", "$1");
        return String.join(" ", Arrays.stream(m.split("\n")).map(String::strip).filter(s -> !s.isEmpty())
                .toList());
    }

    private static String describeSelf() {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException | SecurityException e) {
                host = "?";
            }
        }
        return "host " + host + " pid " + ProcessHandle.current().pid();
    }
}
