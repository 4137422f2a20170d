package io.hvp4j.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

/** Seeded random corruption of valid files for the fuzz tests. */
public final class Mutator {
    private static final String[] NUMBERS = {
        "0", "1", "-1", "-0", "7", "255", "65535", "2147483647", "2147483648", "4294967296", "-9223372036854775808",
        "9223372036854775807", "9223372036854775808", "99999999999999999999999999", "1e999", "1.5", "-2", "1e3",
        "0x10", "1_0", "00", "",
    };
    private static final byte[] SPECIAL = "{}[](),:'\" \n\t-0123456789eE.\\LTFtfn".getBytes(StandardCharsets.ISO_8859_1);

    private final Random rnd;

    public Mutator(long seed) {
        rnd = new Random(seed);
    }

    public Random random() {
        return rnd;
    }

    /**
     * Applies 1–3 random mutations. {@code headerEnd} bounds the region most mutations aim at (the header),
     * {@code lengthField}/{@code lengthBytes} locate the header length field.
     */
    public byte[] mutate(byte[] in, int headerEnd, int lengthField, int lengthBytes) {
        byte[] b = in;
        int k = rnd.nextInt(10) < 6 ? 1 : 2 + rnd.nextInt(2);
        for (int i = 0; i < k; i++) {
            b = once(b, Math.min(headerEnd, b.length), lengthField, lengthBytes);
        }
        return b;
    }

    private int pos(byte[] b, int headerEnd) {
        if (b.length == 0) {
            return 0;
        }
        return rnd.nextInt(4) == 0 || headerEnd <= 0 ? rnd.nextInt(b.length) : rnd.nextInt(headerEnd);
    }

    private byte[] once(byte[] b, int headerEnd, int lengthField, int lengthBytes) {
        switch (rnd.nextInt(12)) {
            case 10, 11 -> { // change a data byte: the structure stays valid, the values may become NaN/Inf
                if (b.length > headerEnd) {
                    b = b.clone();
                    b[headerEnd + rnd.nextInt(b.length - headerEnd)] = (byte) rnd.nextInt(256);
                }
            }
            case 0 -> { // flip one bit
                if (b.length > 0) {
                    b = b.clone();
                    int p = pos(b, headerEnd);
                    b[p] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> { // random or syntactically interesting byte
                if (b.length > 0) {
                    b = b.clone();
                    int p = pos(b, headerEnd);
                    b[p] = rnd.nextBoolean() ? (byte) rnd.nextInt(256) : SPECIAL[rnd.nextInt(SPECIAL.length)];
                }
            }
            case 2 -> b = Arrays.copyOf(b, b.length == 0 ? 0 : rnd.nextInt(b.length)); // truncate
            case 3 -> { // insert bytes
                int p = b.length == 0 ? 0 : rnd.nextInt(b.length + 1);
                byte[] ins = new byte[1 + rnd.nextInt(rnd.nextBoolean() ? 4 : 64)];
                for (int i = 0; i < ins.length; i++) {
                    ins[i] = rnd.nextBoolean() ? (byte) rnd.nextInt(256) : SPECIAL[rnd.nextInt(SPECIAL.length)];
                }
                b = splice(b, p, 0, ins);
            }
            case 4 -> { // delete a range
                if (b.length > 0) {
                    int p = rnd.nextInt(b.length);
                    b = splice(b, p, Math.min(b.length - p, 1 + rnd.nextInt(16)), new byte[0]);
                }
            }
            case 5 -> { // append garbage
                byte[] ins = new byte[1 + rnd.nextInt(16)];
                rnd.nextBytes(ins);
                b = splice(b, b.length, 0, ins);
            }
            case 6, 7 -> b = replaceNumber(b, headerEnd);
            default -> b = changeLength(b, lengthField, lengthBytes);
        }
        return b;
    }

    private byte[] changeLength(byte[] b, int at, int n) {
        if (n == 0 || b.length < at + n) {
            return b; // no length field
        }
        b = b.clone();
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        long old = n == 2 ? bb.getShort(at) & 0xffff : n == 4 ? bb.getInt(at) & 0xffffffffL : bb.getLong(at);
        long v = switch (rnd.nextInt(6)) {
            case 0 -> old + 1 + rnd.nextInt(8);
            case 1 -> old - 1 - rnd.nextInt(8);
            case 2 -> rnd.nextLong();
            case 3 -> -1;
            case 4 -> 0;
            default -> 1L << rnd.nextInt(64);
        };
        switch (n) {
            case 2 -> bb.putShort(at, (short) v);
            case 4 -> bb.putInt(at, (int) v);
            default -> bb.putLong(at, v);
        }
        return b;
    }

    /** Replaces a run of digits (with its sign) inside the header with another number. */
    private byte[] replaceNumber(byte[] b, int headerEnd) {
        List<int[]> runs = new ArrayList<>();
        int end = Math.min(headerEnd, b.length);
        for (int i = 0; i < end; i++) {
            if (b[i] >= '0' && b[i] <= '9') {
                int j = i;
                while (j < end && b[j] >= '0' && b[j] <= '9') {
                    j++;
                }
                int s = i > 0 && b[i - 1] == '-' ? i - 1 : i;
                runs.add(new int[] {s, j});
                i = j;
            }
        }
        if (runs.isEmpty()) {
            return b;
        }
        int[] r = runs.get(rnd.nextInt(runs.size()));
        String num = rnd.nextInt(4) == 0 ? Long.toString(rnd.nextLong() >> rnd.nextInt(64))
                : NUMBERS[rnd.nextInt(NUMBERS.length)];
        return splice(b, r[0], r[1] - r[0], num.getBytes(StandardCharsets.ISO_8859_1));
    }

    /**
     * A copy of {@code b} whose CRC-32C field at {@code at} (8 bytes in {@code order}) is the checksum of
     * {@code b[0, at)}, so that a mutant reaches the structural checks behind a checkpoint's checksum; unchanged
     * when {@code b} is too short.
     */
    public static byte[] withCrc32c(byte[] b, int at, ByteOrder order) {
        if (at < 0 || at + 8 > b.length) {
            return b;
        }
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b, 0, at);
        byte[] out = b.clone();
        ByteBuffer.wrap(out).order(order).putLong(at, crc.getValue());
        return out;
    }

    static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        byte[] out = new byte[b.length - remove + insert.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(b, at + remove, out, at + insert.length, b.length - at - remove);
        return out;
    }

    public static String hex(byte[] b) {
        return HexFormat.of().formatHex(b, 0, Math.min(b.length, 400)) + (b.length > 400 ? "..." : "");
    }
}
