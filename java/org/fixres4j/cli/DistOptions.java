package org.fixres4j.cli;

import java.time.Duration;

import org.fixres4j.dist.Collective;
import org.fixres4j.dist.DistConfig;

import picocli.CommandLine.Option;

/**
 * The distributed options a command adds with {@code @Mixin DistOptions dist;}. Without them the process reads
 * torchrun's variables ({@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK}, {@code MASTER_ADDR},
 * {@code MASTER_PORT}, {@code GLOO_SOCKET_IFNAME}); an option overrides its variable. With neither, the world is one
 * process and nothing changes.
 */
public final class DistOptions {
    @Option(names = "--rank", paramLabel = "R", description = "This process's rank (default: $RANK, else 0).")
    Integer rank;

    @Option(names = "--world-size", paramLabel = "W",
            description = "Number of processes (default: $WORLD_SIZE, else 1: no distribution).")
    Integer worldSize;

    @Option(names = "--master", paramLabel = "HOST:PORT",
            description = "Rank 0's store (default: $MASTER_ADDR:$MASTER_PORT).")
    String master;

    @Option(names = "--dist-timeout", paramLabel = "S", defaultValue = "60",
            description = "Seconds that bound the rendezvous and every collective operation (default: "
                    + "${DEFAULT-VALUE}).")
    double timeoutSeconds;

    @Option(names = "--gloo-ifname", paramLabel = "IF[,IF]",
            description = "Network interface(s) Gloo binds to (default: $GLOO_SOCKET_IFNAME; else 127.0.0.1 when "
                    + "the master is loopback, else the address this machine's hostname resolves to).")
    String glooInterfaces;

    /** This process's place in the job, from the options and the environment. */
    public DistConfig config() {
        if (!(timeoutSeconds > 0) || timeoutSeconds > 86_400) {
            throw new IllegalArgumentException("--dist-timeout must be in (0, 86400] seconds, got " + timeoutSeconds);
        }
        return DistConfig.resolve(System.getenv(), rank, worldSize, master,
                Duration.ofMillis(Math.round(timeoutSeconds * 1000)), glooInterfaces);
    }

    /** Joins the group this process belongs to ({@link org.fixres4j.dist.LocalCollective} for a world of one). */
    public Collective connect() {
        return Collective.connect(config());
    }
}
