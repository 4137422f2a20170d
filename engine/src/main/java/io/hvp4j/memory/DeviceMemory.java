package io.hvp4j.memory;

/**
 * A block of accelerator memory that the host cannot address, owned by whoever allocated it (for the CUDA
 * backend: an {@link java.lang.foreign.Arena}, which frees it on close). {@link Tensor}s view it through
 * {@link Tensor#onDevice}; only the backend that allocated it can read or write it, and the host moves data in
 * and out with {@code Backend.upload}/{@code Backend.download}.
 */
public interface DeviceMemory {
    /**
     * The allocation's size.
     *
     * @return its size in bytes
     */
    long byteSize();

    /** Throws {@link IllegalStateException} when the memory has been freed (its owner was closed). */
    void checkAlive();

    /**
     * Where the memory lives, for messages.
     *
     * @return e.g. {@code cuda:0}
     */
    String location();
}
