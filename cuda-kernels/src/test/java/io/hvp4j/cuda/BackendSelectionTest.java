package io.hvp4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.hvp4j.InvalidInputException;
import io.hvp4j.backend.Backend;
import org.junit.jupiter.api.Test;

/** Backend names, and on a machine without a usable GPU (CI) the one-line refusal of cuda and auto's fallback. */
class BackendSelectionTest {
    @Test
    void namesAreParsed() {
        assertEquals("cpu", Backends.parse("cpu"));
        assertEquals("cpu", Backends.parse(" Vector "));
        assertEquals("scalar", Backends.parse("scalar"));
        assertEquals("cuda", Backends.parse("CUDA"));
        assertEquals("auto", Backends.parse("auto"));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Backends.parse("gpu"));
        assertEquals("unknown backend 'gpu' (expected cpu, cuda, auto, vector or scalar)", e.getMessage());
    }

    @Test
    void cpuBackends() {
        try (Backend b = Backends.create("cpu", 2)) {
            assertEquals("vector", b.name());
            assertEquals(2, b.threads());
            assertFalse(b.deviceMemory());
        }
        try (Backend b = Backends.create("scalar", 2)) {
            assertEquals("scalar", b.name());
        }
    }

    @Test
    void withoutADeviceCudaIsRefusedWithOneLineAndAutoFallsBack() {
        CudaProbe.Result probe = CudaProbe.probe();
        assumeFalse(probe.usable(), "a CUDA device is usable here; the GPU tests cover it");
        assertFalse(probe.reason().isBlank());
        assertFalse(probe.reason().contains("\n"));
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> Backends.create("cuda", 1));
        assertTrue(e.getMessage().startsWith("CUDA not available: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        // A second attempt gives the same clean message (no NoClassDefFoundError from a half-loaded JCuda).
        CudaUnavailableException again = assertThrows(CudaUnavailableException.class, () -> CudaBackend.create(0));
        assertEquals(e.getMessage(), again.getMessage());
        try (Backend b = Backends.create("auto", 1)) {
            assertEquals("vector", b.name());
        }
    }
}
