package io.hvp4j.cuda;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The symbols {@link CudaProbe} checks in {@code libcuda.so.1} are the ones JCuda's packaged native library
 * imports (its dynamic string table holds each name NUL-delimited), so a versioned name such as
 * {@code cuMemAlloc_v2} cannot drift from what JCuda really calls. Runs without a GPU.
 */
class DriverSymbolsTest {
    @Test
    void probedSymbolsAreJcudasImports() throws IOException {
        byte[] lib;
        try (InputStream in = jcuda.driver.JCudaDriver.class.getResourceAsStream("/lib/libJCudaDriver-12.6.0-linux-x86_64.so")) {
            assertNotNull(in, "JCuda driver natives for linux-x86_64 on the class path");
            lib = in.readAllBytes();
        }
        String text = new String(lib, StandardCharsets.ISO_8859_1);
        for (String s : CudaProbe.DRIVER_SYMBOLS) {
            assertTrue(text.contains("\0" + s + "\0"), s + " is not a symbol of libJCudaDriver");
        }
        // The deprecated call the backend avoids is indeed imported (and would be bound lazily).
        assertTrue(text.contains("\0cuDeviceComputeCapability\0"));
    }
}
