package io.hvp4j.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TicksTest {

  private static final double[][] LOG_RANGES = {
    {1e-300, 1}, {1e-300, 1e300}, {1e-8, 1}, {3e-9, 74}, {1, 1000}, {0.5, 1000}, {0.5, 5}, {0.05, 0.6},
    {100, 5000}, {30, 2000}, {1.1, 1.5}, {0.9, 1.1}, {1e-3, 1e5}, {3, 7}, {0.2, 0.95}, {1e5, 1e7}, {0.5, 1.5},
  };

  private static final double[][] LINEAR_RANGES = {
    {-0.4, 1.07}, {0, 1e-6}, {1e6, 3e7}, {-5, 5}, {0, 1}, {0, 1}, {-1e-300, 1e-300}, {12345, 12346}, {0.999, 1.001},
    {-3e8, 2e8}, {0, 10}, {1, 30},
  };

  @Test
  void everyLogAxisHasThreeToTenLabelsAndAtMostOnePerDecadeWhenItSpansDecades() {
    for (double[] r : LOG_RANGES) {
      for (int max = Ticks.MIN_LABELS; max <= Ticks.MAX_LABELS; max++) {
        List<Ticks.Tick> t = Ticks.log(r[0], r[1], max);
        int n = Ticks.labelled(t);
        String where = "[" + r[0] + ", " + r[1] + "] max " + max + ": " + plain(t);
        assertTrue(n >= Ticks.MIN_LABELS && n <= (max >= 6 ? max : Ticks.MAX_LABELS), where);
        inside(t, r, where);
        int powers = (int) (Math.floor(Math.log10(r[1]) + 1e-9) - Math.ceil(Math.log10(r[0]) - 1e-9) + 1);
        if (powers >= 3) {
          Set<Long> decades = new HashSet<>();
          for (Ticks.Tick k : t) {
            if (k.minor()) continue;
            double d = Math.log10(k.value());
            assertEquals(Math.rint(d), d, 1e-9, "powers of ten only: " + where);
            assertTrue(decades.add(Math.round(d)), "one label per decade: " + where);
          }
        }
      }
    }
  }

  @Test
  void everyLinearAxisHasThreeToTenLabels() {
    for (double[] r : LINEAR_RANGES) {
      for (int max = Ticks.MIN_LABELS; max <= Ticks.MAX_LABELS; max++) {
        List<Ticks.Tick> t = Ticks.linear(r[0], r[1], max);
        String where = "[" + r[0] + ", " + r[1] + "] max " + max + ": " + t;
        assertTrue(t.size() >= Ticks.MIN_LABELS && t.size() <= (max >= 6 ? max : Ticks.MAX_LABELS), where);
        inside(t, r, where);
        Set<String> labels = new HashSet<>();
        for (Ticks.Tick k : t) assertTrue(labels.add(k.plain()), "distinct labels: " + where);
      }
    }
  }

  @Test
  void labelsReadAsNumbers() {
    assertEquals(List.of("1", "10", "100", "1000"), plain(Ticks.log(1, 1000, 10)));
    assertEquals(List.of("10^−8", "10^−6", "10^−4", "10^−2", "10^0"), plain(Ticks.log(1e-8, 1, 5)));
    assertEquals(List.of("0.05", "0.1", "0.2", "0.5"), plain(Ticks.log(0.05, 0.6, 10)));
    assertEquals(List.of("100", "200", "500", "1000", "2000", "5000"), plain(Ticks.log(100, 5000, 10)));
    assertEquals(List.of("−0.4", "−0.2", "0", "0.2", "0.4", "0.6", "0.8", "1"), plain(Ticks.linear(-0.4, 1.07, 10)));
    assertEquals(List.of("0", "2×10^−7", "4×10^−7", "6×10^−7", "8×10^−7", "10^−6"), plain(Ticks.linear(0, 1e-6, 10)));
    assertEquals(List.of("0", "1", "2", "3", "4"), plain(Ticks.linear(-0.1, 4.1, 10, true)), "whole epochs");
    assertEquals(List.of("0", "1", "2"), plain(Ticks.linear(0, 2, 10, true)));
    assertEquals(List.of("0", "0.2", "0.4", "0.6", "0.8", "1"), plain(Ticks.linear(0, 1, 10, true)), "3 labels win");
    assertEquals("1.23×10^−5", Ticks.number(1.234e-5, 3).plain());
    assertEquals("10^−8", Ticks.number(1e-8, 2).plain());
    assertEquals("3×10^−5", Ticks.number(3e-5, 2).plain());
    assertEquals("0.0148", Ticks.number(0.014766, 3).plain());
  }

  private static List<String> plain(List<Ticks.Tick> t) {
    return t.stream().filter(k -> !k.minor()).map(Ticks.Tick::plain).toList();
  }

  private static void inside(List<Ticks.Tick> t, double[] r, String where) {
    double prev = Double.NEGATIVE_INFINITY;
    for (Ticks.Tick k : t) {
      double slack = Math.abs(r[1] - r[0]) * 1e-9 + Math.abs(k.value()) * 1e-9;
      assertTrue(k.value() >= r[0] - slack && k.value() <= r[1] + slack, "inside the range: " + where);
      assertTrue(k.value() > prev, "ascending: " + where);
      prev = k.value();
    }
  }
}
