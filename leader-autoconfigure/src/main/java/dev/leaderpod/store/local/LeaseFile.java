package dev.leaderpod.store.local;

import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.VersionedLease;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Properties;
import java.util.function.Function;

/**
 * The text of a lease file, {@code java.util.Properties} key=value lines: only the format. Locking and
 * compare-and-set belong to {@link FileLeaseStore}.
 *
 * <p>A missing line reads as a {@code null} field; a line that cannot be parsed makes the file corrupt, reported as
 * {@link Kind#OTHER} naming the file. Numbers are full 64-bit values.
 *
 * <p>Lines were added over time, each optional, so that files written before them still read: {@code application}
 * (docs/design.md, "One lease, one application") and {@code successor}, the candidate a release hands the lease to
 * ("Hand-over to a successor"). The successor is written only when the record names one, so a renew or an acquire,
 * which name none, leaves no successor behind; an empty one reads as none.
 */
final class LeaseFile {

    static final String VERSION = "version";
    static final String HOLDER_IDENTITY = "holderIdentity";
    static final String APPLICATION = "application";
    static final String LEASE_DURATION_SECONDS = "leaseDurationSeconds";
    static final String ACQUIRE_TIME = "acquireTime";
    static final String RENEW_TIME = "renewTime";
    static final String LEASE_TRANSITIONS = "leaseTransitions";
    static final String SUCCESSOR = "successor";

    private LeaseFile() {}

    /** The text of lease {@code name} at {@code version}. */
    static String format(String name, LeaseRecord record, long version) {
        StringBuilder text = new StringBuilder()
                .append("# Lease ")
                .append(escape(name))
                .append(". Replaced atomically on every write; edit only while no candidate runs.\n");
        line(text, VERSION, Long.toString(version));
        line(text, HOLDER_IDENTITY, record.holderIdentity());
        line(text, APPLICATION, record.application());
        if (record.leaseDuration() != null) {
            line(text, LEASE_DURATION_SECONDS, seconds(record.leaseDuration()));
        }
        if (record.acquireTime() != null) {
            line(text, ACQUIRE_TIME, record.acquireTime().toString());
        }
        if (record.renewTime() != null) {
            line(text, RENEW_TIME, record.renewTime().toString());
        }
        if (record.leaseTransitions() != null) {
            line(text, LEASE_TRANSITIONS, record.leaseTransitions().toString());
        }
        if (record.successor() != null && !record.successor().isEmpty()) {
            line(text, SUCCESSOR, record.successor());
        }
        return text.toString();
    }

    /**
     * The lease in {@code content}, read from {@code file}.
     *
     * @throws LeaseStoreException if the text is not a lease, naming {@code file}
     */
    static VersionedLease parse(Path file, String content) {
        Properties properties = new Properties();
        try {
            properties.load(new StringReader(content));
        } catch (IOException | IllegalArgumentException e) {
            throw corrupt(file, "it is not key=value text (" + e.getMessage() + ")", e);
        }
        if (properties.getProperty(VERSION) == null) {
            throw corrupt(file, "it has no '" + VERSION + "' line", null);
        }
        String successor = properties.getProperty(SUCCESSOR);
        LeaseRecord record = new LeaseRecord(
                properties.getProperty(HOLDER_IDENTITY),
                field(file, properties, LEASE_DURATION_SECONDS, LeaseFile::parseSeconds),
                field(file, properties, ACQUIRE_TIME, Instant::parse),
                field(file, properties, RENEW_TIME, Instant::parse),
                field(file, properties, LEASE_TRANSITIONS, Long::valueOf),
                properties.getProperty(APPLICATION),
                successor == null || successor.isEmpty() ? null : successor);
        // Normalised ("041" is 41), so that the version a candidate holds compares equal to what it reads back.
        return new VersionedLease(
                record, field(file, properties, VERSION, Long::valueOf).toString());
    }

    static LeaseStoreException corrupt(Path file, String why, Exception cause) {
        return new LeaseStoreException(
                Kind.OTHER,
                "lease file " + file + " is corrupt: " + why
                        + "; delete it to reset the lease (candidates then create it anew)",
                cause);
    }

    private static <T> T field(Path file, Properties properties, String key, Function<String, T> parser) {
        String value = properties.getProperty(key);
        if (value == null) {
            return null;
        }
        try {
            return parser.apply(value.strip());
        } catch (NumberFormatException | DateTimeParseException | ArithmeticException e) {
            throw corrupt(file, "'" + key + "=" + value + "' cannot be parsed", e);
        }
    }

    private static Duration parseSeconds(String seconds) {
        BigDecimal value = new BigDecimal(seconds);
        return Duration.ofSeconds(
                value.longValue(),
                value.remainder(BigDecimal.ONE).movePointRight(9).intValue());
    }

    private static String seconds(Duration duration) {
        BigDecimal seconds = BigDecimal.valueOf(duration.getSeconds())
                .add(BigDecimal.valueOf(duration.getNano(), 9))
                .stripTrailingZeros();
        return seconds.scale() < 0 ? seconds.setScale(0).toPlainString() : seconds.toPlainString();
    }

    private static void line(StringBuilder text, String key, String value) {
        if (value != null) {
            text.append(key).append('=').append(escape(value)).append('\n');
        }
    }

    // Escapes what java.util.Properties would otherwise read differently: backslashes, line breaks, control
    // characters and leading white space.
    static String escape(String value) {
        StringBuilder escaped = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\\' -> escaped.append("\\\\");
                case '\n' -> escaped.append("\\n");
                case '\r' -> escaped.append("\\r");
                case '\t' -> escaped.append("\\t");
                case '\f' -> escaped.append("\\f");
                case ' ' -> escaped.append(i == 0 ? "\\ " : " ");
                default -> {
                    if (Character.isISOControl(c)) {
                        escaped.append(String.format("\\u%04x", (int) c));
                    } else {
                        escaped.append(c);
                    }
                }
            }
        }
        return escaped.toString();
    }
}
