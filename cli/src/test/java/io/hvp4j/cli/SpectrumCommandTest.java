package io.hvp4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code spectrum --method lanczos|slq} against {@code --method exact} on a small network. */
class SpectrumCommandTest {
    static final String[] NET = {"--arch", "5,4,3", "--act", "tanh", "--loss", "ce", "--data", "gaussian:12"};

    private static String[] with(String... extra) {
        String[] a = new String[NET.length + extra.length];
        System.arraycopy(extra, 0, a, 0, 1);
        System.arraycopy(NET, 0, a, 1, NET.length);
        System.arraycopy(extra, 1, a, 1 + NET.length, extra.length - 1);
        return a;
    }

    private static double[] column(Path csv, int col) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        return lines.stream().skip(1).mapToDouble(l -> Double.parseDouble(l.split(",")[col])).toArray();
    }

    @Test
    void lanczosEndsMatchTheExactSpectrumAndSlqCountsAllEigenvalues(@TempDir Path dir) throws IOException {
        Path exact = dir.resolve("exact.csv"), lanczos = dir.resolve("lanczos.csv"), slq = dir.resolve("slq.csv");
        assertEquals(0, RankCommandTest.run(with("spectrum", "--out", exact.toString())).code());
        assertEquals(0, RankCommandTest.run(with("spectrum", "--method", "lanczos", "--k", "3", "--out",
                lanczos.toString())).code());
        double[] ev = column(exact, 1);
        double[] lv = column(lanczos, 1);
        double scale = Math.max(Math.abs(ev[0]), Math.abs(ev[ev.length - 1]));
        // Smallest first: the three most negative, then the three largest (ascending).
        for (int i = 0; i < 3; i++) {
            assertEquals(ev[i], lv[i], 1e-8 * scale, "bottom " + i);
            assertEquals(ev[ev.length - 3 + i], lv[lv.length - 3 + i], 1e-8 * scale, "top " + i);
        }
        assertEquals(0, RankCommandTest.run(with("spectrum", "--method", "slq", "--steps", "20", "--probes", "4",
                "--grid", "500", "--out", slq.toString())).code());
        double[] cumulative = column(slq, 2);
        int p = 5 * 4 + 4 + 4 * 3 + 3;
        // The smoothed density integrates to n over the grid (Gaussian tails padded by the grid range).
        assertEquals(p, cumulative[cumulative.length - 1], 0.05 * p);
    }

    @Test
    void badIterativeOptionsAreRejected(@TempDir Path dir) {
        Path out = dir.resolve("x.csv");
        RankCommandTest.Result r = RankCommandTest.run(with("spectrum", "--method", "lanczos", "--k", "0", "--out",
                out.toString()));
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("hvp4j: error:"), r.err());
        assertFalse(Files.exists(out));
        r = RankCommandTest.run(with("spectrum", "--method", "slq", "--steps", "1"));
        assertEquals(2, r.code());
        r = RankCommandTest.run(with("spectrum", "--method", "magic"));
        assertEquals(2, r.code());
    }

    @Test
    void plotsArePngOrSvgForEveryMethod(@TempDir Path dir) throws IOException {
        for (String m : List.of("exact", "lanczos", "slq")) {
            Path png = dir.resolve(m + ".png");
            assertEquals(0, RankCommandTest.run(with("spectrum", "--method", m, "--k", "2", "--steps", "10",
                    "--probes", "2", "--grid", "200", "--out", dir.resolve(m + ".csv").toString(), "--plot",
                    png.toString())).code(), m);
            byte[] head = Files.readAllBytes(png);
            assertTrue(head.length > 1000 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G', m);
        }
        Path svg = dir.resolve("s.svg");
        assertEquals(0, RankCommandTest.run(with("spectrum", "--plot", svg.toString(), "--out",
                dir.resolve("s.csv").toString())).code());
        String text = Files.readString(svg);
        assertTrue(text.contains("<svg"));
        // Operator, method and model are named on the picture; the axes have units.
        assertTrue(text.contains(">Eigenvalues of the loss Hessian H (exact, dense)</text>"), text);
        assertTrue(text.contains(">MLP "), text);
        assertTrue(text.contains(">count (eigenvalues per bin)</text>"), text);
        RankCommandTest.Result r = RankCommandTest.run(with("spectrum", "--plot", dir.resolve("x.jpg").toString()));
        assertEquals(2, r.code());
        assertTrue(r.err().contains(".png or .svg"), r.err());
        r = RankCommandTest.run(with("spectrum", "--plot", dir.resolve("no/such/x.png").toString()));
        assertEquals(2, r.code());
    }
}
