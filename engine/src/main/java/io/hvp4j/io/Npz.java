package io.hvp4j.io;

import io.hvp4j.InvalidInputException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Reads and writes numpy {@code .npz} archives: a ZIP file of {@code .npy} members, stored or deflated, as
 * written by {@code numpy.savez} and {@code numpy.savez_compressed} (ZIP64 included).
 *
 * <p>The archive's central directory is checked before any data is read: only {@code .npy} members, no
 * duplicate names, stored or deflated only, declared sizes consistent with the file (a stored member is as
 * large as its compressed size; a deflated one at most 1032 times it, deflate's limit). Each member's npy
 * header is validated against its declared size before memory is allocated for its data, the data must end
 * exactly where the header says, and the CRC-32 of the member must match. Every problem is an
 * {@link InvalidInputException} whose one-line message names the file and the member.
 */
public final class Npz {
    /** Deflate cannot expand data by more than this factor (RFC 1951 stored/fixed blocks: ~1032:1 at best). */
    private static final long MAX_DEFLATE_RATIO = 1032;
    /** More members than any weight set or data file needs; bounds the work on a hostile directory. */
    static final int MAX_MEMBERS = 65_536;

    private Npz() {
    }

    /**
     * Reads every member of an {@code .npz} archive into {@code arena}, keyed by its name without
     * {@code .npy}, in archive order (the order of the arguments of {@code numpy.savez}; unnamed arrays are
     * {@code arr_0}, {@code arr_1}, ...).
     *
     * @param file  the archive
     * @param arena owns the arrays
     * @return the arrays by name, in archive order
     * @throws InvalidInputException on any problem with the file
     * @throws IllegalStateException if {@code arena} is closed
     */
    public static Map<String, NpyArray> read(Path file, Arena arena) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(arena, "arena");
        long fileSize;
        try (java.nio.channels.FileChannel ch = IoSupport.openRead(file)) {
            fileSize = ch.size();
        } catch (IOException e) {
            throw IoSupport.readError(file, e);
        }
        ZipFile zf;
        try {
            zf = new ZipFile(file.toFile());
        } catch (ZipException | IllegalArgumentException e) {
            throw new InvalidInputException(file + ": not a valid npz (ZIP) archive: " + message(e), e);
        } catch (IOException e) {
            throw IoSupport.readError(file, e);
        }
        try (zf) {
            Map<String, ZipEntry> members = new LinkedHashMap<>();
            Enumeration<? extends ZipEntry> en = zf.entries();
            while (en.hasMoreElements()) {
                ZipEntry e = en.nextElement();
                String where = file + ": member '" + Json.printable(e.getName()) + "'";
                if (members.size() >= MAX_MEMBERS) {
                    throw new InvalidInputException(file + ": more than " + MAX_MEMBERS + " members");
                }
                if (e.isDirectory() || !e.getName().endsWith(".npy")) {
                    throw new InvalidInputException(where + " is not an .npy array (an npz archive holds only"
                            + " .npy members)");
                }
                String key = e.getName().substring(0, e.getName().length() - 4);
                if (members.containsKey(key)) {
                    throw new InvalidInputException(where + " appears twice");
                }
                long size = e.getSize();
                long csize = e.getCompressedSize();
                if (size < 0 || csize < 0 || csize > fileSize) {
                    throw new InvalidInputException(where + " declares sizes (" + size + " bytes, " + csize
                            + " compressed) that do not fit the " + fileSize + "-byte file");
                }
                switch (e.getMethod()) {
                    case ZipEntry.STORED -> {
                        if (size != csize) {
                            throw new InvalidInputException(where + " is stored but declares " + size
                                    + " bytes and " + csize + " compressed bytes");
                        }
                    }
                    case ZipEntry.DEFLATED -> {
                        if (size > MAX_DEFLATE_RATIO * csize + 64) {
                            throw new InvalidInputException(where + " declares " + size + " bytes, more than"
                                    + " deflate can produce from its " + csize + " compressed bytes");
                        }
                    }
                    default -> throw new InvalidInputException(where + " uses compression method "
                            + e.getMethod() + " (only stored and deflated are supported)");
                }
                members.put(key, e);
            }
            if (members.isEmpty()) {
                throw new InvalidInputException(file + ": the npz archive has no arrays");
            }
            Map<String, NpyArray> out = new LinkedHashMap<>();
            for (Map.Entry<String, ZipEntry> m : members.entrySet()) {
                out.put(m.getKey(), member(zf, m.getValue(), file + ": member '"
                        + Json.printable(m.getValue().getName()) + "'", arena));
            }
            return Collections.unmodifiableMap(out);
        } catch (ZipException | IllegalArgumentException e) {
            if (e instanceof InvalidInputException ie) {
                throw ie;
            }
            throw new InvalidInputException(file + ": damaged npz (ZIP) archive: " + message(e), e);
        } catch (IOException e) {
            throw IoSupport.readError(file, e);
        }
    }

    private static NpyArray member(ZipFile zf, ZipEntry e, String where, Arena arena) throws IOException {
        long size = e.getSize();
        CRC32 crc = new CRC32();
        try (InputStream in = zf.getInputStream(e)) {
            StreamPrefix prefix = new StreamPrefix(in, where, crc);
            Npy.Header h = Npy.readHeader(prefix, size, where);
            MemorySegment data = IoSupport.allocate(arena, h.dataBytes());
            long done = prefix.copyTail(h.dataStart(), data);
            byte[] buf = new byte[1 << 16];
            while (done < h.dataBytes()) {
                int r = in.read(buf, 0, (int) Math.min(buf.length, h.dataBytes() - done));
                if (r < 0) {
                    throw new InvalidInputException(where + " is truncated: its header promises " + h.dataBytes()
                            + " data bytes but only " + done + " follow");
                }
                crc.update(buf, 0, r);
                MemorySegment.copy(MemorySegment.ofArray(buf), 0, data, done, r);
                done += r;
            }
            if (in.read() >= 0) {
                throw new InvalidInputException(where + " has bytes after the " + h.dataBytes()
                        + " data bytes its header describes");
            }
            if (crc.getValue() != e.getCrc()) {
                throw new InvalidInputException(where + " is corrupted (CRC-32 mismatch)");
            }
            return new NpyArray(h.type(), h.shape(), data);
        } catch (java.io.EOFException ex) {
            throw new InvalidInputException(where + " is truncated (" + message(ex) + ")", ex);
        } catch (ZipException ex) {
            throw new InvalidInputException(where + " is damaged: " + message(ex), ex);
        }
    }

    private static String message(Exception e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m.replaceAll("[\\r\\n]+", " ");
    }

    /** The first bytes of a member (its npy header), buffered so that the header parser can address them. */
    private static final class StreamPrefix implements Npy.ByteSource {
        private final InputStream in;
        private final String where;
        private final CRC32 crc;
        private byte[] buf = new byte[64];
        private int have;

        StreamPrefix(InputStream in, String where, CRC32 crc) {
            this.in = in;
            this.where = where;
            this.crc = crc;
        }

        @Override
        public byte[] read(long position, int n) throws IOException {
            long end = position + n;
            if (end > Npy.MAX_HEADER + 16) {
                throw new InvalidInputException(where + ": npy header is too large");
            }
            while (have < end) {
                if (buf.length < end) {
                    buf = Arrays.copyOf(buf, (int) Math.max(end, 2L * buf.length));
                }
                int r = in.read(buf, have, (int) (end - have));
                if (r < 0) {
                    throw new InvalidInputException(where + " is truncated inside its npy header");
                }
                crc.update(buf, have, r);
                have += r;
            }
            return Arrays.copyOfRange(buf, (int) position, (int) end);
        }

        /** Copies the buffered bytes from {@code start} on into {@code dst}; returns how many. */
        long copyTail(long start, MemorySegment dst) {
            int n = (int) Math.max(0, Math.min(have - start, dst.byteSize()));
            if (n > 0) {
                MemorySegment.copy(MemorySegment.ofArray(buf), start, dst, 0, n);
            }
            if (have - start > dst.byteSize()) {
                throw new InvalidInputException(where + " has bytes after the " + dst.byteSize()
                        + " data bytes its header describes");
            }
            return n;
        }
    }

    // ------------------------------------------------------------------------------------------ writing

    /**
     * Writes arrays as an {@code .npz} archive (member {@code name + ".npy"} each, in iteration order),
     * deflated when {@code compressed} (as {@code numpy.savez_compressed}) or stored (as {@code numpy.savez}).
     * Atomic: the archive appears complete or not at all.
     *
     * @param file       the archive to write
     * @param arrays     the arrays by name
     * @param compressed deflate the members
     */
    public static void write(Path file, Map<String, NpyArray> arrays, boolean compressed) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(arrays, "arrays");
        IoSupport.atomicWrite(file, ch -> {
            OutputStream os = Channels.newOutputStream(ch);
            ZipOutputStream zip = new ZipOutputStream(os);
            for (Map.Entry<String, NpyArray> m : arrays.entrySet()) {
                NpyArray a = Objects.requireNonNull(m.getValue(), "array");
                byte[] header = Npy.header(a.type(), a.shape());
                byte[] data = a.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                ZipEntry e = new ZipEntry(Objects.requireNonNull(m.getKey(), "name") + ".npy");
                if (!compressed) {
                    CRC32 crc = new CRC32();
                    crc.update(header);
                    crc.update(data);
                    e.setMethod(ZipEntry.STORED);
                    e.setSize(header.length + (long) data.length);
                    e.setCompressedSize(header.length + (long) data.length);
                    e.setCrc(crc.getValue());
                }
                zip.putNextEntry(e);
                zip.write(header);
                zip.write(data);
                zip.closeEntry();
            }
            zip.finish();
            os.flush();
        });
    }
}
