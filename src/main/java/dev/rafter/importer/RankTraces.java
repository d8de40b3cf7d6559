package dev.rafter.importer;

import dev.rafter.config.InputException;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A set of per-rank PyTorch profiler (Kineto) traces of one distributed run, for a replay on a system: one file per
 * rank, or a folder of them ({@code *.json}, {@code *.json.gz}; other files there are not traces and are left
 * alone). Each trace names its rank in the {@code distributedInfo} block PyTorch's profiler writes under
 * torch.distributed ({@code rank}, {@code world_size}; {@code torch/profiler/profiler.py}); rank r runs on the
 * system's device r. A lone file without that block is rank 0 of 1.
 *
 * <p>Collectives join by process group: each of a rank's mapped collectives names its group (the
 * {@code record_param_comms} arguments {@code Process Group Name} and {@code Process Group Ranks}, or
 * {@code Global rank start} and {@code Global rank stride} with {@code Group size}), and the n-th collective of a
 * group on one rank joins the n-th of the same group on every other member: NCCL matches a communicator's calls by
 * their order, the same way. Everything is checked before a replay starts, each mismatch bad input naming the file and
 * event: a missing or repeated rank, ranks that disagree on world_size, a world larger than the system, a group
 * naming a rank outside the world or without the rank that recorded it, and two members with a different collective
 * (kind, elements or data type) at the same position of a group, or with different numbers of them.
 */
public final class RankTraces {
    /** One rank's trace: its operators (of the chosen phases) in trace order, each with its measured time. */
    public record Rank(Path file, int rank, List<ImportedOp> ops, Coverage coverage) {
        /** The operators, as a source a device streams. */
        public OperatorSource source() {
            return out -> {
                for (ImportedOp o : ops) {
                    out.accept(o.op());
                }
                return ops.size();
            };
        }

        /** Measured seconds of op {@code id}, NaN when none. */
        public double measuredS(long id) {
            int i = index(id);
            return i < 0 ? Double.NaN : ops.get(i).measuredS();
        }

        /** Where op {@code id} is in {@link #ops} (ids rise in trace order), or -1. */
        int index(long id) {
            int lo = 0;
            int hi = ops.size() - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                long at = ops.get(mid).op().id();
                if (at == id) {
                    return mid;
                }
                if (at < id) {
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            return -1;
        }
    }

    /** A process group of the run: its name and its members' global ranks, which are the devices it joins. */
    public record Group(String name, List<Integer> ranks) {
        @Override
        public String toString() {
            return "process group " + (name.isEmpty() ? "" : "'" + name + "' ") + ranks;
        }
    }

    private final List<Rank> ranks;
    private final List<Group> groups;
    /** Per rank, per operator (by place in its trace): its collective's group in {@link #groups}, -1 for others. */
    private final int[][] groupOf;

    private RankTraces(List<Rank> ranks, List<Group> groups, int[][] groupOf) {
        this.ranks = List.copyOf(ranks);
        this.groups = List.copyOf(groups);
        this.groupOf = groupOf;
    }

    /** The ranks, by rank (rank r is {@code ranks().get(r)}). */
    public List<Rank> ranks() {
        return ranks;
    }

    /** The process groups the collectives ran in, in first-seen order. */
    public List<Group> groups() {
        return groups;
    }

    /** The index in {@link #groups} of the group that rank {@code rank}'s collective {@code op} runs in. */
    public int groupOf(int rank, Operator op) {
        return groupOf[rank][ranks.get(rank).index(op.id())];
    }

