package io.hvp4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * CI check that the committed PTX (what is packaged) is what nvcc makes of the current source. The build
 * regenerates the PTX into {@code target/ptx} when nvcc is present (build-ptx.sh); without nvcc this test is
 * skipped. nvcc's header comment lines (compiler build and version) are ignored. To fix a failure run
 * {@code cuda-kernels/build-ptx.sh --update} and commit the result.
 */
class PtxUpToDateTest {
    @Test
    void committedPtxMatchesTheSource() throws IOException {
        String dir = System.getProperty("hvp4j.generatedPtx");
        Path generated = dir == null ? null : Path.of(dir);
        assumeTrue(generated != null && Files.isRegularFile(generated.resolve(CudaKernels.PTX_SM90)),
                "nvcc not found at build time: PTX not regenerated, nothing to compare");
        for (String file : CudaKernels.PTX_FILES) {
            List<String> fresh = code(Files.readString(generated.resolve(file)));
            List<String> committed = code(CudaKernels.ptx(file));
            assertEquals(fresh, committed, file + " is stale: run cuda-kernels/build-ptx.sh --update and commit");
        }
    }

    private static List<String> code(String ptx) {
        return ptx.lines().filter(l -> !l.startsWith("//")).toList();
    }
}
