package io.hvp4j.data;

import io.hvp4j.random.Rng;
import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/**
 * A Gaussian mixture with one-hot targets, the data of docs/theory.md §B.3: {@code k} centres in {@code R^d}, each a
 * standard-normal vector rescaled to norm {@code separation}; every cluster contributes {@code perCluster}
 * points {@code centre + N(0, I_d)}. Rows are ordered cluster by cluster (sample {@code i} has label
 * {@code i / perCluster}); targets are one-hot ({@code N × k}). Deterministic for a seed: the centres come from
 * the first split of {@code SplittableRandom(seed)}, the noise from the second.
 */
public final class GaussianClusters {
    private GaussianClusters() {
    }

    /**
     * The parameters of a mixture.
     *
     * @param clusters   k, at least 1
     * @param dimension  d, at least 1
     * @param separation the norm of every centre, finite and non-negative
     * @param perCluster points per cluster, at least 1
     */
    public record Spec(int clusters, int dimension, double separation, int perCluster) {
        /** Validates the parameters ({@link InvalidInputException} for bad ones). */
        public Spec {
            if (clusters < 1 || dimension < 1 || perCluster < 1) {
                throw new InvalidInputException("clusters, dimension and points per cluster must be positive, got "
                        + clusters + ", " + dimension + ", " + perCluster);
            }
            if (!(separation >= 0) || Double.isInfinite(separation)) {
                throw new InvalidInputException("separation must be finite and non-negative, got " + separation);
            }
            if ((long) clusters * perCluster > Integer.MAX_VALUE / 2) {
                throw new InvalidInputException("too many points: " + clusters + " x " + perCluster);
            }
        }

        /**
         * The number of points.
         *
         * @return {@code clusters · perCluster}
         */
        public int size() {
            return clusters * perCluster;
        }
    }

    /**
     * Draws the mixture.
     *
     * @param arena owns the tensors
     * @param dtype their dtype
     * @param spec  the mixture
     * @param seed  the seed
     * @return the data set, cluster by cluster
     */
    public static Dataset generate(Arena arena, DType dtype, Spec spec, long seed) {
        SplittableRandom root = new SplittableRandom(seed);
        SplittableRandom rc = root.split(), rx = root.split();
        int k = spec.clusters(), d = spec.dimension();
        double[][] centres = new double[k][d];
        for (double[] c : centres) {
            double norm = 0;
            for (int j = 0; j < d; j++) {
                c[j] = Rng.gaussian(rc);
                norm += c[j] * c[j];
            }
            norm = Math.sqrt(norm);
            for (int j = 0; j < d; j++) c[j] *= spec.separation() / norm;
        }
        int n = spec.size();
        Tensor x = Tensor.allocate(arena, dtype, n, d);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int c = i / spec.perCluster();
            labels[i] = c;
            for (int j = 0; j < d; j++) x.set(i, j, centres[c][j] + Rng.gaussian(rx));
        }
        return new Dataset(x, Dataset.oneHot(arena, dtype, labels, k),
                "clusters:" + k + "x" + spec.perCluster() + " in d=" + d + ", sep=" + spec.separation());
    }
}
