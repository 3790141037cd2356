package org.fixres4j.dist;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Map;

/**
 * Where this process sits in a distributed job, with torchrun's conventions: {@code RANK}, {@code WORLD_SIZE},
 * {@code LOCAL_RANK}, {@code MASTER_ADDR}, {@code MASTER_PORT}. Rank 0 hosts the rendezvous store on
 * {@code masterPort}; every other rank connects to {@code masterAddr:masterPort}.
 *
 * @param rank this process's rank, 0 .. worldSize-1
 * @param worldSize how many processes take part; 1 means no store and no group (a {@link LocalCollective})
 * @param localRank the rank among the processes of this machine (informational; 0 when unknown)
 * @param masterAddr the host of rank 0's store (null only when worldSize is 1)
 * @param masterPort the store's TCP port, 1..65535 (0 only when worldSize is 1)
 * @param timeout bounds the rendezvous and every collective operation
 * @param glooInterfaces network interfaces Gloo binds to (comma-separated, like {@code GLOO_SOCKET_IFNAME}), or null
 */
public record DistConfig(int rank, int worldSize, int localRank, String masterAddr, int masterPort, Duration timeout,
                         String glooInterfaces) {

    /** The default for {@code --dist-timeout}: long enough for a slow step, short enough to notice a dead peer. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    public DistConfig {
        if (worldSize < 1) {
            throw new IllegalArgumentException("world size must be at least 1, got " + worldSize);
        }
        if (rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("rank must be in 0.." + (worldSize - 1) + " for a world of "
                    + worldSize + ", got " + rank);
        }
        if (localRank < 0) {
            throw new IllegalArgumentException("local rank must be >= 0, got " + localRank);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the distributed timeout must be positive, got " + timeout);
        }
        if (timeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("the distributed timeout is too long: " + timeout);
        }
        if (worldSize > 1) {
            if (masterAddr == null || masterAddr.isBlank()) {
                throw new IllegalArgumentException("a world of " + worldSize + " needs the store's address: set "
                        + "MASTER_ADDR and MASTER_PORT or pass --master host:port");
            }
            checkPort(masterPort);
        }
        if (glooInterfaces != null && glooInterfaces.isBlank()) {
            glooInterfaces = null;
        }
    }

    /** One process, no store, no group. */
    public static DistConfig single() {
        return new DistConfig(0, 1, 0, null, 0, DEFAULT_TIMEOUT, null);
    }

    /** Whether a group is needed at all (world size above 1). */
    public boolean distributed() {
        return worldSize > 1;
    }

    /** Whether rank 0's store is on this machine's loopback (then Gloo is bound to 127.0.0.1). */
    public boolean loopback() {
        return masterAddr != null && isLoopback(masterAddr);
    }

    /** {@code host:port} of the store. */
    public String master() {
        return masterAddr + ":" + masterPort;
    }

    @Override
    public String toString() {
        return "rank " + rank + "/" + worldSize + (distributed() ? " (store " + master() + ", timeout "
                + seconds(timeout) + ")" : "");
    }

    /**
     * Reads torchrun's variables from {@code env}; {@code rank}, {@code worldSize} and {@code master} (host:port)
     * override them when not null. Without any of them the result is {@link #single()} with the given timeout.
     */
    public static DistConfig resolve(Map<String, String> env, Integer rank, Integer worldSize, String master,
                                     Duration timeout, String glooInterfaces) {
        Integer envWorld = intVar(env, "WORLD_SIZE");
        Integer envRank = intVar(env, "RANK");
        Integer envLocal = intVar(env, "LOCAL_RANK");
        int world = worldSize != null ? worldSize : envWorld != null ? envWorld : 1;
        Integer r = rank != null ? rank : envRank;
        if (world > 1 && r == null) {
            throw new IllegalArgumentException("a world of " + world + " needs this process's rank: set RANK or "
                    + "pass --rank");
        }
        int theRank = r == null ? 0 : r;
        String addr;
        int port;
        if (master != null) {
            int colon = master.lastIndexOf(':');
            if (colon <= 0 || colon == master.length() - 1) {
                throw new IllegalArgumentException("--master must be host:port, got '" + master + "'");
            }
            addr = master.substring(0, colon);
            if (addr.startsWith("[") && addr.endsWith("]")) {
                addr = addr.substring(1, addr.length() - 1);
            }
            port = parsePort(master.substring(colon + 1), "--master");
        } else {
            addr = env.get("MASTER_ADDR");
            String p = env.get("MASTER_PORT");
            port = p == null || p.isBlank() ? 0 : parsePort(p.trim(), "MASTER_PORT");
            if (world > 1 && (addr == null || addr.isBlank() || p == null || p.isBlank())) {
                throw new IllegalArgumentException("a world of " + world + " needs the store's address: set "
                        + "MASTER_ADDR and MASTER_PORT or pass --master host:port");
            }
        }
        String ifnames = glooInterfaces != null ? glooInterfaces : env.get("GLOO_SOCKET_IFNAME");
        return new DistConfig(theRank, world, envLocal == null ? 0 : envLocal,
                world > 1 ? addr : null, world > 1 ? port : 0, timeout == null ? DEFAULT_TIMEOUT : timeout,
                ifnames);
    }

    /** {@link #resolve(Map, Integer, Integer, String, Duration, String)} from the process environment only. */
    public static DistConfig fromEnvironment() {
        return resolve(System.getenv(), null, null, null, null, null);
    }

    static boolean isLoopback(String host) {
        if (host.equals("localhost") || host.startsWith("127.") || host.equals("::1")) {
            return true;
        }
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException | SecurityException e) {
            return false;
        }
    }

    static String seconds(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + " s" : String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
    }

    private static Integer intVar(Map<String, String> env, String name) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            return null;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be an integer, got '" + v + "'");
        }
    }

    private static int parsePort(String s, String what) {
        int port;
        try {
            port = Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + ": the port must be an integer, got '" + s + "'");
        }
        checkPort(port);
        return port;
    }

    private static void checkPort(int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("the store's port must be in 1..65535, got " + port);
        }
    }
}
