package io.hvp4j.spark;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;

/**
 * A sum of one array per partition whose bits depend only on the partition count, not on the order in which
 * Spark's {@code treeAggregate} combines partial results (it merges task results as they arrive).
 *
 * <p>The partitions {@code 0..n-1} are the leaves of a fixed binary tree: with {@code L = ⌈log₂ n⌉}, node
 * {@code (j, r)} holds the partitions {@code p < n} with {@code p ≡ r (mod 2^j)}; its children are {@code (j+1, r)}
 * and {@code (j+1, r + 2^j)}. A node's sum is its children's sum (a lone child is passed up unchanged), so every
 * node, whenever and wherever it is formed, has the same bits. Residue classes match {@code treeAggregate}'s own
 * grouping of partition {@code i} with {@code i mod m}, so executors combine whole subtrees when {@code m} is a
 * power of two. Mutable, not thread-safe; arrays passed in are taken over.
 */
final class TreeSum implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int n;
    private final int levels;
    /** Complete nodes not yet combined: key {@code j << 32 | r}. */
    private final Map<Long, double[]> nodes = new HashMap<>();

    TreeSum(int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be positive, got " + partitions);
        }
        this.n = partitions;
        this.levels = 32 - Integer.numberOfLeadingZeros(partitions - 1); // ⌈log₂ n⌉
    }

    /** Adds the array of partition {@code p} (taken over); returns this. */
    TreeSum add(int p, double[] values) {
        if (p < 0 || p >= n) {
            throw new IllegalArgumentException("partition " + p + " of " + n);
        }
        insert(levels, p, values);
        return this;
    }

    /** Moves every node of {@code other} (same partition count) into this; returns this. */
    TreeSum merge(TreeSum other) {
        if (other.n != n) {
            throw new IllegalArgumentException("sums over " + n + " and " + other.n + " partitions");
        }
        for (Map.Entry<Long, double[]> e : other.nodes.entrySet()) {
            insert((int) (e.getKey() >>> 32), (int) (long) e.getKey(), e.getValue());
        }
        other.nodes.clear();
        return this;
    }

    private void insert(int j, int r, double[] values) {
        while (j > 0) {
            int half = 1 << (j - 1);
            int sibling = r ^ half;
            if (sibling < n) { // else the sibling holds no partition: pass this node up unchanged
                double[] other = nodes.remove(key(j, sibling));
                if (other == null) {
                    if (nodes.putIfAbsent(key(j, r), values) != null) {
                        throw new IllegalStateException("partition sum (" + j + ", " + r + ") added twice");
                    }
                    return;
                }
                if (other.length != values.length) {
                    throw new IllegalArgumentException("arrays of " + values.length + " and " + other.length);
                }
                for (int i = 0; i < values.length; i++) {
                    values[i] += other[i]; // a + b == b + a in IEEE 754: which one holds the sum is immaterial
                }
            }
            j--;
            r &= half - 1;
        }
        if (nodes.putIfAbsent(key(0, 0), values) != null) {
            throw new IllegalStateException("a partition was added twice");
        }
    }

    private static long key(int j, int r) {
        return (long) j << 32 | (r & 0xFFFFFFFFL);
    }

    /** The total once every partition was added. */
    double[] total() {
        double[] t = nodes.get(key(0, 0));
        if (t == null || nodes.size() != 1) {
            throw new IllegalStateException("the sum is incomplete: " + nodes.size() + " part(s) of " + n
                    + " partitions");
        }
        return t;
    }
}
