package io.hvp4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The packaged PTX (runs without a GPU): both resources exist, declare their target, and define exactly the
 * entry points {@link CudaKernels#names()} lists, each once, so that every launch of the backend finds its
 * kernel and no kernel is dead.
 */
class PtxResourcesTest {
    private static final Pattern ENTRY = Pattern.compile("^\\.visible \\.entry ([A-Za-z_0-9]+)\\(", Pattern.MULTILINE);

    static List<String> entries(String ptx) {
        List<String> out = new ArrayList<>();
        Matcher m = ENTRY.matcher(ptx);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    @Test
    void everyPtxDefinesExactlyTheKernelsTheBackendLaunches() {
        TreeSet<String> expected = new TreeSet<>(CudaKernels.names());
        assertEquals(CudaKernels.names().size(), expected.size(), "duplicate names in CudaKernels.names()");
        for (String file : CudaKernels.PTX_FILES) {
            String ptx = CudaKernels.ptx(file);
            List<String> found = entries(ptx);
            assertEquals(found.size(), new TreeSet<>(found).size(), file + ": duplicate entries");
            assertEquals(expected, new TreeSet<>(found), file + ": entries differ from CudaKernels.names()");
            assertTrue(ptx.contains("\n.version 9.0\n"), file + ": PTX ISA version (nvcc 13) changed: update CudaProbe");
            assertTrue(ptx.contains("\n.address_size 64\n"), file);
        }
    }

    @Test
    void targetsMatchTheDeviceSelection() {
        assertTrue(CudaKernels.ptx(CudaKernels.PTX_SM90).contains("\n.target sm_90\n"));
        assertTrue(CudaKernels.ptx(CudaKernels.PTX_COMPUTE75).contains("\n.target sm_75\n"));
        assertEquals(CudaKernels.PTX_SM90, CudaKernels.ptxFor(9));
        assertEquals(CudaKernels.PTX_SM90, CudaKernels.ptxFor(10));
        assertEquals(CudaKernels.PTX_COMPUTE75, CudaKernels.ptxFor(8));
        assertEquals(CudaKernels.PTX_COMPUTE75, CudaKernels.ptxFor(7));
    }

    @Test
    void everyActivationHasAKernel() {
        for (io.hvp4j.autodiff.Activation a : io.hvp4j.autodiff.Activation.values()) {
            assertTrue(CudaKernels.ELEMENTWISE.contains(a.id()), a.id());
        }
    }

    @Test
    void reductionShapeMatchesTheSource() throws Exception {
        String cu = java.nio.file.Files.readString(java.nio.file.Path.of("src/main/cuda/hvp4j.cu"));
        assertTrue(cu.contains("#define REDUCE_THREADS " + CudaKernels.REDUCE_THREADS + "\n"));
        assertTrue(cu.contains("#define REDUCE_BLOCKS " + CudaKernels.REDUCE_BLOCKS + "\n"));
    }
}
