package io.hvp4j.spectral;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The checkpoint file of {@link RandomizedRank}: the loop state at the start of a step (σ̂, restarts, block, the
 * residuals, whether the block came from random samples) and the basis panels, behind a magic number and the
 * fingerprint of everything the run depends on; written atomically, read back only for the same fingerprint.
 */
record RandomizedRankCheckpoint(double sigmaHat, int restarts, int bb, double[] res, boolean fromRandom) {
    static final long MAGIC = 0x4856503452524B31L; // "HVP4RRK1"

    static void write(java.nio.file.Path file, String fp, RandomizedRank.Work w, double sigmaHat, int restarts, int bb,
                      double[] res, boolean fromRandom) {
        io.hvp4j.io.AtomicFile.write(file, ch -> {
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            java.io.ByteArrayOutputStream hb = new java.io.ByteArrayOutputStream();
            java.io.DataOutputStream h = new java.io.DataOutputStream(hb);
            h.writeLong(MAGIC);
            h.writeUTF(fp);
            h.writeInt(w.m);
            h.writeInt(bb);
            h.writeInt(restarts);
            h.writeBoolean(fromRandom);
            h.writeDouble(sigmaHat);
            h.writeLong(w.productColumns);
            h.writeInt(w.prevWidth);
            h.writeLong(w.samples);
            for (int c = 0; c < bb; c++) {
                h.writeDouble(res[c]);
                h.writeDouble(w.floor[c]);
            }
            h.writeInt(w.tBlocks.size());
            for (int[] shape : w.tShape) {
                h.writeInt(shape[0]);
                h.writeInt(shape[1]);
            }
            h.flush();
            writeAll(ch, java.nio.ByteBuffer.wrap(hb.toByteArray()), crc);
            for (double[] tb : w.tBlocks) {
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(tb.length * 8)
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
                buf.asDoubleBuffer().put(tb);
                writeAll(ch, buf, crc);
            }
            for (int j0 = 0; j0 < w.m; j0 += RandomizedRank.PANEL_ROWS) {
                int u = Math.min(RandomizedRank.PANEL_ROWS, w.m - j0);
                writeAll(ch, w.panels.get(j0 / RandomizedRank.PANEL_ROWS).segment().asSlice(0, (long) u * w.n * 8)
                        .asByteBuffer(), crc);
            }
            writeAll(ch, w.w.segment().asSlice(0, (long) w.n * bb * 8).asByteBuffer(), crc);
            java.nio.ByteBuffer tail = java.nio.ByteBuffer.allocate(8);
            tail.putLong(crc.getValue()).flip();
            while (tail.hasRemaining()) {
                ch.write(tail);
            }
        });
    }