    /**
     * Reads and checks the traces {@code path} names (a file or a folder) for a system of {@code devices} devices
     * ({@code system} names it in messages), keeping the operators of {@code phases}.
     */
    public static RankTraces read(Path path, Set<Phase> phases, int devices, String system) {
        List<Path> files = files(path);
        KinetoImporter kineto = new KinetoImporter();
        Rank[] byRank = null;
        Path first = null;
        int worldSize = 0;
        for (Path file : files) {
            if (!(Importers.detect(file) instanceof KinetoImporter)) {
                throw InputException.located(file + ": not a PyTorch profiler (Kineto) trace; a multi-rank replay "
                    + "reads one Kineto JSON per rank");
            }
            List<ImportedOp> ops = new ArrayList<>();
            KinetoImporter.Ranked read = kineto.readRanked(file, o -> {
                if (phases.contains(o.op().phase())) {
                    ops.add(o);
                }
            });
            if (read.problem() != null) {
                throw InputException.located(file + ": " + read.problem());
            }
            int rank = read.rank();
            int world = read.worldSize();
            if (rank < 0 || world < 0) {
                if (files.size() > 1) {
                    throw InputException.located(file + ": no distributedInfo with 'rank' and 'world_size': a trace "
                        + "of a multi-rank set names its rank (torch.profiler writes the block under "
                        + "torch.distributed)");
                }
                rank = Math.max(rank, 0);
                world = Math.max(world, 1);
            }
            if (rank >= devices) {
                throw InputException.located(file + ": distributedInfo.rank " + rank + " is outside system " + system
                    + ", whose devices are 0.." + (devices - 1));
            }
            if (byRank == null) {
                if (world > devices) {
                    throw InputException.located(file + ": distributedInfo.world_size " + world + " is more than the "
                        + devices + " devices of system " + system);
                }
                byRank = new Rank[world];
                worldSize = world;
                first = file;
            } else if (world != worldSize) {
                throw InputException.located(file + ": distributedInfo.world_size " + world + ", but " + first
                    + " has " + worldSize + ": the traces are of different runs");
            }
            if (rank >= worldSize) {
                throw InputException.located(file + ": distributedInfo.rank " + rank + " is outside its world_size "
                    + worldSize);
            }
            if (byRank[rank] != null) {
                throw InputException.located(file + ": rank " + rank + " again (" + byRank[rank].file()
                    + " is rank " + rank + " too): one trace per rank");
            }
            byRank[rank] = new Rank(file, rank, List.copyOf(ops), read.coverage());
        }
        for (int r = 0; r < worldSize; r++) {
            if (byRank[r] == null) {
                throw InputException.located(path + ": no trace of rank " + r + " of world_size " + worldSize
                    + " (ranks found: " + found(byRank) + "); give every rank's trace, in a folder");
            }
        }
        return join(Arrays.asList(byRank), worldSize);
    }

    /** The trace files: {@code path} itself, or the {@code *.json} and {@code *.json.gz} files of a folder, by name. */
    private static List<Path> files(Path path) {
        if (!Files.isDirectory(path)) {
            dev.rafter.config.InputFiles.checkRegular(path, Long.MAX_VALUE);
            return List.of(path);
        }
        List<Path> files;
        try (Stream<Path> list = Files.list(path)) {
            files = list.filter(p -> {
                String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
                return !name.startsWith(".") && (name.endsWith(".json") || name.endsWith(".json.gz"))
                    && Files.isRegularFile(p);
            }).sorted().toList();
        } catch (IOException e) {
            throw InputException.located(path + ": cannot list the folder (" + e.getMessage() + ")");
        }
        if (files.isEmpty()) {
            throw InputException.located(path + ": no trace in the folder: expected one PyTorch profiler trace per "
                + "rank (*.json or *.json.gz)");
        }
        return files;
    }

    private static String found(Rank[] byRank) {
        List<String> ranks = new ArrayList<>();
        for (Rank r : byRank) {
            if (r != null) {
                ranks.add(Integer.toString(r.rank()));
            }
        }
        return String.join(", ", ranks);
    }

    /** Numbers the groups, then matches each group's collectives position by position across its members. */
    private static RankTraces join(List<Rank> ranks, int worldSize) {
        Map<Group, Integer> ids = new LinkedHashMap<>();
        // Per group, per member rank: its collectives of that group in trace order.
        List<Map<Integer, List<ImportedOp>>> sequences = new ArrayList<>();
        int[][] groupOf = new int[worldSize][];
        for (Rank rank : ranks) {
            int[] of = new int[rank.ops().size()];
            Arrays.fill(of, -1);
            for (int i = 0; i < rank.ops().size(); i++) {
                ImportedOp o = rank.ops().get(i);
                if (!o.op().kind().isCollective()) {
                    continue;
                }
                Group g = group(rank, o, worldSize);
                Integer id = ids.get(g);
                if (id == null) {
                    id = ids.size();
                    ids.put(g, id);
                    sequences.add(new LinkedHashMap<>());
                }
                of[i] = id;
                sequences.get(id).computeIfAbsent(rank.rank(), r -> new ArrayList<>()).add(o);
            }
            groupOf[rank.rank()] = of;
        }
        List<Group> groups = new ArrayList<>(ids.keySet());
        for (int g = 0; g < groups.size(); g++) {
            match(groups.get(g), sequences.get(g), ranks);
        }
        checkOrderAcrossGroups(ranks, groups, sequences, groupOf);
        return new RankTraces(ranks, groups, groupOf);
    }

