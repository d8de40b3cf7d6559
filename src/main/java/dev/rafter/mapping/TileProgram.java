package dev.rafter.mapping;

import java.util.ArrayList;
import java.util.List;

/**
 * What the device runs for one operator (or one part of it): global-buffer stages fed from HBM in order, and per
 * core its work in order (cores without work have an empty list).
 *
 * @param hbmReadBytes bytes the stages read from HBM
 * @param hbmWriteBytes bytes of results written to HBM
 * @param explanation one line on how the operator was mapped
 */
public record TileProgram(List<Stage> stages, List<List<Work>> cores, long hbmReadBytes, long hbmWriteBytes,
                          String explanation) {

    /** Tiles plus stages: a measure of the program's size in memory. */
    public long size() {
        long n = stages.size();
        for (List<Work> c : cores) {
            n += c.size();
        }
        return n;
    }

    /** Per core an empty, growable work list: what a mapper fills. */
    static List<List<Work>> emptyCores(int cores) {
        List<List<Work>> perCore = new ArrayList<>(cores);
        for (int i = 0; i < cores; i++) {
            perCore.add(new ArrayList<>());
        }
        return perCore;
    }
}
