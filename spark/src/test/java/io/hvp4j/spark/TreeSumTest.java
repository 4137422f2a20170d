package io.hvp4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The partition sum's bits depend on the partition count only, whatever order and grouping Spark merges in. */
class TreeSumTest {
    static double[] part(int p, int n) {
        Random r = new Random(1000 + p);
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextGaussian() * Math.pow(10, r.nextInt(12) - 6); // wide magnitudes: order-sensitive sums
        }
        return a;
    }

    /** Adds the partitions in a random order, in random groups that are merged in a random order. */
    static double[] shuffled(int partitions, long seed) {
        Random r = new Random(seed);
        List<Integer> order = new ArrayList<>();
        for (int p = 0; p < partitions; p++) order.add(p);
        Collections.shuffle(order, r);
        List<TreeSum> groups = new ArrayList<>();
        for (int p : order) {
            if (groups.isEmpty() || r.nextInt(3) == 0) {
                groups.add(new TreeSum(partitions));
            }
            groups.get(r.nextInt(groups.size())).add(p, part(p, 5));
        }
        Collections.shuffle(groups, r);
        TreeSum total = new TreeSum(partitions);
        for (TreeSum g : groups) total.merge(g);
        return total.total();
    }

    @Test
    void anyOrderGivesTheSameBits() {
        for (int n = 1; n <= 13; n++) {
            double[] first = shuffled(n, 0);
            double[] plain = new double[5], magnitude = new double[5];
            for (int p = 0; p < n; p++) {
                double[] a = part(p, 5);
                for (int i = 0; i < 5; i++) {
                    plain[i] += a[i];
                    magnitude[i] += Math.abs(a[i]);
                }
            }
            for (int i = 0; i < 5; i++) { // any summation order is within n·ε·Σ|a| of any other
                assertEquals(plain[i], first[i], 1e-14 * magnitude[i], "the sum itself, n=" + n);
            }
            for (long seed = 1; seed < 40; seed++) {
                assertArrayEquals(first, shuffled(n, seed), "n=" + n + " order " + seed);
            }
        }
    }

    @Test
    void anIncompleteOrDoubledSumIsRefused() {
        TreeSum t = new TreeSum(3).add(0, new double[1]).add(2, new double[1]);
        assertThrows(IllegalStateException.class, t::total);
        assertThrows(IllegalStateException.class, () -> new TreeSum(3).add(1, new double[1]).add(1, new double[1]));
    }
}
