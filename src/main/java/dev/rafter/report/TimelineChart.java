package dev.rafter.report;

import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * timeline.png: a static overview of the event trace for a few representative tracks (the first cores' PE arrays,
 * vector unit and DMA port, the global buffer, the first HBM channels, the device link), coloured by what each
 * slice is. Perfetto shows every track; this picture answers "what is the device waiting on, and when" at a
 * glance. It keeps at most {@link #MAX_SLICES} slices so memory stays bounded.
 */
public final class TimelineChart implements TraceSink {
    private static final int MAX_SLICES = 400_000;
    private static final int CORES_SHOWN = 3;
    private static final int CHANNELS_SHOWN = 6;
    private static final Map<SliceKind, Color> COLOURS = new EnumMap<>(SliceKind.class);

    static {
        COLOURS.put(SliceKind.COMPUTE, new Color(0x2c, 0xa0, 0x2c));
        COLOURS.put(SliceKind.STALL_MEMORY, new Color(0xd6, 0x27, 0x28));
        COLOURS.put(SliceKind.STALL_INTERCONNECT, new Color(0xff, 0x7f, 0x0e));
        COLOURS.put(SliceKind.STALL_BUFFER_FULL, new Color(0x94, 0x67, 0xbd));
        COLOURS.put(SliceKind.STALL_DEPENDENCY, new Color(0x1f, 0x77, 0xb4));
        COLOURS.put(SliceKind.IDLE, new Color(0xdd, 0xdd, 0xdd));
        COLOURS.put(SliceKind.LOAD, new Color(0x17, 0xbe, 0xcf));
        COLOURS.put(SliceKind.STORE, new Color(0x8c, 0x56, 0x4b));
        COLOURS.put(SliceKind.HBM_READ, new Color(0x7f, 0x7f, 0x7f));
        COLOURS.put(SliceKind.HBM_WRITE, new Color(0xbc, 0xbd, 0x22));
        COLOURS.put(SliceKind.TRANSFER, new Color(0xe3, 0x77, 0xc2));
        COLOURS.put(SliceKind.STALL_DISPATCH, new Color(0x55, 0x55, 0x55));
        COLOURS.put(SliceKind.DRAM_REFRESH, new Color(0x40, 0x40, 0x90));
        COLOURS.put(SliceKind.HOST_ISSUE, new Color(0x2c, 0x6e, 0x49));
        COLOURS.put(SliceKind.HOST_SYNC, new Color(0xaa, 0x66, 0x00));
        COLOURS.put(SliceKind.LAUNCH_WAIT, new Color(0xbb, 0xbb, 0xbb));
    }

    /**
     * Kinds in the legend only when a slice of theirs is drawn (the host's: a run without a host shows none). Counts
     * ({@link SliceKind#isCount}) are never drawn.
     */
    private static final java.util.Set<SliceKind> LEGEND_WHEN_DRAWN = java.util.EnumSet.of(SliceKind.HOST_ISSUE,
        SliceKind.HOST_SYNC, SliceKind.LAUNCH_WAIT);

    private final java.util.Set<SliceKind> drawn = java.util.EnumSet.noneOf(SliceKind.class);
    private final Map<Integer, Integer> rowOf = new LinkedHashMap<>();
    private final List<String> rowNames = new ArrayList<>();
    private final List<long[]> slices = new ArrayList<>();
    private boolean truncated;
    private long end;

    public TimelineChart(List<Track> tracks) {
        for (Track t : tracks) {
            // The first cores' tracks, and the first instances of each device-level kind (HBM channels).
            boolean shown = t.core() >= 0 ? t.core() < CORES_SHOWN : t.index() < CHANNELS_SHOWN;
            if (shown) {
                rowOf.put(t.id(), rowNames.size());
                rowNames.add(t.name());
            }
        }
    }

    @Override
    public void slice(Track track, SliceKind kind, long opId, long startPs, long endPs, long amount) {
        Integer row = rowOf.get(track.id());
        if (row == null || endPs <= startPs) {
            return;
        }
        end = Math.max(end, endPs);
        if (slices.size() >= MAX_SLICES) {
            truncated = true;
            return;
        }
        slices.add(new long[] {row, kind.ordinal(), startPs, endPs});
        drawn.add(kind);
    }

    public void write(Path png) {
        int left = 130;
        int right = 20;
        int top = 40;
        int rowHeight = 18;
        int width = 1400;
        int legend = 50;
        int height = top + rowNames.size() * rowHeight + legend;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        double plot = width - left - right;
        double scale = end == 0 ? 0 : plot / end;
        SliceKind[] kinds = SliceKind.values();
        for (long[] s : slices) {
            int x0 = left + (int) Math.floor(s[2] * scale);
            int x1 = left + (int) Math.ceil(s[3] * scale);
            g.setColor(COLOURS.get(kinds[(int) s[1]]));
            g.fillRect(x0, top + (int) s[0] * rowHeight + 2, Math.max(1, x1 - x0), rowHeight - 4);
        }
        g.setColor(Color.DARK_GRAY);
        for (int r = 0; r < rowNames.size(); r++) {
            g.drawString(rowNames.get(r), 6, top + r * rowHeight + rowHeight - 5);
        }
        g.setStroke(new BasicStroke(1));
        g.drawLine(left, top - 4, width - right, top - 4);
        for (int i = 0; i <= 10; i++) {
            int x = left + (int) (plot * i / 10);
            g.drawLine(x, top - 8, x, top - 4);
            g.drawString(dev.rafter.roofline.RooflineReport.time(end * 1e-12 * i / 10), x - 20, top - 12);
        }
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
        g.drawString("Timeline" + (truncated ? " (first " + MAX_SLICES + " slices of the tracks shown)" : ""), 6, 14);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        int x = left;
        int y = height - legend + 22;
        for (SliceKind k : kinds) {
            if (k.isCount() || LEGEND_WHEN_DRAWN.contains(k) && !drawn.contains(k)) {
                continue;
            }
            g.setColor(COLOURS.get(k));
            g.fillRect(x, y - 10, 12, 12);
            g.setColor(Color.DARK_GRAY);
            g.drawString(k.label(), x + 16, y);
            x += 20 + g.getFontMetrics().stringWidth(k.label()) + 14;
        }
        g.dispose();
        byte[] bytes = dev.rafter.plot.PngEncoder.encode(img);
        AtomicFile.writeBytes(png, bytes);
    }
}