    private static void writeAll(java.nio.channels.FileChannel ch, java.nio.ByteBuffer b,
                                 java.util.zip.CRC32C crc) throws java.io.IOException {
        crc.update(b.duplicate());
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** The saved state restored into {@code w}, or null when there is no file. */
    static RandomizedRankCheckpoint read(java.nio.file.Path file, String fp, RandomizedRank.Work w) {
        if (!java.nio.file.Files.exists(file)) {
            return null;
        }
        String what = "randomized-rank checkpoint " + file;
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
            long size = ch.size();
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            java.io.DataInputStream h = new java.io.DataInputStream(new java.io.BufferedInputStream(
                    java.nio.channels.Channels.newInputStream(ch.position(0)), 1 << 16));
            if (size < 16 || h.readLong() != MAGIC) {
                throw new InvalidInputException(what + " is not a hvp4j randomized-rank checkpoint");
            }
            String stored = h.readUTF();
            if (!stored.equals(fp)) {
                throw new InvalidInputException(what + " was written for other arguments (delete it or change"
                        + " the path): stored '" + printable(stored) + "', now '" + printable(fp) + "'");
            }
            int m = h.readInt();
            int bb = h.readInt();
            int restarts = h.readInt();
            boolean fromRandom = h.readBoolean();
            double sigmaHat = h.readDouble();
            long products = h.readLong();
            int prevWidth = h.readInt();
            long samples = h.readLong();
            if (m < w.basis.m || m > w.n || bb < 1 || bb > w.b) {
                throw new InvalidInputException(what + " is corrupted (sizes out of range)");
            }
            double[] res = new double[bb];
            double[] floor = new double[bb];
            for (int c = 0; c < bb; c++) {
                res[c] = h.readDouble();
                floor[c] = h.readDouble();
            }
            int blocks = h.readInt();
            long dataBytes = 0;
            List<int[]> shapes = new ArrayList<>();
            for (int k = 0; k < blocks && k <= m; k++) {
                int start = h.readInt();
                int width = h.readInt();
                if (start < 0 || width < 1 || (long) start + width > m) {
                    throw new InvalidInputException(what + " is corrupted (a block of T out of range)");
                }
                shapes.add(new int[] {start, width});
                dataBytes += (long) (start + width) * width * 8;
            }
            long headerBytes = 8 + 2 + stored.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                    + 4 + 4 + 4 + 1 + 8 + 8 + 4 + 8 + 16L * bb + 4 + 8L * blocks;
            dataBytes += (long) m * w.n * 8 + (long) w.n * bb * 8;
            if (shapes.size() != blocks || size != headerBytes + dataBytes + 8) {
                throw new InvalidInputException(what + " is truncated or corrupted (size " + size + ", expected "
                        + (headerBytes + dataBytes + 8) + ")");
            }
            // Checksum over the whole content before anything is restored.
            ch.position(0);
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(1 << 20);
            long left = size - 8;
            while (left > 0) {
                buf.clear().limit((int) Math.min(buf.capacity(), left));
                int r = ch.read(buf);
                if (r < 0) {
                    throw new InvalidInputException(what + " is truncated");
                }
                buf.flip();
                crc.update(buf);
                left -= r;
            }
            java.nio.ByteBuffer tail = java.nio.ByteBuffer.allocate(8);
            while (tail.hasRemaining() && ch.read(tail) >= 0) {
                // read the stored checksum
            }
            tail.flip();
            if (tail.getLong() != crc.getValue()) {
                throw new InvalidInputException(what + " is corrupted (checksum mismatch)");
            }
            ch.position(headerBytes);
            w.tBlocks.clear();
            w.tShape.clear();
            for (int[] sh : shapes) {
                java.nio.ByteBuffer tb = java.nio.ByteBuffer.allocate((sh[0] + sh[1]) * sh[1] * 8)
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
                readFully(ch, tb);
                double[] t = new double[(sh[0] + sh[1]) * sh[1]];
                tb.flip().asDoubleBuffer().get(t);
                w.tBlocks.add(t);
                w.tShape.add(sh);
            }
            for (int j0 = 0; j0 < m; j0 += RandomizedRank.PANEL_ROWS) {
                if (j0 / RandomizedRank.PANEL_ROWS == w.panels.size()) {
                    w.panels.add(Tensor.allocate(w.basis.arena, DType.F64, RandomizedRank.PANEL_ROWS, w.n));
                }
                int u = Math.min(RandomizedRank.PANEL_ROWS, m - j0);
                readFully(ch, w.panels.get(j0 / RandomizedRank.PANEL_ROWS).segment().asSlice(0, (long) u * w.n * 8)
                        .asByteBuffer());
            }
            readFully(ch, w.w.segment().asSlice(0, (long) w.n * bb * 8).asByteBuffer());
            w.m = m;
            w.basis.m = m;
            w.productColumns = products;
            w.prevWidth = prevWidth;
            w.samples = samples;
            System.arraycopy(floor, 0, w.floor, 0, bb);
            return new RandomizedRankCheckpoint(sigmaHat, restarts, bb, res, fromRandom);
        } catch (java.io.EOFException e) {
            throw new InvalidInputException(what + " is truncated", e);
        } catch (java.io.UTFDataFormatException e) {
            throw new InvalidInputException(what + " is corrupted (its fingerprint is not valid modified UTF-8)", e);
        } catch (java.io.IOException e) {
            throw new InvalidInputException("cannot read " + what + ": " + e.getMessage(), e);
        }
    }

    /** {@code s} with control characters escaped, so that a damaged fingerprint keeps a message on one line. */
    private static String printable(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (Character.isISOControl(ch) || Character.getType(ch) == Character.LINE_SEPARATOR
                    || Character.getType(ch) == Character.PARAGRAPH_SEPARATOR) {
                out.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) ch));
            } else {
                out.append(ch);
            }
        }
        return out.toString();
    }

    private static void readFully(java.nio.channels.FileChannel ch, java.nio.ByteBuffer b)
            throws java.io.IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new java.io.EOFException("unexpected end of file");
            }
        }
    }
}
