package dev.rafter.importer;

import static dev.rafter.importer.ChakraSchema.*;

import dev.rafter.config.InputException;
import dev.rafter.hw.DataType;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * MLCommons Chakra execution traces ({@code .et}, optionally gzipped; schema {@code et_def.proto}): a
 * varint-length-prefixed {@code GlobalMetadata} message, then one varint-length-prefixed {@code Node} per message,
 * read with a hand-written wire reader ({@link ProtoWire}) one message at a time.
 *
 * <h2>What becomes an operator</h2>
 * <ul>
 *   <li>Nodes with the attribute {@code is_cpu_op = true} are host-side PyTorch ops: they run on the CPU, not the
 *       accelerator. They are counted unmapped as {@code [host] name} with no GPU time. Their names and shapes are
 *       what the kernels they launched are mapped by.</li>
 *   <li>Accelerator {@code COMP_NODE}s (kernels; {@code is_cpu_op} false or absent) are mapped by their own name
 *       when it is an ATen op, else by the name of the op that launched them: the first host node among their
 *       {@code data_deps} (where the PyTorch converter records the parent). Shapes, types and values come from the
 *       node's {@code inputs} / {@code outputs} IOInfo (the converter copies the parent op's). See {@link ChakraOps}
 *       for the op table. All kernels of one launching op (one PyTorch op instance: the host nodes' {@code rf_id},
 *       which the older converter's split nodes {@code op(0)}, {@code op(1)}, ... share) make one operator whose
 *       measured time is the sum of their {@code duration_micros}: nested work is counted once.</li>
 *   <li>Accelerator {@code COMM_COLL_NODE}s with {@code comm_type} ALL_REDUCE, ALL_GATHER, REDUCE_SCATTER or
 *       ALL_TO_ALL become those collectives of {@code comm_size} bytes (nccl-tests' size: an all-gather's output, a
 *       reduce-scatter's input) in the dtype of their input tensor. The schema records no group size: unless the
 *       node carries an integer attribute {@code comm_group_size} (or {@code group_size}), 2 devices are assumed
 *       (the fewest a collective spans) and a note says so. Other collectives (broadcast, gather, barrier, ...)
 *       have no Rafter kind yet: counted unmapped by name.</li>
 *   <li>Every other node (memory, send/recv, metadata, unmapped kernels) is counted unmapped by name (a kernel by
 *       its launching op's name when known); its measured time is kept in the coverage.</li>
 * </ul>
 * Phase, layer and step are not in the format: operators are PREFILL, layer -1, step 0.
 *
 * <h2>Dependencies</h2>
 * {@code data_deps} and {@code ctrl_deps} become operator deps. A dep on a node that is not an operator (a host op,
 * an unmapped kernel) is replaced by that node's own operator deps, transitively; a dep on an operator already
 * implied by another dep is pruned (one level, over the recent operators). Operators are emitted in file order
 * (held back at most a window of {@value #WINDOW} operators, to gather kernels of one op; a kernel listed before the
 * op that launched it waits for that op, at most {@value #WINDOW} kernels), so a dep can only name a node earlier in
 * the file: deps on later or absent nodes are dropped and counted in a note.
 *
 * <h2>Memory</h2>
 * One message at a time, plus compact per-node state: a primitive id table and a pool of longs holding, for nodes
 * that are not operators, their resolved deps (and for host ops their name and instance).
 */
final class ChakraImporter implements TraceImporter {
    static final int WINDOW = 4096;
    /** At most this many deps per operator or resolved node (the most recent kept; counted in a note). */
    static final int MAX_DEPS = 32;
    private static final int RING = 1 << 16;

    @Override
    public String format() {
        return "chakra";
    }

    // ------------------------------------------------------------------ recognition

    /**
     * A varint length, then a message whose fields are GlobalMetadata's (1 version: string, 2 attr:
     * AttributeProto, both length-delimited, each attr's own fields valid for AttributeProto); when it ends inside
     * the head, the next message must start like a Node. Text (CSV, JSON) fails at the first tag.
     */
    @Override
    public boolean recognises(byte[] head, int length) {
        try {
            int[] pos = {0};
            long len = varint(head, pos, length);
            if (len < 0 || len > (1 << 24)) {
                return false;
            }
            int start = pos[0];
            long end = start + len;
            int limit = (int) Math.min(end, length);
            int fields = 0;
            while (pos[0] < limit) {
                long tag = varint(head, pos, limit);
                if (tag < 0) {
                    return fields > 0 && end > length;
                }
                int field = (int) (tag >>> 3);
                if ((tag & 7) != ProtoWire.LENGTH_DELIMITED || (field != METADATA_VERSION && field != METADATA_ATTR)) {
                    return false;
                }
                long l = varint(head, pos, limit);
                if (l < 0) {
                    return fields > 0 && end > length;
                }
                long valueEnd = pos[0] + l;
                if (valueEnd > end) {
                    return false;
                }
                if (valueEnd > limit) {
                    return fields > 0 || field == METADATA_ATTR && validAttribute(head, pos[0], limit, true);
                }
                if (field == METADATA_ATTR && !validAttribute(head, pos[0], (int) valueEnd, false)) {
                    return false;
                }
                pos[0] = (int) valueEnd;
                fields++;
            }
            if (end > length) {
                return fields > 0;
            }
            if (end == length) {
                return fields > 0;
            }
            // the first Node must start with a valid Node field
            pos[0] = (int) end;
            long nodeLength = varint(head, pos, length);
            if (nodeLength <= 0) {
                return nodeLength == 0 && fields > 0;
            }
            long tag = varint(head, pos, length);
            return tag >= 0 && validNodeTag(tag) && (fields > 0 || nodeLength > 1);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static boolean validNodeTag(long tag) {
        int field = (int) (tag >>> 3);
        int wire = (int) (tag & 7);
        return switch (field) {
            case NODE_ID, NODE_TYPE, NODE_START_TIME_MICROS, NODE_DURATION_MICROS -> wire == ProtoWire.VARINT;
            case NODE_NAME, NODE_INPUTS, NODE_OUTPUTS, NODE_ATTR -> wire == ProtoWire.LENGTH_DELIMITED;
            // repeated scalars: packed (length-delimited) or one varint each
            case NODE_CTRL_DEPS, NODE_DATA_DEPS -> wire == ProtoWire.VARINT || wire == ProtoWire.LENGTH_DELIMITED;
            default -> false;
        };
    }

    /** The fields of an AttributeProto in buf[from, to) have the schema's field numbers and wire types. */
    private static boolean validAttribute(byte[] buf, int from, int to, boolean mayBeCut) {
        int[] pos = {from};
        while (pos[0] < to) {
            long tag = varint(buf, pos, to);
            if (tag < 0) {
                return mayBeCut;
            }
            int field = (int) (tag >>> 3);
            int wire = (int) (tag & 7);
            if (field < 1 || field > ATTR_LAST || wire != attributeWireType(field)) {
                return false;
            }
            long skip = switch (wire) {
                case ProtoWire.VARINT -> varint(buf, pos, to) < 0 ? -1 : 0;
                case ProtoWire.FIXED64 -> 8;
                case ProtoWire.FIXED32 -> 4;
                default -> varint(buf, pos, to);
            };
            if (skip < 0) {
                return mayBeCut;
            }
            if (pos[0] + skip > to) {
                return mayBeCut;
            }
            pos[0] += (int) skip;
        }
        return true;
    }

    /** A varint at pos[0] (advanced past it), or -1 when it runs past {@code limit} or is longer than 10 bytes. */
    private static long varint(byte[] buf, int[] pos, int limit) {
        long v = 0;
        for (int i = 0; i < 10; i++) {
            if (pos[0] >= limit) {
                return -1;
            }
            int b = buf[pos[0]++] & 0xff;
            v |= (long) (b & 0x7f) << (7 * i);
            if (b < 0x80) {
                return v;
            }
        }
        return -1;
    }

    // ------------------------------------------------------------------ reading

    @Override
    public Coverage read(Path file, Consumer<ImportedOp> out) {
        Reader reader = new Reader(out);
        ProtoWire.Stream stream;
        try (InputStream in = Importers.open(file)) {
            stream = new ProtoWire.Stream(in);
            try {
                boolean first;
                try {
                    first = stream.next();
                } catch (ProtoWire.Corrupt c) {
                    throw InputException.located(file + ": not a Chakra execution trace (or truncated): byte offset "
                        + c.offset + ": the first message (GlobalMetadata) cannot be read: " + c.getMessage());
                }
                if (!first) {
                    throw InputException.located(file + ": empty file, not a Chakra execution trace (expected a "
                        + "length-prefixed GlobalMetadata message)");
                }
                reader.metadata(file, stream);
                while (true) {
                    reader.beginNext();
                    if (!stream.next()) {
                        break;
                    }
                    reader.node(stream);
                }
                return reader.finish();
            } catch (ProtoWire.Corrupt c) {
                throw InputException.located(file + ": byte offset " + c.offset + " (" + reader.where() + "): "
                    + c.getMessage());
            } catch (ChakraOps.UnknownDtype e) {
                throw InputException.located(file + ": " + e.getMessage());
            } catch (EOFException e) {
                throw InputException.located(file + ": truncated compressed file: it ends inside node "
                    + reader.index + " (" + e.getMessage() + ")");
            }
        } catch (IOException e) {
            throw InputException.located(file + ": cannot read, " + reader.where() + " (" + e.getMessage() + ")");
        }
    }

    /** One parsed Node, reused for every message. */
    private static final class Node {
        long id;
        String name;
        int type;
        long[] ctrl = new long[16];
        int ctrlCount;
        long[] data = new long[16];
        int dataCount;
        long durationMicros;
        boolean hasDuration;
        int inValuesStart = -1;
        int inValuesEnd;
        int inShapesStart = -1;
        int inShapesEnd;
        int inTypesStart = -1;
        int inTypesEnd;
        int outShapesStart = -1;
        int outShapesEnd;
        int isCpuOp; // -1 absent, 0 false, 1 true
        long rfId;
        boolean hasRfId;
        long commType;
        boolean hasCommType;
        long commSize;
        boolean hasCommSize;
        long groupSize;

        void clear() {
            id = 0;
            name = "";
            type = 0;
            ctrlCount = 0;
            dataCount = 0;
            durationMicros = 0;
            hasDuration = false;
            inValuesStart = inShapesStart = inTypesStart = outShapesStart = -1;
            isCpuOp = -1;
            hasRfId = hasCommType = hasCommSize = false;
            groupSize = 0;
        }

        void addCtrl(long v) {
            if (ctrlCount == ctrl.length) {
                ctrl = Arrays.copyOf(ctrl, ctrl.length * 2);
            }
            ctrl[ctrlCount++] = v;
        }

        void addData(long v) {
            if (dataCount == data.length) {
                data = Arrays.copyOf(data, data.length * 2);
            }
            data[dataCount++] = v;
        }
    }

    /** An operator held back to gather the other kernels of its op. */
    private static final class Pending {
        final Operator op;
        long[] deps;
        double measuredMicros;
        final long instance;

        Pending(Operator op, long[] deps, double measuredMicros, long instance) {
            this.op = op;
            this.deps = deps;
            this.measuredMicros = measuredMicros;
            this.instance = instance;
        }
    }

    private static final class Reader {
        private final Consumer<ImportedOp> out;
        private final Node node = new Node();
        private final NodeTable table = new NodeTable();
        private long[] pool = new long[1 << 12];
        private int poolSize = 1; // offset 0 unused: value 0 would be ambiguous
        private final Map<String, Integer> nameIndex = new HashMap<>();
        private final List<String> names = new ArrayList<>();
        private final ArrayDeque<Pending> window = new ArrayDeque<>();
        private final Map<Long, Pending> byInstance = new HashMap<>();
        private final Map<Long, List<Kernel>> waiting = new HashMap<>();
        private final ArrayDeque<Kernel> waitingOrder = new ArrayDeque<>();
        private final long[][] ringDeps = new long[RING][];
        private final long[] ringId = new long[RING];
        private final Map<String, long[]> unmapped = new LinkedHashMap<>();
        private long[] scratch = new long[64];
        long index = -1;
        private boolean inNodes;
        private boolean finished;
        private long nextId;
        private long kernelsFolded;
        private long hostNodes;
        private long droppedDeps;
        private long cappedDeps;
        private long notMeasured;
        private long assumedGroupAllReduces;
        private long unsimulatedDtype;
        private long mappedMicros;
        private long totalMicros;
        private final List<String> otherCollectives = new ArrayList<>();

        Reader(Consumer<ImportedOp> out) {
            this.out = out;
            Arrays.fill(ringId, -1);
        }

        /** Where reading is: "node 12 (id 345)", counting nodes from 0 after the GlobalMetadata message. */
        String where() {
            if (finished) {
                return "end of file";
            }
            return inNodes ? "node " + index + (node.name != null ? " (id " + Long.toUnsignedString(node.id) + ")" : "")
                : "GlobalMetadata";
        }

        void metadata(Path file, ProtoWire.Stream s) throws ProtoWire.Corrupt {
            ProtoWire.Fields f = new ProtoWire.Fields(s.buffer(), 0, s.messageLength(), s.messageOffset());
            try {
                while (f.next()) {
                    if (f.field() == METADATA_VERSION) {
                        f.expect(ProtoWire.LENGTH_DELIMITED, "GlobalMetadata.version");
                    } else if (f.field() == METADATA_ATTR) {
                        f.expect(ProtoWire.LENGTH_DELIMITED, "GlobalMetadata.attr");
                        attribute(f.embedded(), null);
                    } else {
                        throw new ProtoWire.Corrupt(f.offset(), "field " + f.field() + " is not GlobalMetadata's");
                    }
                }
            } catch (ProtoWire.Corrupt c) {
                throw InputException.located(file + ": not a Chakra execution trace: the first message (byte offset "
                    + c.offset + ") is not a GlobalMetadata message (" + c.getMessage() + ")");
            }
            inNodes = true;
        }

        /** Parses an AttributeProto; records the attributes the importer uses on {@code n} (when not null). */
        private void attribute(ProtoWire.Fields f, Node n) throws ProtoWire.Corrupt {
            String attrName = null;
            long value = 0;
            boolean hasValue = false;
            while (f.next()) {
                int field = f.field();
                if (field > ATTR_LAST) {
                    continue; // unknown field of a newer schema: skipped
                }
                f.expect(attributeWireType(field), "AttributeProto field");
                switch (field) {
                    case ATTR_NAME -> attrName = f.string();
                    case ATTR_INT32, ATTR_INT64, ATTR_UINT32, ATTR_UINT64, ATTR_FIXED32, ATTR_FIXED64, ATTR_SFIXED32,
                         ATTR_SFIXED64, ATTR_BOOL -> {
                        value = switch (field) {
                            case ATTR_INT32, ATTR_SFIXED32 -> (int) f.scalar(); // sign-extended
                            default -> f.scalar();
                        };
                        hasValue = true;
                    }
                    case ATTR_SINT32, ATTR_SINT64 -> { // zigzag
                        long z = f.scalar();
                        value = (z >>> 1) ^ -(z & 1);
                        hasValue = true;
                    }
                    default -> { }
                }
            }
            if (n == null || attrName == null || !hasValue) {
                return;
            }
            switch (attrName) {
                case "is_cpu_op" -> n.isCpuOp = value != 0 ? 1 : 0;
                case "rf_id" -> {
                    n.rfId = value;
                    n.hasRfId = true;
                }
                case "comm_type" -> {
                    n.commType = value;
                    n.hasCommType = true;
                }
                case "comm_size" -> {
                    n.commSize = value;
                    n.hasCommSize = true;
                }
                case "comm_group_size", "group_size" -> n.groupSize = value;
                default -> { }
            }
        }

        private void parse(ProtoWire.Stream s) throws ProtoWire.Corrupt {
            Node n = node;
            n.clear();
            n.name = null;
            n.id = 0;
            ProtoWire.Fields f = new ProtoWire.Fields(s.buffer(), 0, s.messageLength(), s.messageOffset());
            while (f.next()) {
                switch (f.field()) {
                    case NODE_ID -> {
                        f.expect(ProtoWire.VARINT, "Node.id");
                        n.id = f.scalar();
                    }
                    case NODE_NAME -> {
                        f.expect(ProtoWire.LENGTH_DELIMITED, "Node.name");
                        n.name = f.string();
                    }
                    case NODE_TYPE -> {
                        f.expect(ProtoWire.VARINT, "Node.type");
                        n.type = (int) f.scalar();
                    }
                    case NODE_CTRL_DEPS -> f.repeatedVarint("Node.ctrl_deps", n::addCtrl);
                    case NODE_DATA_DEPS -> f.repeatedVarint("Node.data_deps", n::addData);
                    case NODE_START_TIME_MICROS -> f.expect(ProtoWire.VARINT, "Node.start_time_micros");
                    case NODE_DURATION_MICROS -> {
                        f.expect(ProtoWire.VARINT, "Node.duration_micros");
                        n.durationMicros = f.scalar();
                        n.hasDuration = true;
                    }
                    case NODE_INPUTS, NODE_OUTPUTS -> {
                        boolean inputs = f.field() == NODE_INPUTS;
                        f.expect(ProtoWire.LENGTH_DELIMITED, inputs ? "Node.inputs" : "Node.outputs");
                        ioInfo(f.embedded(), n, inputs);
                    }
                    case NODE_ATTR -> {
                        f.expect(ProtoWire.LENGTH_DELIMITED, "Node.attr");
                        attribute(f.embedded(), n);
                    }
                    default -> { } // unknown field: skipped
                }
            }
            if (n.name == null) {
                n.name = "";
            }
        }

        private static void ioInfo(ProtoWire.Fields f, Node n, boolean inputs) throws ProtoWire.Corrupt {
            while (f.next()) {
                int field = f.field();
                if (field != IO_VALUES && field != IO_SHAPES && field != IO_TYPES) {
                    continue; // a newer schema's field: skipped
                }
                f.expect(ProtoWire.LENGTH_DELIMITED, "IOInfo field");
                if (inputs) {
                    switch (field) {
                        case IO_VALUES -> {
                            n.inValuesStart = f.valueStart();
                            n.inValuesEnd = f.valueEnd();
                        }
                        case IO_SHAPES -> {
                            n.inShapesStart = f.valueStart();
                            n.inShapesEnd = f.valueEnd();
                        }
                        default -> {
                            n.inTypesStart = f.valueStart();
                            n.inTypesEnd = f.valueEnd();
                        }
                    }
                } else if (field == IO_SHAPES) {
                    n.outShapesStart = f.valueStart();
                    n.outShapesEnd = f.valueEnd();
                }
            }
        }

        private static String text(byte[] buf, int start, int end) {
            return start < 0 ? null : new String(buf, start, end - start, java.nio.charset.StandardCharsets.UTF_8);
        }

        /** Before reading the next message: it is node {@code index + 1}. */
        void beginNext() {
            index++;
            node.name = null;
        }

        void node(ProtoWire.Stream s) throws ProtoWire.Corrupt {
            parse(s);
            Node n = node;
            if (n.hasDuration && n.isCpuOp != 1) {
                totalMicros += n.durationMicros;
            }
            if (n.isCpuOp != 1 && n.type == COMP_NODE) {
                computeNode(s, n);
                return;
            }
            int depCount = resolveDeps(n.data, n.dataCount, n.ctrl, n.ctrlCount);
            if (n.isCpuOp == 1) {
                hostNodes++;
                String base = baseName(n.name);
                long instance = n.hasRfId ? n.rfId * 2 + 1 : n.id * 2;
                table.put(n.id, storeNonOp(intern(base), instance, depCount));
                count("[host] " + base, 0);
                release(n.id);
                return;
            }
            if (n.type == COMM_COLL_NODE) {
                collectiveNode(s, n, depCount);
            } else {
                String type = n.type >= 0 && n.type < NODE_TYPES.length ? NODE_TYPES[n.type] : "type " + n.type;
                String label = n.name.isEmpty() ? type : baseName(n.name);
                unmappedNode(n.id, n.hasDuration, n.durationMicros, label, depCount);
            }
            release(n.id);
        }

        /** A kernel node kept until the op that launched it (its first data dep) has been read. */
        private record Kernel(long index, long id, String name, long[] data, long[] ctrl, boolean hasDuration,
                              long durationMicros, ChakraOps.Io io, long messageOffset) {}

        private Kernel kernel(ProtoWire.Stream s, Node n) {
            byte[] buf = s.buffer();
            ChakraOps.Io io = new ChakraOps.Io(text(buf, n.inShapesStart, n.inShapesEnd),
                text(buf, n.inTypesStart, n.inTypesEnd), text(buf, n.inValuesStart, n.inValuesEnd),
                text(buf, n.outShapesStart, n.outShapesEnd));
            return new Kernel(index, n.id, n.name, Arrays.copyOf(n.data, n.dataCount),
                Arrays.copyOf(n.ctrl, n.ctrlCount), n.hasDuration, n.durationMicros, io, s.messageOffset());
        }

        /**
         * A kernel whose launching op (first data dep, where the PyTorch converter puts the parent) comes later in
         * the file waits for it, at most {@value #WINDOW} kernels, so it is mapped by that op's name.
         */
        private void computeNode(ProtoWire.Stream s, Node n) throws ProtoWire.Corrupt {
            Kernel k = kernel(s, n);
            if (k.data().length > 0 && table.get(k.data()[0]) == NodeTable.ABSENT) {
                waiting.computeIfAbsent(k.data()[0], x -> new ArrayList<>()).add(k);
                waitingOrder.addLast(k);
                if (waitingOrder.size() > WINDOW) {
                    Kernel oldest = waitingOrder.pollFirst();
                    List<Kernel> list = waiting.get(oldest.data()[0]);
                    list.remove(oldest);
                    if (list.isEmpty()) {
                        waiting.remove(oldest.data()[0]);
                    }
                    kernel(oldest);
                }
                return;
            }
            kernel(k);
        }

        /** Kernels that waited for node {@code id}, now read. */
        private void release(long id) throws ProtoWire.Corrupt {
            List<Kernel> list = waiting.remove(id);
            if (list != null) {
                for (Kernel k : list) {
                    waitingOrder.remove(k);
                    kernel(k);
                }
            }
        }

        private void kernel(Kernel n) throws ProtoWire.Corrupt {
            int depCount = resolveDeps(n.data(), n.data().length, n.ctrl(), n.ctrl().length);
            // the launching op: the first host node among the data deps
            int launcherName = -1;
            long instance = Long.MIN_VALUE;
            for (int i = 0; i < n.data().length && launcherName < 0; i++) {
                long v = table.get(n.data()[i]);
                if (v < 0 && v != NodeTable.ABSENT && pool[(int) -v] >= 0) {
                    launcherName = (int) pool[(int) -v];
                    instance = pool[(int) -v + 1];
                }
            }
            String[] unsimulated = new String[1];
            String opName = baseName(n.name());
            Operator op = mapOrFail(n, opName, unsimulated);
            if (op == null && launcherName >= 0) {
                opName = names.get(launcherName);
                op = mapOrFail(n, opName, unsimulated);
            }
            if (op != null && instance != Long.MIN_VALUE) {
                Pending p = byInstance.get(instance);
                if (p != null) { // another kernel of an op already mapped: counted once
                    kernelsFolded++;
                    if (n.hasDuration()) {
                        p.measuredMicros = Double.isNaN(p.measuredMicros) ? n.durationMicros()
                            : p.measuredMicros + n.durationMicros();
                        mappedMicros += n.durationMicros();
                    }
                    p.deps = merge(p.deps, depCount, p.op.id());
                    remember(p.op.id(), p.deps);
                    table.put(n.id(), p.op.id());
                    return;
                }
            }
            if (op == null) {
                String label = launcherName >= 0 ? names.get(launcherName) : opName;
                if (unsimulated[0] != null) {
                    unsimulatedDtype++;
                    label = label + " (" + unsimulated[0] + ")";
                }
                unmappedNode(n.id(), n.hasDuration(), n.durationMicros(), label, depCount);
                return;
            }
            long id = nextId++;
            Operator withId = new Operator(id, op.name(), op.kind(), op.phase(), op.layer(), op.step(), op.batch(),
                op.m(), op.n(), op.k(), op.elements(), op.dataType(), Operator.NO_DEPS);
            hold(withId, depCount, n.id(), n.hasDuration(), n.durationMicros(), instance);
        }

        private Operator mapOrFail(Kernel k, String opName, String[] unsimulated) throws ProtoWire.Corrupt {
            try {
                return ChakraOps.map(opName, k.io(), unsimulated);
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new ProtoWire.Corrupt(k.messageOffset(), "node " + k.index() + " (id "
                    + Long.toUnsignedString(k.id()) + "): corrupt inputs of " + opName + ": " + e.getMessage());
            } catch (ChakraOps.UnknownDtype e) {
                throw new ChakraOps.UnknownDtype("node " + k.index() + " (id " + Long.toUnsignedString(k.id())
                    + "): " + e.getMessage());
            }
        }

        private void collectiveNode(ProtoWire.Stream s, Node n, int depCount) {
            String collective = n.hasCommType && n.commType >= 0 && n.commType < COLLECTIVES.length
                ? COLLECTIVES[(int) n.commType] : null;
            String label = baseName(n.name);
            OpKind kind = collective == null ? null : switch (collective) {
                case "all_reduce" -> OpKind.ALL_REDUCE;
                case "all_gather" -> OpKind.ALL_GATHER;
                case "reduce_scatter", "reduce_scatter_block" -> OpKind.REDUCE_SCATTER;
                case "all_to_all" -> OpKind.ALL_TO_ALL;
                default -> null;
            };
            if (kind == null) {
                if (collective != null && !otherCollectives.contains(collective)) {
                    otherCollectives.add(collective);
                }
                unmappedNode(n.id, n.hasDuration, n.durationMicros, label, depCount);
                return;
            }
            String types = text(s.buffer(), n.inTypesStart, n.inTypesEnd);
            DataType dt = ChakraOps.firstTensorDtype(types);
            if (dt == null || !n.hasCommSize || n.commSize <= 0 || n.commSize % dt.bytes() != 0) {
                unmappedNode(n.id, n.hasDuration, n.durationMicros, label, depCount);
                return;
            }
            int devices = (int) Math.min(Integer.MAX_VALUE, n.groupSize);
            if (devices < 2) {
                devices = 2;
                assumedGroupAllReduces++;
            }
            // comm_size as nccl-tests' size (an all-gather's output, a reduce-scatter's input), as ASTRA-sim reads it.
            Operator op = Operator.collective(nextId++, kind.key(), kind, Phase.PREFILL, -1, 0,
                n.commSize / dt.bytes(), devices, dt);
            hold(op, depCount, n.id, n.hasDuration, n.durationMicros, Long.MIN_VALUE);
        }

        private void hold(Operator op, int depCount, long nodeId, boolean hasDuration, long durationMicros,
                          long instance) {
            long[] deps = prune(depCount);
            double measured = hasDuration ? durationMicros : Double.NaN;
            if (hasDuration) {
                mappedMicros += durationMicros;
            }
            Pending p = new Pending(op, deps, measured, instance);
            remember(op.id(), deps);
            window.addLast(p);
            if (instance != Long.MIN_VALUE) {
                byInstance.put(instance, p);
            }
            table.put(nodeId, op.id());
            if (window.size() > WINDOW) {
                emit(window.pollFirst());
            }
        }

        private void emit(Pending p) {
            if (p.instance != Long.MIN_VALUE && byInstance.get(p.instance) == p) {
                byInstance.remove(p.instance);
            }
            Operator o = p.op;
            long[] deps = p.deps.length == 0 ? Operator.NO_DEPS : p.deps;
            Operator op = new Operator(o.id(), o.name(), o.kind(), o.phase(), o.layer(), o.step(), o.batch(), o.m(),
                o.n(), o.k(), o.elements(), o.dataType(), deps);
            if (Double.isNaN(p.measuredMicros)) {
                notMeasured++;
            }
            out.accept(new ImportedOp(op, p.measuredMicros * 1e-6));
        }

        /** Keeps an operator's deps for pruning the deps of later ones. */
        private void remember(long opId, long[] deps) {
            int slot = (int) (opId & (RING - 1));
            ringDeps[slot] = deps;
            ringId[slot] = opId;
        }

        private void unmappedNode(long nodeId, boolean hasDuration, long durationMicros, String label,
                                  int depCount) {
            count(label, hasDuration ? durationMicros * 1000 : 0);
            table.put(nodeId, storeNonOp(-1, 0, depCount));
        }

        private void count(String label, long ns) {
            long[] c = unmapped.computeIfAbsent(label, k -> new long[2]);
            c[0]++;
            c[1] += ns;
        }

        /** Collects the operator ids the node's deps resolve to into scratch[0, count), sorted and unique. */
        private int resolveDeps(long[] data, int dataCount, long[] ctrl, int ctrlCount) {
            int count = 0;
            for (int pass = 0; pass < 2; pass++) {
                long[] ids = pass == 0 ? data : ctrl;
                int m = pass == 0 ? dataCount : ctrlCount;
                for (int i = 0; i < m; i++) {
                    long v = table.get(ids[i]);
                    if (v == NodeTable.ABSENT) {
                        droppedDeps++;
                    } else if (v >= 0) {
                        count = add(count, v);
                    } else {
                        int at = (int) -v;
                        int len = (int) pool[at + 2];
                        for (int j = 0; j < len; j++) {
                            count = add(count, pool[at + 3 + j]);
                        }
                    }
                }
            }
            Arrays.sort(scratch, 0, count);
            int unique = 0;
            for (int i = 0; i < count; i++) {
                if (unique == 0 || scratch[unique - 1] != scratch[i]) {
                    scratch[unique++] = scratch[i];
                }
            }
            return unique;
        }

        private int add(int count, long v) {
            if (count == scratch.length) {
                scratch = Arrays.copyOf(scratch, scratch.length * 2);
            }
            scratch[count] = v;
            return count + 1;
        }

        /**
         * The resolved deps in scratch[0, count) less those another of them already depends on (one level, over
         * the recent operators), capped at {@link #MAX_DEPS} (the most recent kept).
         */
        private long[] prune(int count) {
            if (count == 0) {
                return Operator.NO_DEPS;
            }
            boolean[] drop = null;
            for (int i = 0; i < count; i++) {
                long y = scratch[i];
                int slot = (int) (y & (RING - 1));
                if (ringId[slot] != y) {
                    continue; // still pending or too old: its deps are not looked at
                }
                for (long x : ringDeps[slot]) {
                    int at = Arrays.binarySearch(scratch, 0, count, x);
                    if (at >= 0) {
                        if (drop == null) {
                            drop = new boolean[count];
                        }
                        drop[at] = true;
                    }
                }
            }
            int kept = 0;
            for (int i = 0; i < count; i++) {
                if (drop == null || !drop[i]) {
                    scratch[kept++] = scratch[i];
                }
            }
            int from = 0;
            if (kept > MAX_DEPS) {
                cappedDeps += kept - MAX_DEPS;
                from = kept - MAX_DEPS;
            }
            return Arrays.copyOfRange(scratch, from, kept);
        }

        /** Deps of a later kernel added to an operator {@code self}: only operators before it. */
        private long[] merge(long[] deps, int count, long self) {
            long[] more = prune(count);
            long[] all = Arrays.copyOf(deps, deps.length + more.length);
            int n = deps.length;
            for (long d : more) {
                if (d < self && Arrays.binarySearch(deps, d) < 0) {
                    all[n++] = d;
                }
            }
            if (n == deps.length) {
                return deps;
            }
            long[] merged = Arrays.copyOf(all, n);
            Arrays.sort(merged);
            if (merged.length > MAX_DEPS) {
                cappedDeps += merged.length - MAX_DEPS;
                merged = Arrays.copyOfRange(merged, merged.length - MAX_DEPS, merged.length);
            }
            return merged;
        }

        /** Pool record [name index or -1, instance, count, deps...] of a node that is not an operator. */
        private long storeNonOp(int name, long instance, int depCount) {
            long[] deps = prune(depCount);
            int need = 3 + deps.length;
            if (poolSize + need > pool.length) {
                long grown = Math.max((long) pool.length * 2, (long) poolSize + need);
                if (grown > Integer.MAX_VALUE - 8) {
                    throw new IllegalStateException("Chakra importer: per-node state beyond 2^31 entries");
                }
                pool = Arrays.copyOf(pool, (int) grown);
            }
            int at = poolSize;
            pool[at] = name;
            pool[at + 1] = instance;
            pool[at + 2] = deps.length;
            System.arraycopy(deps, 0, pool, at + 3, deps.length);
            poolSize += need;
            return -at;
        }

        private int intern(String name) {
            Integer i = nameIndex.get(name);
            if (i == null) {
                i = names.size();
                names.add(name);
                nameIndex.put(name, i);
            }
            return i;
        }

        Coverage finish() throws ProtoWire.Corrupt {
            finished = true;
            while (!waitingOrder.isEmpty()) {
                Kernel k = waitingOrder.pollFirst();
                kernel(k);
            }
            waiting.clear();
            while (!window.isEmpty()) {
                emit(window.pollFirst());
            }
            List<String> notes = new ArrayList<>();
            if (hostNodes > 0) {
                notes.add(hostNodes + " host-side nodes (is_cpu_op) are listed unmapped as '[host] name' with no "
                    + "GPU time; the kernels they launched are the operators");
            }
            if (kernelsFolded > 0) {
                notes.add(kernelsFolded + " further kernels of an already mapped op were folded into its operator "
                    + "(one operator per launching op; measured time summed)");
            }
            if (!otherCollectives.isEmpty()) {
                notes.add("collectives " + String.join("/", otherCollectives) + " have no Rafter operator kind yet "
                    + "(all_reduce, all_gather, reduce_scatter and all_to_all map): listed unmapped by name");
            }
            if (assumedGroupAllReduces > 0) {
                notes.add(assumedGroupAllReduces + " all_reduce nodes carry no group size (the schema has none): "
                    + "2 devices assumed, the fewest a collective spans");
            }
            if (unsimulatedDtype > 0) {
                notes.add(unsimulatedDtype + " kernels work on integer/fp64/bool tensors, which Rafter does not "
                    + "simulate: listed unmapped with their dtype");
            }
            if (droppedDeps > 0) {
                notes.add(droppedDeps + " dependencies name a node that is not earlier in the file (later or "
                    + "absent): dropped, the file order is kept");
            }
            if (cappedDeps > 0) {
                notes.add(cappedDeps + " dependencies beyond " + MAX_DEPS + " per operator dropped (the most "
                    + "recent kept)");
            }
            if (notMeasured > 0) {
                notes.add(notMeasured + " operators have no duration_micros: measured time unknown");
            }
            notes.add("Chakra traces carry no phase, layer or step: operators are prefill, layer -1, step 0");
            return new Coverage("chakra", nextId, unmapped, mappedMicros * 1e-6, totalMicros * 1e-6,
                List.copyOf(notes));
        }
    }

    /** The op name without the "(k)" suffix the PyTorch converter gives the parts of a split host op. */
    static String baseName(String name) {
        int end = name.length();
        if (end >= 3 && name.charAt(end - 1) == ')') {
            int i = end - 2;
            while (i >= 0 && Character.isDigit(name.charAt(i))) {
                i--;
            }
            if (i >= 0 && i < end - 2 && name.charAt(i) == '(') {
                return name.substring(0, i);
            }
        }
        return name;
    }

    /**
     * Open-addressing map of node id to a long (>= 0: operator id; < 0: minus a pool offset), filled to 3/4: 16
     * bytes a slot. The key {@link #FREE} marks an empty slot; the id equal to it is kept aside.
     */
    static final class NodeTable {
        static final long ABSENT = Long.MIN_VALUE;
        private static final long FREE = Long.MIN_VALUE;
        private long[] keys = newKeys(1 << 12);
        private long[] values = new long[1 << 12];
        private int size;
        private boolean hasFreeKey;
        private long freeKeyValue;

        private static long[] newKeys(int n) {
            long[] k = new long[n];
            Arrays.fill(k, FREE);
            return k;
        }

        long get(long key) {
            if (key == FREE) {
                return hasFreeKey ? freeKeyValue : ABSENT;
            }
            int mask = keys.length - 1;
            int i = mix(key) & mask;
            while (keys[i] != FREE) {
                if (keys[i] == key) {
                    return values[i];
                }
                i = (i + 1) & mask;
            }
            return ABSENT;
        }

        void put(long key, long value) {
            if (key == FREE) {
                hasFreeKey = true;
                freeKeyValue = value;
                return;
            }
            if (4L * (size + 1) > 3L * keys.length) {
                grow();
            }
            int mask = keys.length - 1;
            int i = mix(key) & mask;
            while (keys[i] != FREE) {
                if (keys[i] == key) {
                    values[i] = value;
                    return;
                }
                i = (i + 1) & mask;
            }
            keys[i] = key;
            values[i] = value;
            size++;
        }

        private void grow() {
            long[] oldKeys = keys;
            long[] oldValues = values;
            keys = newKeys(oldKeys.length * 2);
            values = new long[oldKeys.length * 2];
            size = 0;
            for (int i = 0; i < oldKeys.length; i++) {
                if (oldKeys[i] != FREE) {
                    put(oldKeys[i], oldValues[i]);
                }
            }
        }

        private static int mix(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 32));
        }
    }
}
