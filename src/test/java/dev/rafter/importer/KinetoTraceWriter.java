package dev.rafter.importer;

import java.io.IOException;
import java.io.Writer;

/**
 * Writes small Kineto traces for tests, event by event, in the shape torch.profiler writes them: {@code cpu_op}
 * events with {@code External id}, {@code Input Dims}, {@code Input type} and {@code Concrete Inputs}; runtime launches
 * with {@code correlation} and {@code External id}; kernels with {@code correlation}, {@code stream} and (optionally)
 * {@code External id}. Times in microseconds.
 */
final class KinetoTraceWriter {
    private final Writer w;
    private boolean first = true;

    KinetoTraceWriter(Writer w, String metadata) throws IOException {
        this.w = w;
        w.write("{\n  \"schemaVersion\": 1,\n");
        if (metadata != null) {
            w.write(metadata);
            w.write(",\n");
        }
        w.write("  \"traceEvents\": [\n");
    }

    private void sep() throws IOException {
        if (!first) {
            w.write(",\n");
        }
        first = false;
    }

    /** A cpu_op; {@code dims}, {@code types} and {@code concrete} are JSON lists as text (null: left out). */
    KinetoTraceWriter op(String name, double ts, double dur, long ext, String dims, String types, String concrete)
        throws IOException {
        sep();
        w.write("  {\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": \"" + name + "\", \"pid\": 7, \"tid\": 7, \"ts\": "
            + ts + ", \"dur\": " + dur + ", \"args\": {\"External id\": " + ext + ", \"Record function id\": 0");
        if (concrete != null) {
            w.write(", \"Concrete Inputs\": " + concrete);
        }
        if (types != null) {
            w.write(", \"Input type\": " + types);
        }
        if (dims != null) {
            w.write(", \"Input Strides\": [], \"Input Dims\": " + dims);
        }
        w.write("}}");
        return this;
    }

    /** A cpu_op with extra args given as JSON members (e.g. a collective's). */
    KinetoTraceWriter opWithArgs(String name, double ts, double dur, long ext, String members) throws IOException {
        sep();
        w.write("  {\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": \"" + name + "\", \"pid\": 7, \"tid\": 7, \"ts\": "
            + ts + ", \"dur\": " + dur + ", \"args\": {\"External id\": " + ext
            + (members.isEmpty() ? "" : ", " + members) + "}}");
        return this;
    }

    KinetoTraceWriter annotation(String name, double ts, double dur, long ext) throws IOException {
        sep();
        w.write("  {\"ph\": \"X\", \"cat\": \"user_annotation\", \"name\": \"" + name + "\", \"pid\": 7, \"tid\": 7,"
            + " \"ts\": " + ts + ", \"dur\": " + dur + ", \"args\": {\"External id\": " + ext + "}}");
        return this;
    }

    /** A runtime launch; {@code ext} < 0 leaves the External id out. */
    KinetoTraceWriter launch(String name, double ts, long correlation, long ext) throws IOException {
        sep();
        w.write("  {\"ph\": \"X\", \"cat\": \"cuda_runtime\", \"name\": \"" + name + "\", \"pid\": 7, \"tid\": 7,"
            + " \"ts\": " + ts + ", \"dur\": 2.5, \"args\": {\"cbid\": 211, \"correlation\": " + correlation
            + (ext >= 0 ? ", \"External id\": " + ext : "") + "}}");
        return this;
    }

    /** A kernel; {@code ext} < 0 leaves the External id out (linked through the launch's correlation). */
    KinetoTraceWriter kernel(String name, double ts, double dur, long correlation, long ext, int stream)
        throws IOException {
        return kernel(name, ts, dur, correlation, ext, stream, "[132, 1, 1]");
    }

    /**
     * A kernel launched with {@code grid} (a JSON list as text). Its args are named as Kineto writes a CUDA kernel's
     * (libkineto/src/CuptiActivity.cpp, GpuActivity&lt;CUpti_ActivityKernel4&gt;::metadataJson: "queued", "device",
     * "context", "stream", "correlation", ..., "grid", "block"), as src/test/resources/kineto/fp8-graph-h200.json.gz
     * (PyTorch 2.11) records them.
     */
    KinetoTraceWriter kernel(String name, double ts, double dur, long correlation, long ext, int stream, String grid)
        throws IOException {
        sep();
        w.write("  {\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"" + name + "\", \"pid\": 0, \"tid\": " + stream
            + ", \"ts\": " + ts + ", \"dur\": " + dur + ", \"args\": {" + (ext >= 0 ? "\"External id\": " + ext + ", "
            : "") + "\"queued\": 0, \"device\": 0, \"context\": 1, \"stream\": " + stream + ", \"correlation\": "
            + correlation + ", \"grid\": " + grid + ", \"block\": [128, 1, 1]}}");
        return this;
    }

    /** Any event, as JSON text. */
    KinetoTraceWriter raw(String json) throws IOException {
        sep();
        w.write("  " + json);
        return this;
    }

    void end() throws IOException {
        w.write("\n  ],\n  \"displayTimeUnit\": \"ms\"\n}\n");
        w.flush();
    }
}
