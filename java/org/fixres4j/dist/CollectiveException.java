package org.fixres4j.dist;

import java.util.OptionalInt;

/**
 * A collective operation or the rendezvous failed: a peer died or did not answer within the timeout. The message
 * names this rank, the operation and, where known, the peer. The group cannot be used afterwards.
 */
public final class CollectiveException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int rank;
    private final String operation;
    private final Integer peer;

    CollectiveException(int rank, String operation, Integer peer, String message, Throwable cause) {
        super(message, cause);
        this.rank = rank;
        this.operation = operation;
        this.peer = peer;
    }

    /** The rank that saw the failure. */
    public int rank() {
        return rank;
    }

    /** What failed, e.g. "allreduce SUM of 5,288,548 floats" or "rendezvous". */
    public String operation() {
        return operation;
    }

    /** The peer that caused it, when known. */
    public OptionalInt peer() {
        return peer == null ? OptionalInt.empty() : OptionalInt.of(peer);
    }
}
