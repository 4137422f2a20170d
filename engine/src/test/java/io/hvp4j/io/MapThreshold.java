package io.hvp4j.io;

/** Runs test code with {@link MappedFiles#THRESHOLD_PROPERTY} set, restoring the property afterwards. */
final class MapThreshold {
    @FunctionalInterface
    interface Body {
        void run() throws Exception;
    }

    private MapThreshold() {
    }

    static void with(long bytes, Body body) throws Exception {
        String old = System.getProperty(MappedFiles.THRESHOLD_PROPERTY);
        System.setProperty(MappedFiles.THRESHOLD_PROPERTY, Long.toString(bytes));
        try {
            body.run();
        } finally {
            if (old == null) System.clearProperty(MappedFiles.THRESHOLD_PROPERTY);
            else System.setProperty(MappedFiles.THRESHOLD_PROPERTY, old);
        }
    }
}
