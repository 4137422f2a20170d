package io.hvp4j.cuda;

/**
 * No usable CUDA device: no driver library, a driver that fails to initialize, no device, an unsupported
 * device, or PTX the driver cannot load. The message starts with {@code CUDA not available: } and is one line.
 */
public final class CudaUnavailableException extends RuntimeException {
    public CudaUnavailableException(String reason) {
        super("CUDA not available: " + reason);
    }

    public CudaUnavailableException(String reason, Throwable cause) {
        super("CUDA not available: " + reason, cause);
    }
}
