package io.relaygate.core.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** A plain-text table whose columns are as wide as their widest cell, so long values never shift the others. */
final class Table {

    private final List<String[]> rows = new ArrayList<>();
    private final boolean[] rightAligned;

    /** @param header the column titles; a title ending in {@code >} is right-aligned (numbers), without the mark */
    Table(String... header) {
        rightAligned = new boolean[header.length];
        String[] titles = new String[header.length];
        for (int i = 0; i < header.length; i++) {
            rightAligned[i] = header[i].endsWith(">");
            titles[i] = rightAligned[i] ? header[i].substring(0, header[i].length() - 1) : header[i];
        }
        rows.add(titles);
    }

    Table row(Object... cells) {
        String[] row = new String[rightAligned.length];
        for (int i = 0; i < row.length; i++) {
            row[i] = String.valueOf(cells[i]);
        }
        rows.add(row);
        return this;
    }

    void print(PrintStream out) {
        int[] widths = new int[rightAligned.length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                boolean last = i == row.length - 1;
                String pad = " ".repeat(widths[i] - row[i].length());
                line.append(rightAligned[i] ? pad + row[i] : last ? row[i] : row[i] + pad);
                if (!last) {
                    line.append("  ");
                }
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
