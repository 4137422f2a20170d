package io.hvp4j.verification.skvb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LogDensityDistanceTest {
  @Test
  void transformByHand() {
    // [1, 0, e², e] → zeros to 1 → log [0, 0, 2, 1] → min-max [0, 0, 1, ½] → /1.5.
    double e = Math.E;
    assertArrayEquals(new double[] {0, 0, 2.0 / 3, 1.0 / 3}, LogDensityDistance.transform(new double[] {1, 0, e * e, e}), 1e-15);
  }

  @Test
  void distancesByHand() {
    for (int i = 0; i < K7LogDensityDistance.CASES.length; i++) {
      double[][] c = K7LogDensityDistance.CASES[i];
      assertEquals(K7LogDensityDistance.EXPECTED[i], LogDensityDistance.distance(c[0], c[1]), 1e-12);
      assertEquals(K7LogDensityDistance.EXPECTED[i], LogDensityDistance.distance(c[1], c[0]), 1e-12, "symmetric");
    }
  }

  @Test
  void wassersteinOfPointMassesIsTheirDistance() {
    assertEquals(0.25, LogDensityDistance.wasserstein(new double[] {0.5}, new double[] {0.75}), 1e-15);
    assertEquals(0, LogDensityDistance.wasserstein(new double[] {0.1, 0.3}, new double[] {0.3, 0.1}), 0);
  }

  @Test
  void quirksAndBadInput() {
    assertTrue(Double.isNaN(LogDensityDistance.distance(new double[] {2, 2}, new double[] {1, 3})), "constant: 0/0");
    assertThrows(IllegalArgumentException.class, () -> LogDensityDistance.transform(new double[] {0, 0}));
    assertThrows(IllegalArgumentException.class, () -> LogDensityDistance.transform(new double[] {1, -1}));
  }
}
