package io.hvp4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * 10,000 Hessian-vector products (and 100 objectives opened and closed) leave native memory where it was,
 * measured by the JVM's native memory tracking in a separate JVM (NMT must be switched on at start-up).
 */
class NativeMemoryLeakTest {
    @Test
    void tenThousandProductsDoNotGrowNativeMemory() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(List.of(java, "-XX:NativeMemoryTracking=summary", "--add-modules",
                "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), LeakProbe.class.getName(), "10000"))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        String line = out.lines().filter(l -> l.startsWith("other_committed_kb ")).findFirst().orElseThrow(
                () -> new AssertionError(out));
        String[] f = line.split(" ");
        long before = Long.parseLong(f[1]), after = Long.parseLong(f[2]);
        // One leaked P-vector (P = 212 doubles) per product would be 16 MB; allow 256 KB of JVM noise.
        assertTrue(after - before < 256, "native memory grew from " + before + " KB to " + after + " KB");
    }
}
