package dev.leaderpod.benchmarks.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Prints Markdown to standard output and appends it to a results file. */
public final class Report {

    private final Path file;

    public Report(Path file) {
        this.file = file;
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public synchronized void line(String text) {
        System.out.println(text);
        System.out.flush();
        try {
            Files.writeString(
                    file, text + System.lineSeparator(), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void table(List<String> header, List<List<String>> rows) {
        StringBuilder out = new StringBuilder();
        out.append("| ").append(String.join(" | ", header)).append(" |\n|");
        header.forEach(h -> out.append("---|"));
        for (List<String> row : rows) {
            out.append("\n| ").append(String.join(" | ", row)).append(" |");
        }
        line(out.toString());
        line("");
    }

    public static String ms(double nanosOrMillis) {
        return Double.isNaN(nanosOrMillis) ? "—" : String.format(Locale.ROOT, "%,.0f", nanosOrMillis);
    }

    public static String num(double value, int decimals) {
        return Double.isNaN(value) || Double.isInfinite(value)
                ? "—"
                : String.format(Locale.ROOT, "%,." + decimals + "f", value);
    }

    /** {@code value / best} as "0.05×", or "—". */
    public static String ratio(double value, double best) {
        if (Double.isNaN(value) || Double.isNaN(best) || best == 0) {
            return "—";
        }
        double r = value / best;
        return String.format(Locale.ROOT, r < 0.1 ? "%.3f×" : "%.2f×", r);
    }

    /** Rows for a list of {@code (name, Stats)} with the ratio of the median to the best alternative's. */
    public static List<List<String>> statRows(List<String> names, List<Stats> stats, int oursIndex, String extra) {
        double best = Double.NaN;
        for (int i = 0; i < stats.size(); i++) {
            if (i != oursIndex
                    && stats.get(i).count() > 0
                    && (Double.isNaN(best) || stats.get(i).median() < best)) {
                best = stats.get(i).median();
            }
        }
        List<List<String>> rows = new ArrayList<>();
        for (int i = 0; i < stats.size(); i++) {
            Stats s = stats.get(i);
            rows.add(List.of(
                    names.get(i),
                    String.valueOf(s.count()),
                    ms(s.median()),
                    ms(s.p90()),
                    ms(s.max()),
                    ratio(s.median(), best)));
        }
        return rows;
    }
}
