package io.hvp4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** What {@link AtomicFile} replaces and what it must not: links are followed, devices and pipes written through. */
class AtomicFileTest {
    private static void write(Path file, String text) {
        AtomicFile.write(file, ch -> ch.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void replacesARegularFileAndLeavesNoTemporaryFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("out.csv");
        Files.writeString(f, "old");
        write(f, "new");
        assertEquals("new", Files.readString(f));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void removesTemporaryFilesAKilledWriterLeftButNotLiveOnes(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("ck.bin");
        Path abandoned = dir.resolve(".ck.bin.1f2e3d.tmp"), young = dir.resolve(".ck.bin.abc.tmp");
        Path locked = dir.resolve(".ck.bin.77.tmp"), other = dir.resolve(".other.bin.1f2e3d.tmp");
        Path notOurs = dir.resolve(".ck.bin.notahex.tmp");
        java.nio.file.attribute.FileTime old = java.nio.file.attribute.FileTime.fromMillis(
                System.currentTimeMillis() - 2 * IoSupport.ABANDONED_AFTER_MS);
        for (Path p : new Path[] {abandoned, young, locked, other, notOurs}) {
            Files.writeString(p, "partial");
            if (p != young) {
                Files.setLastModifiedTime(p, old);
            }
        }
        // A live writer in another process holds a lock on its file (the case removeAbandoned must spare).
        Path holder = Files.writeString(dir.resolve("Hold.java"), """
                public class Hold {
                    public static void main(String[] a) throws Exception {
                        try (var ch = java.nio.channels.FileChannel.open(java.nio.file.Path.of(a[0]),
                                java.nio.file.StandardOpenOption.WRITE); var l = ch.lock()) {
                            System.out.println("locked");
                            System.out.flush();
                            System.in.read();
                        }
                    }
                }
                """);
        String java = ProcessHandle.current().info().command().orElse("java");
        Process child = new ProcessBuilder(java, holder.toString(), locked.toString()).redirectErrorStream(true).start();
        try {
            var out = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8));
            assertEquals("locked", out.readLine());
            write(f, "done");
            assertEquals("done", Files.readString(f));
            assertFalse(Files.exists(abandoned), "an old, unlocked temporary file of this name is removed");
            assertTrue(Files.exists(young), "a file younger than a minute may be a writer that has not locked yet");
            assertTrue(Files.exists(locked), "a file another process holds locked belongs to a live writer");
            assertTrue(Files.exists(other) && Files.exists(notOurs), "other names are not touched");
        } finally {
            child.getOutputStream().close();
            assertTrue(child.waitFor(60, TimeUnit.SECONDS));
        }
        write(f, "again");
        assertFalse(Files.exists(locked), "once its writer has gone, the file is abandoned");
    }

    @Test
    void followsASymbolicLinkAndKeepsIt(@TempDir Path dir) throws Exception {
        Path real = dir.resolve("real.csv"), link = dir.resolve("link.csv"), link2 = dir.resolve("link2.csv");
        Files.writeString(real, "old");
        Files.createSymbolicLink(link, real.getFileName());
        Files.createSymbolicLink(link2, link.getFileName());
        write(link2, "new");
        assertTrue(Files.isSymbolicLink(link2) && Files.isSymbolicLink(link));
        assertEquals("new", Files.readString(real));
        // A dangling link: the file it names is created, the link stays.
        Path dangling = dir.resolve("dangling.csv");
        Files.createSymbolicLink(dangling, Path.of("created.csv"));
        write(dangling, "x");
        assertTrue(Files.isSymbolicLink(dangling));
        assertEquals("x", Files.readString(dir.resolve("created.csv")));
    }

    @Test
    void writesThroughANamedPipeInsteadOfReplacingIt(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("pipe");
        Process mk;
        try {
            mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        } catch (java.io.IOException e) {
            mk = null;
        }
        assumeTrue(mk != null && mk.waitFor(10, TimeUnit.SECONDS) && mk.exitValue() == 0, "mkfifo is not available");
        AtomicReference<byte[]> got = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            try {
                got.set(Files.readAllBytes(fifo));
            } catch (java.io.IOException e) {
                got.set(new byte[0]);
            }
        });
        reader.setDaemon(true); // a regression (the pipe renamed away) would leave it blocked in open
        reader.start();
        write(fifo, "through the pipe");
        reader.join(10_000);
        assertArrayEquals("through the pipe".getBytes(StandardCharsets.UTF_8), got.get());
        assertFalse(Files.isRegularFile(fifo, LinkOption.NOFOLLOW_LINKS), "the pipe was replaced by a file");
    }
}
