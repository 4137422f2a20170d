package io.hvp4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * CI checks that the committed PTX (what is packaged) is what nvcc makes of the current source. The build
 * regenerates the PTX into {@code target/ptx} when nvcc is present (build-ptx.sh); without nvcc this test is
 * skipped, and so it is when the build's nvcc release differs from the one named in the committed PTX's header
 * (13.0 now). nvcc's header comment lines (compiler build and version) are ignored in the comparison. To fix a failure run
 * {@code cuda-kernels/build-ptx.sh --update} and commit the result. Where nvcc is absent, the source hash that
 * {@code build-ptx.sh --update} records beside the committed PTX ({@code hvp4j.cu.sha256}) still ties the PTX to
 * the source: an edit of {@code hvp4j.cu} without regenerated PTX fails on every machine.
 */
class PtxUpToDateTest {
    @Test
    void committedPtxMatchesTheSource() throws IOException {
        String dir = System.getProperty("hvp4j.generatedPtx");
        Path generated = dir == null ? null : Path.of(dir);
        assumeTrue(generated != null && Files.isRegularFile(generated.resolve(CudaKernels.PTX_SM90)),
                "no regenerated PTX (nvcc absent at build time, or run outside Maven): nothing to compare");
        for (String file : CudaKernels.PTX_FILES) {
            String freshText = Files.readString(generated.resolve(file));
            String committedText = CudaKernels.ptx(file);
            // Another nvcc release may emit other (equally valid) PTX: compare only like with like.
            assumeTrue(release(freshText).equals(release(committedText)), () -> "the build's nvcc ("
                    + release(freshText) + ") differs from the one that made the committed PTX ("
                    + release(committedText) + "): not comparable");
            List<String> fresh = code(freshText);
            List<String> committed = code(committedText);
            assertEquals(fresh, committed, file + " is stale: run cuda-kernels/build-ptx.sh --update and commit");
        }
    }

    @Test
    void committedPtxWasMadeFromTheCurrentSource() throws IOException, NoSuchAlgorithmException {
        Path source = Path.of("src/main/cuda/hvp4j.cu");
        String recorded = Files.readString(Path.of("src/main/resources/io/hvp4j/cuda/hvp4j.cu.sha256")).trim();
        String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(source)))
                + "  hvp4j.cu";
        assertEquals(recorded, actual, "hvp4j.cu changed since the committed PTX was made: run"
                + " cuda-kernels/build-ptx.sh --update (nvcc 13.0) and commit the PTX and hvp4j.cu.sha256");
    }

    private static String release(String ptx) {
        return ptx.lines().filter(l -> l.startsWith("// Cuda compilation tools")).findFirst().orElse("unknown nvcc");
    }

    private static List<String> code(String ptx) {
        return ptx.lines().filter(l -> !l.startsWith("//")).toList();
    }
}
