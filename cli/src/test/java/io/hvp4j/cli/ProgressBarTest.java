package io.hvp4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.Progress;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
    @Test
    void lineShowsFractionElapsedAndEstimate() {
        ProgressBar b = new ProgressBar(new PrintWriter(new StringWriter()), "H", "columns");
        assertEquals("hvp4j: H [###############...............] 50/100 columns  50% 0:10 elapsed, ~0:10 left",
                b.line(50, 100, 10));
        assertEquals("hvp4j: H [##############################] 100/100 columns 100% 1:01:05 elapsed",
                b.line(100, 100, 3665));
        assertEquals("0.25 s", ProgressBar.duration(0.25));
        assertEquals("3:07", ProgressBar.duration(187));
    }

    @Test
    void quietWithoutATerminal() {
        // Tests run with stdin/stderr redirected: no terminal, so no bar and nothing written.
        StringWriter w = new StringWriter();
        Progress p = ProgressBar.forTerminal(new PrintWriter(w), "H", "columns");
        assertSame(Progress.NONE, p);
        p.update(1, 2);
        ProgressBar.status(p, "next");
        ProgressBar.clear(p);
        assertTrue(w.toString().isEmpty());
    }
}
