package io.hvp4j.cli;

import static io.hvp4j.cli.RankCommandTest.obj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.verification.Check;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.CheckResult;
import io.hvp4j.verification.CheckStatus;
import io.hvp4j.verification.Paper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hvp4j verify}: JSON shape, exit codes, --only, bad usage, the report. */
class VerifyCommandTest {
    static final Set<String> KEYS = Set.of("id", "paper", "kind", "status", "measured", "expected", "claim",
            "configuration", "seconds");

    @SuppressWarnings("unchecked")
    static List<Object> checks(String out) {
        Map<String, Object> j = obj(io.hvp4j.io.Json.read(out.trim()));
        assertEquals(Set.of("checks"), j.keySet());
        return (List<Object>) j.get("checks");
    }

    @Test
    void jsonIsOneObjectWithTheDocumentedFields() {
        // S9 (formula only) is instant; S12 is soft.
        RankCommandTest.Result r = RankCommandTest.run("verify", "--only", "s9,S12", "--json", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertEquals(1, r.out().trim().lines().count(), "one line on stdout");
        List<Object> checks = checks(r.out());
        assertEquals(2, checks.size());
        Map<String, Object> s9 = obj(checks.get(0)), s12 = obj(checks.get(1));
        assertEquals(KEYS, s9.keySet());
        assertEquals("S9", s9.get("id"));
        assertEquals("SBH", s9.get("paper"));
        assertEquals("hard", s9.get("kind"));
        assertEquals("pass", s9.get("status"));
        assertTrue(((String) s9.get("measured")).startsWith("16/16"), (String) s9.get("measured"));
        assertTrue(((Number) s9.get("seconds")).doubleValue() >= 0);
        assertEquals("S12", s12.get("id"));
        assertEquals("soft", s12.get("kind"));
        assertEquals("report", s12.get("status"));
        // Without a terminal, stderr carries one plain line per finished check and stdout only the JSON.
        assertEquals(List.of("S9 PASS", "S12 REPORT"), r.err().lines().map(l -> l.replaceAll(
                "^hvp4j verify: (\\S+ \\S+) \\(\\d+\\.\\d s\\)$", "$1")).toList(), r.err());
    }

    @Test
    void tableAndReportWithPlots(@TempDir Path dir) throws IOException {
        Path report = dir.resolve("out/nested");
        RankCommandTest.Result r = RankCommandTest.run("verify", "--quick", "--only", "S9,S13", "--report",
                report.toString(), "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("id "), r.out());
        assertTrue(r.out().contains("S9    hard  PASS"), r.out());
        assertTrue(r.out().contains("2/2 hard checks pass"), r.out());
        String md = Files.readString(report.resolve("report.md"));
        assertTrue(md.contains("| [S13](#s13) | SBH | hard | **PASS** |"), md);
        for (String png : List.of("sbh_rank_vs_width.png", "sbh_rank_vs_depth.png", "sbh_rank_vs_samples.png",
                "sbh_rank_over_p.png")) {
            assertTrue(md.contains("](" + png + ")"), png + " linked");
            assertTrue(Files.size(report.resolve(png)) > 1000, png);
        }
    }

    @Test
    void reportPlotsCanBeSvg(@TempDir Path dir) throws IOException {
        Path report = dir.resolve("svg");
        RankCommandTest.Result r = RankCommandTest.run("verify", "--quick", "--only", "S13", "--report",
                report.toString(), "--threads", "1", "--plot-format", "svg");
        assertEquals(0, r.code(), r.err());
        String md = Files.readString(report.resolve("report.md"));
        assertTrue(md.contains("](sbh_rank_over_p.svg)"), md);
        assertTrue(Files.readString(report.resolve("sbh_rank_over_p.svg")).contains("<svg"));
        assertFalse(Files.exists(report.resolve("sbh_rank_over_p.png")));
    }

    @Test
    void badUsageIsExitCodeTwo(@TempDir Path dir) throws IOException {
        for (String[] args : List.of(
                new String[] {"verify", "--only", "S1,S99"},
                new String[] {"verify", "--only", ""},
                new String[] {"verify", "--quick", "--full", "--only", "S9"},
                new String[] {"verify", "--threads", "0", "--only", "S9"},
                new String[] {"verify", "--report", Files.writeString(dir.resolve("file"), "x").toString(), "--only",
                    "S9"},
                new String[] {"verify", "--bogus"})) {
            RankCommandTest.Result r = RankCommandTest.run(args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.err().startsWith("hvp4j: error: "), r.err());
            assertEquals(1, r.err().trim().lines().count(), r.err());
            assertEquals("", r.out());
        }
        RankCommandTest.Result unknown = RankCommandTest.run("verify", "--only", "S99", "--json");
        assertTrue(unknown.err().contains("unknown check 'S99'") && unknown.err().contains("S1,"), unknown.err());
    }

    /** A check with a fixed outcome, or one that throws. */
    record Fake(String id, CheckKind kind, CheckStatus status, boolean fail) implements Check {
        public Paper paper() {
            return Paper.SBH;
        }

        public String claim() {
            return "fake " + id;
        }

        public CheckResult run(CheckContext c) {
            if (fail) throw new IllegalStateException("boom\nsecond line");
            return new CheckResult(id, Paper.SBH, kind, claim(), "none", "m", "e", status, List.of(), List.of(), 0);
        }
    }

    static int execute(List<Check> checks, boolean json, StringWriter out) throws IOException {
        VerifyCommand v = new VerifyCommand();
        v.json = json;
        return v.execute(checks, CheckContext.Mode.QUICK, null, 1, false, new PrintWriter(out),
                new PrintWriter(new StringWriter()));
    }

    @Test
    void exitCodesAndThrowingChecks() throws IOException {
        Check pass = new Fake("A1", CheckKind.HARD, CheckStatus.PASS, false);
        Check fail = new Fake("A2", CheckKind.HARD, CheckStatus.FAIL, false);
        Check soft = new Fake("A3", CheckKind.SOFT, CheckStatus.REPORT, false);
        Check thrower = new Fake("A4", CheckKind.SOFT, CheckStatus.REPORT, true);
        assertEquals(0, execute(List.of(pass, soft), false, new StringWriter()));
        assertEquals(1, execute(List.of(pass, fail, soft), false, new StringWriter()));
        StringWriter out = new StringWriter();
        assertEquals(1, execute(List.of(pass, thrower), true, out));
        Map<String, Object> thrown = obj(checks(out.toString()).get(1));
        assertEquals("fail", thrown.get("status"));
        assertEquals("soft", thrown.get("kind"));
        assertEquals("could not be computed: IllegalStateException: boom second line", thrown.get("measured"));
        StringWriter table = new StringWriter();
        execute(List.of(fail), false, table);
        assertTrue(table.toString().contains("A2    hard  FAIL"), table.toString());
        assertFalse(table.toString().contains("PASS"));
    }

    @Test
    void progressWithoutATerminalIsOnePlainLinePerCheck() throws IOException {
        VerifyCommand v = new VerifyCommand();
        StringWriter err = new StringWriter();
        v.execute(List.of(new Fake("A1", CheckKind.HARD, CheckStatus.PASS, false),
                        new Fake("A2", CheckKind.HARD, CheckStatus.FAIL, false)), CheckContext.Mode.QUICK, null, 1,
                false, new PrintWriter(new StringWriter()), new PrintWriter(err));
        String[] lines = err.toString().split("\\R");
        assertEquals(2, lines.length, err.toString());
        assertTrue(lines[0].startsWith("hvp4j verify: A1 PASS ("), lines[0]);
        assertTrue(lines[1].startsWith("hvp4j verify: A2 FAIL ("), lines[1]);
        assertFalse(err.toString().contains("\033"), "no terminal control codes in a log");
    }
}
