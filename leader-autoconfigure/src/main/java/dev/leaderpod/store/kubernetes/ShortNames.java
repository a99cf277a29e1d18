package dev.leaderpod.store.kubernetes;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Names that must fit where Kubernetes allows fewer characters than a lease name may have: a label value holds 63, an
 * object name 253. A name that does not fit stands there as its start, '-' and 10 hex digits of its SHA-256, so two
 * long names that share their start still differ (but for one chance in 2^40).
 */
final class ShortNames {

    /** The longest label value Kubernetes accepts. */
    static final int LONGEST_LABEL = 63;

    /** How many hex digits of a SHA-256 stand for a name that does not fit. */
    static final int HASH_DIGITS = 10;

    private ShortNames() {}

    /** {@code name} as a label value. */
    static String labelValue(String name) {
        return shortened(name, LONGEST_LABEL);
    }

    /** The name itself if it fits in {@code room}, else its start, '-' and a hash of the whole name. */
    static String shortened(String name, int room) {
        if (name.length() <= room) {
            return name;
        }
        String start = name.substring(0, room - 1 - HASH_DIGITS);
        int end = start.length();
        while (end > 0 && !Character.isLetterOrDigit(start.charAt(end - 1))) {
            end--; // '-' or '.' may not end a label value, nor precede the '-'
        }
        return start.substring(0, end) + "-" + hash(name);
    }

    /** The first {@value #HASH_DIGITS} hex digits of the SHA-256 of {@code text}. */
    static String hash(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(UTF_8));
            return HexFormat.of().formatHex(digest).substring(0, HASH_DIGITS);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