    /**
     * Refuses collectives of different groups that members reach in opposite orders (rank 0: group A then B, rank 1:
     * B then A): each would wait in its first for a peer waiting in the other, as NCCL would hang. A collective
     * (group, position) must follow every collective before it on each of its members; a cycle in that order is the
     * deadlock, found by taking collectives in an order that respects it until none can be taken.
     */
    private static void checkOrderAcrossGroups(List<Rank> ranks, List<Group> groups,
                                               List<Map<Integer, List<ImportedOp>>> sequences, int[][] groupOf) {
        int[] base = new int[groups.size() + 1];
        for (int g = 0; g < groups.size(); g++) {
            int length = sequences.get(g).values().stream().mapToInt(List::size).max().orElse(0);
            base[g + 1] = base[g] + length;
        }
        int nodes = base[groups.size()];
        int[] waitingFor = new int[nodes];
        List<List<Integer>> after = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            after.add(new ArrayList<>());
        }
        // Per rank, its collectives in trace order as (group, position) nodes.
        Map<Integer, int[]> order = new LinkedHashMap<>();
        for (Rank rank : ranks) {
            int[] of = groupOf[rank.rank()];
            int[] seen = new int[groups.size()];
            int[] mine = Arrays.stream(of).filter(g -> g >= 0).map(g -> base[g] + seen[g]++).toArray();
            order.put(rank.rank(), mine);
            for (int i = 1; i < mine.length; i++) {
                after.get(mine[i - 1]).add(mine[i]);
                waitingFor[mine[i]]++;
            }
        }
        ArrayDeque<Integer> free = new ArrayDeque<>();
        for (int i = 0; i < nodes; i++) {
            if (waitingFor[i] == 0) {
                free.add(i);
            }
        }
        boolean[] taken = new boolean[nodes];
        while (!free.isEmpty()) {
            int n = free.poll();
            taken[n] = true;
            for (int next : after.get(n)) {
                if (--waitingFor[next] == 0) {
                    free.add(next);
                }
            }
        }
        for (Rank rank : ranks) {
            int[] mine = order.get(rank.rank());
            for (int i = 0; i < mine.length; i++) {
                if (taken[mine[i]]) {
                    continue;
                }
                // This rank's first collective that can never start: name it and the group it waits for.
                int g = groupOf(base, mine[i]);
                int position = mine[i] - base[g];
                ImportedOp here = sequences.get(g).get(rank.rank()).get(position);
                throw InputException.located(rank.file() + ": " + event(here) + ": collective " + (position + 1)
                    + " of " + groups.get(g) + " can never start: the members of the groups it shares with "
                    + "other collectives reach them in opposite orders (each would wait for a peer waiting in the "
                    + "other, as NCCL would hang); expected every member to call its groups' collectives in one "
                    + "order");
            }
        }
    }

    private static int groupOf(int[] base, int node) {
        int g = 0;
        while (base[g + 1] <= node) {
            g++;
        }
        return g;
    }

