package dev.rafter.importer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.config.InputException;
import dev.rafter.hw.DataType;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChakraImporterTest {
    static final Path FIXTURE = Path.of("src/test/resources/fixtures/chakra/pytorch-feeder-test.0.et.gz");
    static final List<ImportedOp> OPS = new ArrayList<>();
    static Coverage coverage;

    @TempDir
    Path tmp;

    @BeforeAll
    static void importFixture() {
        coverage = new ChakraImporter().read(FIXTURE, OPS::add);
    }

    private static void assertGemm(ImportedOp o, String name, long batch, long m, long n, long k) {
        Operator op = o.op();
        assertEquals(name, op.name());
        assertEquals(OpKind.GEMM, op.kind());
        assertEquals(DataType.FP32, op.dataType());
        assertEquals(List.of(batch, m, n, k), List.of(op.batch(), op.m(), op.n(), op.k()), name);
    }

    @Test
    void fixtureShapesByHand() {
        // ResNet-50 stem: input [32, 3, 224, 224], weight [64, 3, 7, 7], output [32, 64, 112, 112]:
        // implicit GEMM m = 32 x 112 x 112, n = 64, k = 3 x 7 x 7
        assertGemm(OPS.get(0), "aten::conv2d", 1, 401408, 64, 147);
        // its cudnn_batch_norm (training): 64 channel rows of 32 x 112 x 112
        Operator bn = OPS.get(1).op();
        assertEquals(OpKind.LAYERNORM, bn.kind());
        assertEquals(List.of(64L, 401408L, 25690112L), List.of(bn.m(), bn.n(), bn.elements()));
        // 1x1 conv 64 -> 64 on 56x56, then 3x3 conv 64 -> 64 (k = 64 x 9), then 1x1 64 -> 256
        assertGemm(OPS.get(2), "aten::conv2d", 1, 100352, 64, 64);
        assertGemm(OPS.get(4), "aten::conv2d", 1, 100352, 64, 576);
        assertGemm(OPS.get(6), "aten::conv2d", 1, 100352, 256, 64);
        assertEquals(List.of(256L, 100352L), List.of(OPS.get(7).op().m(), OPS.get(7).op().n()));
        // residual add_ of two [32, 256, 56, 56] tensors
        Operator add = OPS.get(10).op();
        assertEquals(OpKind.ELEMENTWISE, add.kind());
        assertEquals(32L * 256 * 56 * 56, add.elements());
        // fc: linear kernel carries addmm(bias [1000], x [32, 2048], W^T [2048, 1000])
        assertGemm(OPS.get(122), "aten::linear", 1, 32, 1000, 2048);
        // its backward: mm grad_output [32, 1000] x W [1000, 2048]; mm grad^T [1000, 32] x x [32, 2048]
        assertGemm(OPS.get(123), "aten::mm", 1, 32, 2048, 1000);
        assertGemm(OPS.get(124), "aten::mm", 1, 1000, 2048, 32);
        // DDP's gradient scaling: fc weight grad [1000, 2048] times a scalar, one tensor read: unary
        Operator scale = OPS.get(126).op();
        assertEquals("aten::mul", scale.name());
        assertEquals(OpKind.UNARY, scale.kind());
        assertEquals(1000L * 2048, scale.elements());
        // gradient all-reduce: comm_size 8196000 bytes of float
        Operator ar = OPS.get(127).op();
        assertEquals(OpKind.ALL_REDUCE, ar.kind());
        assertEquals(8196000 / 4, ar.elements());
        assertEquals(2, ar.n());
        Operator tb = OPS.get(128).op();
        assertEquals(OpKind.ELEMENTWISE, tb.kind());
        assertEquals(32L * 2048 * 7 * 7, tb.elements());
        // convolution_backward of the last 1x1 conv 512 -> 2048 on 7x7: grad input and grad weight (batch 2)
        assertGemm(OPS.get(131), "aten::convolution_backward", 2, 32 * 49, 2048, 512);
        assertEquals(1.705e-3, OPS.get(131).measuredS(), 1e-12);
    }

    @Test
    void nestedKernelsCountedOnceAndCoverageAddsUp() {
        long conv = OPS.stream().filter(o -> o.op().name().equals("aten::conv2d")).count();
        long convBackward = OPS.stream().filter(o -> o.op().name().equals("aten::convolution_backward")).count();
        long bn = OPS.stream().filter(o -> o.op().name().equals("aten::batch_norm")).count();
        // ResNet-50 has 53 convolutions; each conv2d is 2 to 4 host nodes (op(0), op(1), ...) and 1 to 6 kernels
        assertEquals(List.of(53L, 53L, 53L), List.of(conv, convBackward, bn));
        // 248 operators of their own kind, and 161 scalar multiplies (gradient scaling) as unary
        assertEquals(248 + 161, coverage.mapped());
        assertEquals(161, OPS.stream().filter(o -> o.op().kind() == OpKind.UNARY).count());
        assertEquals(OPS.size(), coverage.mapped());
        // every one of the 3,664 nodes: operators, kernels folded into them, or unmapped by name
        assertTrue(coverage.notes().get(1).startsWith("308 further kernels"), coverage.notes().get(1));
        assertEquals(3664, coverage.mapped() + 308 + coverage.unmappedCount());
        assertEquals(2448, coverage.unmapped().entrySet().stream().filter(e -> e.getKey().startsWith("[host] "))
            .mapToLong(e -> e.getValue()[0]).sum());
        assertArrayEquals(new long[] {53, 33_646_000}, coverage.unmapped().get("aten::cudnn_batch_norm_backward"));
        assertArrayEquals(new long[] {53, 86_000}, coverage.unmapped().get("aten::add_ (long int)"));
        assertEquals(0.329543, coverage.totalMeasuredS(), 1e-9);
        // the 161 scalar multiplies add their kernels: 1.109 ms
        assertEquals(0.270551 + 0.001109, coverage.mappedMeasuredS(), 1e-9);
        double measured = OPS.stream().mapToDouble(o -> Double.isNaN(o.measuredS()) ? 0 : o.measuredS()).sum();
        assertEquals(coverage.mappedMeasuredS(), measured, 1e-9);
        // the stem conv: implicit-GEMM kernel plus its helper kernel, summed
        assertEquals(1.631e-3, OPS.get(0).measuredS(), 1e-12);
    }

    @Test
    void operatorsNumberedInOrderWithEarlierDeps() {
        for (int i = 0; i < OPS.size(); i++) {
            Operator op = OPS.get(i).op();
            assertEquals(i, op.id());
            for (long d : op.deps()) {
                assertTrue(d >= 0 && d < i, "op " + i + " dep " + d);
            }
        }
        assertArrayEquals(new long[] {7}, OPS.get(10).op().deps()); // the add_ waits for the bn of its branch
    }

    @Test
    void detectedByContentNotCsvOrJson() throws IOException {
        assertInstanceOf(ChakraImporter.class, Importers.detect(FIXTURE));
        Path csv = Files.writeString(tmp.resolve("t.csv"), "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,"
            + "data_type,deps\n0,a,gemm,prefill,0,0,1,2,2,2,0,fp16,\n");
        Path json = Files.writeString(tmp.resolve("t.json"), "{\"traceEvents\": []}");
        Path list = Files.writeString(tmp.resolve("l.json"), "[{\"a\": 1}]");
        ChakraImporter c = new ChakraImporter();
        for (Path p : List.of(csv, json, list)) {
            byte[] b = Files.readAllBytes(p);
            assertFalse(c.recognises(b, b.length), p.toString());
        }
        byte[] head = Importers.open(FIXTURE).readNBytes(Importers.HEAD_BYTES);
        assertTrue(c.recognises(head, head.length));
    }

    // ------------------------------------------------------------------ bad input

    private byte[] fixtureBytes() throws IOException {
        try (InputStream in = Importers.open(FIXTURE)) {
            return in.readAllBytes();
        }
    }

    private String failure(byte[] bytes) throws IOException {
        Path p = Files.write(tmp.resolve("bad.et"), bytes);
        InputException e = assertThrows(InputException.class, () -> new ChakraImporter().read(p, o -> { }));
        assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        return e.getMessage();
    }

    @Test
    void truncatedFileNamesTheByteOffset() throws IOException {
        byte[] all = fixtureBytes();
        String m = failure(Arrays.copyOf(all, 1_000_000));
        assertTrue(m.endsWith(": byte offset 999878 (node 1679): message declares 630 bytes but the file ends after "
            + "120 (truncated file or length beyond the file)"), m);
        // truncated inside a length prefix: the file's last byte is the first of a 2-byte varint
        byte[] prefix = {0x02, 0x0a, 0x00, (byte) 0x85};
        assertTrue(failure(prefix).contains("byte offset 3 (node 0): truncated varint"), failure(prefix));
    }

    @Test
    void wrongFormatIsNotATrace() throws IOException {
        String m = failure("op_id,name\n0,x\n".getBytes(StandardCharsets.UTF_8));
        assertTrue(m.contains("not a Chakra execution trace (or truncated): byte offset 0: the first message "
            + "(GlobalMetadata) cannot be read: message declares 111 bytes but the file ends after 14"), m);
        Path json = Files.writeString(tmp.resolve("j.json"), "{\"a\": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, "
            + "15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, "
            + "41, 42, 43, 44, 45, 46, 47, 48, 49, 50]}");
        assertTrue(failure(Files.readAllBytes(json)).contains("is not a GlobalMetadata message"));
        assertTrue(failure(new byte[0]).contains("empty file"));
    }

    @Test
    void corruptDataNamesTheByteOffset() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        message(b, metadata());
        // Node: id 1, then name (field 2) with varint wire type
        message(b, concat(varintField(1, 1), varintField(2, 7)));
        String m = failure(b.toByteArray());
        assertTrue(m.contains("byte offset 29 (node 0): Node.name (field 2) has varint wire type, the schema "
            + "says length-delimited"), m);
        // a length inside a node that runs past the node
        ByteArrayOutputStream c = new ByteArrayOutputStream();
        message(c, metadata());
        message(c, concat(varintField(1, 1), new byte[] {0x12, 0x7f, 'a'}));
        assertTrue(failure(c.toByteArray()).contains("field 2 declares 127 bytes but its message has 1 left"));
        // a corrupted byte in the fixture's first node: the id tag becomes wire type 7
        byte[] all = fixtureBytes();
        all[97] = 0x0f;
        assertTrue(failure(all).contains("byte offset 97 (node 0): field 1 has invalid wire type 7"), failure(all));
    }

    @Test
    void unknownDtypeOnAMappedOpNamesTheNode() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        message(b, metadata());
        message(b, node(5, "aten::mm", "[[8, 16], [16, 32]]", "['Tensor(c10::Quux)', 'Tensor(c10::Quux)']", 3));
        String m = failure(b.toByteArray());
        assertTrue(m.endsWith("node 0 (id 5): unknown tensor dtype 'c10::Quux' (known: float, c10::Half, "
            + "c10::BFloat16, c10::Float8_e4m3fn, c10::Float8_e5m2, signed char; integer and fp64 tensors are "
            + "listed unmapped)"), m);
    }

    @Test
    void syntheticKernelsWithoutHostOps() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        message(b, metadata());
        message(b, node(10, "aten::mm", "[[8, 16], [16, 32]]", "['Tensor(c10::BFloat16)', 'Tensor(c10::BFloat16)']",
            4));
        message(b, concat(node(11, "aten::bmm", "[[4, 8, 16], [4, 16, 32]]", "['Tensor(c10::Half)', "
            + "'Tensor(c10::Half)']", 0), packedField(5, 10), packedField(4, 99)));
        message(b, concat(node(12, "mystery_kernel", "[]", "[]", 2), packedField(5, 11)));
        message(b, concat(node(13, "aten::softmax", "[[4, 8, 64], []]", "['Tensor(float)', 'Int']", 1),
            packedField(5, 12)));
        Path p = Files.write(tmp.resolve("s.et"), b.toByteArray());
        List<ImportedOp> ops = new ArrayList<>();
        Coverage c = new ChakraImporter().read(p, ops::add);
        assertEquals(3, ops.size());
        assertEquals(List.of(1L, 8L, 32L, 16L, DataType.BF16), List.of(ops.get(0).op().batch(), ops.get(0).op().m(),
            ops.get(0).op().n(), ops.get(0).op().k(), ops.get(0).op().dataType()));
        assertEquals(4e-6, ops.get(0).measuredS(), 1e-15);
        assertEquals(List.of(4L, 8L, 32L, 16L, DataType.FP16), List.of(ops.get(1).op().batch(), ops.get(1).op().m(),
            ops.get(1).op().n(), ops.get(1).op().k(), ops.get(1).op().dataType()));
        assertTrue(Double.isNaN(ops.get(1).measuredS())); // duration_micros absent
        assertArrayEquals(new long[] {0}, ops.get(1).op().deps());
        // the softmax waits for the bmm through the unmapped kernel between them
        assertEquals(OpKind.SOFTMAX, ops.get(2).op().kind());
        assertEquals(List.of(32L, 64L), List.of(ops.get(2).op().m(), ops.get(2).op().n()));
        assertArrayEquals(new long[] {1}, ops.get(2).op().deps());
        assertArrayEquals(new long[] {1, 2000}, c.unmapped().get("mystery_kernel"));
        assertTrue(c.notes().stream().anyMatch(n -> n.startsWith("1 dependencies name a node that is not earlier")));
        assertEquals(7e-6, c.totalMeasuredS(), 1e-15);
        assertEquals(5e-6, c.mappedMeasuredS(), 1e-15);
    }

    /** About 200 MB of kernels (host op + kernel pairs with long IOInfo text): the heap stays bounded. */
    @Test
    void hugeTraceStreamsInBoundedMemory() throws IOException {
        Path p = tmp.resolve("huge.et");
        String values = "[" + "[123456, 654321, 0, 4096, 2, 'cuda:0'], ".repeat(12) + "False]";
        long nodes = 0;
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(p), 1 << 16)) {
            message(out, metadata());
            for (long i = 0; Files.size(p) < 0 || nodes < 2 * 290_000; i++) {
                long host = 2 * i + 1;
                message(out, concat(varintField(1, host), stringField(2, "aten::mm(0)"), varintField(3, 4),
                    packedField(4, host - 2), attribute("is_cpu_op", 27, 1), attribute("rf_id", 9, i)));
                message(out, concat(node(host + 1, "sgemm_128x128_kernel", "[[64, 128], [128, 256]]",
                    "['Tensor(c10::BFloat16)', 'Tensor(c10::BFloat16)']", 3), packedField(5, host),
                    packedField(4, host - 1), ioValues(values)));
                nodes += 2;
            }
        }
        long size = Files.size(p);
        assertTrue(size > 190_000_000L, "size " + size);
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long before = rt.totalMemory() - rt.freeMemory();
        long[] peak = {0};
        long[] count = {0};
        Coverage c = new ChakraImporter().read(p, o -> {
            if (++count[0] % 140_000 == 0) {
                System.gc();
                peak[0] = Math.max(peak[0], rt.totalMemory() - rt.freeMemory() - before);
            }
        });
        assertEquals(nodes / 2, c.mapped());
        System.out.println("chakra 200 MB trace: " + nodes + " nodes, heap grew by " + (peak[0] >> 20) + " MB");
        assertTrue(peak[0] < 40L << 20, "heap grew by " + (peak[0] >> 20) + " MB");
    }

    // ------------------------------------------------------------------ a tiny protobuf writer for the tests

    static byte[] varint(long v) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while ((v & ~0x7fL) != 0) {
            b.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        b.write((int) v);
        return b.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }

    static byte[] varintField(int field, long v) {
        return concat(varint((long) field << 3), varint(v));
    }

    static byte[] bytesField(int field, byte[] v) {
        return concat(varint((long) field << 3 | 2), varint(v.length), v);
    }

    static byte[] stringField(int field, String s) {
        return bytesField(field, s.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] packedField(int field, long... values) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (long v : values) {
            b.writeBytes(varint(v));
        }
        return bytesField(field, b.toByteArray());
    }

    static byte[] attribute(String name, int field, long value) {
        return bytesField(10, concat(stringField(1, name), varintField(field, value)));
    }

    static byte[] metadata() {
        return concat(stringField(1, "0.0.4"), bytesField(2, concat(stringField(1, "schema"),
            stringField(29, "1.0.2"))));
    }

    /** A kernel node (is_cpu_op false) with inputs shapes and types, and duration_micros when > 0. */
    static byte[] node(long id, String name, String shapes, String types, long micros) {
        return concat(varintField(1, id), stringField(2, name), varintField(3, 4),
            micros > 0 ? varintField(7, micros) : new byte[0],
            bytesField(8, concat(stringField(2, shapes), stringField(3, types))), attribute("is_cpu_op", 27, 0));
    }

    static byte[] ioValues(String values) {
        return bytesField(9, stringField(1, values));
    }

    static void message(OutputStream out, byte[] m) throws IOException {
        out.write(varint(m.length));
        out.write(m);
    }
}
