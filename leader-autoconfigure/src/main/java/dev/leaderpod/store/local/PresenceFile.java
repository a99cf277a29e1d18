package dev.leaderpod.store.local;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.Presence;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The file of one candidate's announcement, and its name: only the format. Locking belongs to
 * {@link FilePresenceStore}.
 *
 * <p>{@code java.util.Properties} text, as lease files ({@link LeaseFile}), for example:
 *
 * <pre>
 * # Presence of worker-1-7f3a among the candidates of billing. Replaced atomically on every write.
 * version=42
 * identity=worker-1-7f3a
 * elections=billing,billing-reports
 * metadata.version=1.4.2
 * </pre>
 *
 * <p>The identity in the file is the truth; the file name only finds it. A file that is not such text, has no
 * version or no identity, or sits under a name its identity does not give, is corrupt.
 */
final class PresenceFile {

    static final String SUFFIX = ".candidate";
    static final String VERSION = "version";
    static final String IDENTITY = "identity";
    static final String ELECTIONS = "elections";
    static final String METADATA_PREFIX = "metadata.";

    /*
     * A file name is at most 255 bytes on common file systems, and a temporary file adds ".<uuid>.tmp" (41) to the
     * name. Identities may have 253 characters, of up to three bytes each, encoded in three characters each.
     */
    private static final int LONGEST_ENCODED = 196;
    private static final int KEPT_WHEN_LONGER = 180;

    private PresenceFile() {}

    /**
     * The file name of {@code identity}'s announcement: the identity's UTF-8 bytes, where every byte other than a
     * lower-case letter, a digit, '-', '_' or a '.' after the first is written {@code %XX}, then {@value #SUFFIX}.
     * Upper-case letters are encoded because macOS and Windows file systems do not tell "A" from "a"; a leading '.'
     * because it would hide the file (and "." and ".." name directories). An encoding longer than 196 characters
     * keeps its first 180 and adds {@code ~} and 16 hex digits of the identity's SHA-256, which no encoding
     * contains otherwise.
     */
    static String fileName(String identity) {
        byte[] bytes = identity.getBytes(UTF_8);
        StringBuilder name = new StringBuilder(bytes.length);
        for (int i = 0; i < bytes.length; i++) {
            int b = bytes[i] & 0xff;
            boolean plain =
                    (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '-' || b == '_' || (b == '.' && i > 0);
            if (plain) {
                name.append((char) b);
            } else {
                name.append('%').append(HexFormat.of().withUpperCase().toHexDigits((byte) b));
            }
        }
        if (name.length() > LONGEST_ENCODED) {
            int cut = KEPT_WHEN_LONGER;
            // Never in the middle of a %XX.
            if (name.charAt(cut - 1) == '%') {
                cut -= 1;
            } else if (name.charAt(cut - 2) == '%') {
                cut -= 2;
            }
            name.setLength(cut);
            name.append('~').append(HexFormat.of().formatHex(sha256(identity), 0, 8));
        }
        return name.append(SUFFIX).toString();
    }

    /** The text of {@code presence}, of the candidates of {@code leaseName}, at {@code version}. */
    static String format(String leaseName, Presence presence, long version) {
        StringBuilder text = new StringBuilder()
                .append("# Presence of ")
                .append(LeaseFile.escape(presence.identity()))
                .append(" among the candidates of ")
                .append(leaseName)
                .append(". Replaced atomically on every write.\n");
        line(text, VERSION, Long.toString(version));
        line(text, IDENTITY, presence.identity());
        // Sorted, so that the file reads the same whatever the order of the sets and maps it came from.
        line(text, ELECTIONS, String.join(",", new TreeSet<>(presence.elections())));
        new TreeMap<>(presence.metadata()).forEach((key, value) -> line(text, METADATA_PREFIX + key, value));
        return text.toString();
    }

    /**
     * The announcement in {@code content}, read from {@code file}.
     *
     * @throws LeaseStoreException if the text is not an announcement kept under that file's name, naming the file
     */
    static Presence parse(Path file, String content) {
        Properties properties = new Properties();
        try {
            properties.load(new StringReader(content));
        } catch (IOException | IllegalArgumentException e) {
            throw corrupt(file, "it is not key=value text (" + e.getMessage() + ")", e);
        }
        String identity = properties.getProperty(IDENTITY);
        if (identity == null || identity.isEmpty()) {
            throw corrupt(file, "it has no '" + IDENTITY + "' line", null);
        }
        String version = properties.getProperty(VERSION);
        if (version == null) {
            throw corrupt(file, "it has no '" + VERSION + "' line", null);
        }
        long number;
        try {
            number = Long.parseLong(version.strip());
        } catch (NumberFormatException e) {
            throw corrupt(file, "'" + VERSION + "=" + version + "' cannot be parsed", e);
        }
        if (!fileName(identity).equals(file.getFileName().toString())) {
            throw corrupt(file, "it announces " + identity + ", whose file is " + fileName(identity), null);
        }
        String elections = properties.getProperty(ELECTIONS, "");
        Set<String> names = Arrays.stream(elections.split(","))
                .map(String::strip)
                .filter(name -> !name.isEmpty())
                .collect(Collectors.toSet());
        Map<String, String> metadata = new TreeMap<>();
        for (String key : properties.stringPropertyNames()) {
            if (key.startsWith(METADATA_PREFIX) && key.length() > METADATA_PREFIX.length()) {
                metadata.put(key.substring(METADATA_PREFIX.length()), properties.getProperty(key));
            }
        }
        // Normalised ("041" is 41), so that the version a remover holds compares equal to what it reads back.
        return new Presence(identity, names, metadata, Long.toString(number));
    }

    /** The version in {@code content}, or null if it has none that can be read. */
    static Long version(String content) {
        Properties properties = new Properties();
        try {
            properties.load(new StringReader(content));
            String version = properties.getProperty(VERSION);
            return version == null ? null : Long.valueOf(version.strip());
        } catch (IOException | IllegalArgumentException e) { // NumberFormatException included
            return null;
        }
    }

    static LeaseStoreException corrupt(Path file, String why, Exception cause) {
        return new LeaseStoreException(
                Kind.OTHER,
                "presence file " + file + " is corrupt: " + why
                        + "; its candidate writes it anew with its next announcement (delete it if that candidate is"
                        + " gone)",
                cause);
    }

    private static void line(StringBuilder text, String key, String value) {
        text.append(key).append('=').append(LeaseFile.escape(value)).append('\n');
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