    /** Rank {@code rank}'s collective {@code o}'s group, checked against the world. */
    private static Group group(Rank rank, ImportedOp o, int worldSize) {
        ImportedOp.ProcessGroup pg = o.group();
        String where = rank.file() + ": " + (pg == null ? o.op().name() : pg.event());
        List<Integer> members = pg == null ? null : pg.ranks();
        if (members == null) {
            // Without ranks, only a group as large as the world says who takes part: all of it.
            if (o.op().n() != worldSize) {
                throw InputException.located(where + ": a collective over " + o.op().n() + " of " + worldSize
                    + " ranks without 'Process Group Ranks' (nor 'Global rank start' and 'Global rank stride'): "
                    + "which ranks take part is not recorded");
            }
            List<Integer> all = new ArrayList<>();
            for (int r = 0; r < worldSize; r++) {
                all.add(r);
            }
            members = all;
        }
        for (int m : members) {
            if (m < 0 || m >= worldSize) {
                throw InputException.located(where + ": its process group names rank " + m + ", outside world_size "
                    + worldSize);
            }
        }
        if (!members.contains(rank.rank())) {
            throw InputException.located(where + ": its process group " + members + " does not hold rank "
                + rank.rank() + ", which recorded it");
        }
        if (members.size() != o.op().n()) {
            throw InputException.located(where + ": 'Group size' " + o.op().n() + " but the process group lists "
                + members.size() + " ranks " + members);
        }
        return new Group(pg == null ? "" : pg.name(), List.copyOf(members));
    }

    /** Checks that every member of {@code group} ran the same collectives in the same order. */
    private static void match(Group group, Map<Integer, List<ImportedOp>> byMember, List<Rank> ranks) {
        int lead = group.ranks().get(0);
        List<ImportedOp> reference = byMember.getOrDefault(lead, List.of());
        for (int member : group.ranks()) {
            List<ImportedOp> mine = byMember.getOrDefault(member, List.of());
            int common = Math.min(mine.size(), reference.size());
            for (int i = 0; i < common; i++) {
                Operator a = reference.get(i).op();
                Operator b = mine.get(i).op();
                if (a.kind() != b.kind() || a.elements() != b.elements() || a.dataType() != b.dataType()) {
                    throw InputException.located(ranks.get(member).file() + ": " + event(mine.get(i)) + ": "
                        + describe(b) + " is collective " + (i + 1) + " of " + group + ", where rank " + lead + " ("
                        + ranks.get(lead).file() + ": " + event(reference.get(i)) + ") has " + describe(a));
                }
            }
            if (mine.size() != reference.size()) {
                boolean leadLonger = reference.size() > mine.size();
                int longer = leadLonger ? lead : member;
                int shorter = leadLonger ? member : lead;
                ImportedOp extra = (leadLonger ? reference : mine).get(common);
                throw InputException.located(ranks.get(longer).file() + ": " + event(extra) + ": collective "
                    + (common + 1) + " of " + group + " has no partner: rank " + shorter + " ("
                    + ranks.get(shorter).file() + ") ran " + common + " of that group, rank " + longer + " ran "
                    + (leadLonger ? reference : mine).size());
            }
        }
    }

    private static String event(ImportedOp o) {
        return o.group() == null ? o.op().name() : o.group().event();
    }

    private static String describe(Operator op) {
        return op.kind().key() + " of " + op.elements() + " " + op.dataType().key() + " elements";
    }

    /**
     * A process group's global ranks from its record_param_comms arguments: the {@code Process Group Ranks} text
     * ("[0, 1]"); when that is missing or cut short (PyTorch shortens long lists to "[0, 1, ...]"), {@code start}
     * + i x {@code stride} for the group's {@code size} members; null when neither is there.
     */
    static List<Integer> groupRanks(String text, long start, long stride, long size) {
        List<Integer> listed = text == null ? null : listed(text);
        if (listed != null && (size < 0 || listed.size() == size)) {
            return listed;
        }
        if (start >= 0 && stride >= 1 && size >= 1 && start + (size - 1) * stride <= Integer.MAX_VALUE) {
            List<Integer> ranks = new ArrayList<>();
            for (long i = 0; i < size; i++) {
                ranks.add((int) (start + i * stride));
            }
            return ranks;
        }
        return listed;
    }

    /** "[0, 1, 2]" as a list; null when cut short ("...") or not such a list. */
    private static List<Integer> listed(String text) {
        String t = text.trim();
        if (!t.startsWith("[") || !t.endsWith("]") || t.contains("...")) {
            return null;
        }
        String body = t.substring(1, t.length() - 1).trim();
        List<Integer> ranks = new ArrayList<>();
        if (body.isEmpty()) {
            return ranks;
        }
        for (String part : body.split(",")) {
            try {
                ranks.add(Integer.parseInt(part.trim()));
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return ranks;
    }
}
