package dev.rafter.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Chakra reader's field numbers, wire types and enum names against the schema it reads (the shipped .proto). */
class ChakraSchemaTest {
    static final Path PROTO = Path.of("src/test/resources/fixtures/chakra/et_def.proto");

    /** A field of the .proto: its number and declared type. */
    record ProtoField(int number, String type, boolean repeated) {}

    /** message name -> field name -> field; enum name -> value -> constant name. */
    static final Map<String, Map<String, ProtoField>> MESSAGES = new HashMap<>();
    static final Map<String, Map<Integer, String>> ENUMS = new HashMap<>();

    @BeforeAll
    static void parseProto() throws IOException {
        String text = Files.readString(PROTO).replaceAll("//[^\n]*", "");
        Matcher block = Pattern.compile("(message|enum)\\s+(\\w+)\\s*\\{((?:[^{}]|\\{[^{}]*\\})*)\\}").matcher(text);
        Pattern field = Pattern.compile("(repeated\\s+)?([\\w.]+)\\s+(\\w+)\\s*=\\s*(\\d+)\\s*;");
        Pattern constant = Pattern.compile("(\\w+)\\s*=\\s*(\\d+)\\s*;");
        while (block.find()) {
            if (block.group(1).equals("message")) {
                Map<String, ProtoField> fields = new LinkedHashMap<>();
                Matcher m = field.matcher(block.group(3));
                while (m.find()) {
                    fields.put(m.group(3), new ProtoField(Integer.parseInt(m.group(4)), m.group(2), m.group(1) != null));
                }
                MESSAGES.put(block.group(2), fields);
            } else {
                Map<Integer, String> values = new HashMap<>();
                Matcher m = constant.matcher(block.group(3));
                while (m.find()) {
                    values.put(Integer.parseInt(m.group(2)), m.group(1));
                }
                ENUMS.put(block.group(2), values);
            }
        }
    }

    /** The wire type of a proto3 field of this type (packed repeated scalars are length-delimited). */
    static int wireType(String type) {
        return switch (type) {
            case "int32", "int64", "uint32", "uint64", "sint32", "sint64", "bool" -> ProtoWire.VARINT;
            case "double", "fixed64", "sfixed64" -> ProtoWire.FIXED64;
            case "float", "fixed32", "sfixed32" -> ProtoWire.FIXED32;
            default -> ENUMS.containsKey(type) ? ProtoWire.VARINT : ProtoWire.LENGTH_DELIMITED;
        };
    }

    private static void assertField(int constant, String message, String name, String type) {
        ProtoField f = MESSAGES.get(message).get(name);
        assertNotNull(f, message + "." + name + " is not in " + PROTO);
        assertEquals(f.number(), constant, message + "." + name + "'s number");
        assertEquals(type, f.type(), message + "." + name + "'s type, as the reader decodes it");
    }

    @Test
    void protoParsed() {
        // guards the parser above: the schema's messages and enums were found
        assertTrue(MESSAGES.keySet().containsAll(Set.of("GlobalMetadata", "Node", "IOInfo", "AttributeProto")));
        assertEquals(32, MESSAGES.get("AttributeProto").size());
        assertEquals(8, ENUMS.get("NodeType").size());
    }

    @Test
    void messageFieldsMatchTheSchema() {
        assertField(ChakraSchema.METADATA_VERSION, "GlobalMetadata", "version", "string");
        assertField(ChakraSchema.METADATA_ATTR, "GlobalMetadata", "attr", "AttributeProto");
        assertField(ChakraSchema.NODE_ID, "Node", "id", "uint64");
        assertField(ChakraSchema.NODE_NAME, "Node", "name", "string");
        assertField(ChakraSchema.NODE_TYPE, "Node", "type", "NodeType");
        assertField(ChakraSchema.NODE_CTRL_DEPS, "Node", "ctrl_deps", "uint64");
        assertField(ChakraSchema.NODE_DATA_DEPS, "Node", "data_deps", "uint64");
        assertField(ChakraSchema.NODE_START_TIME_MICROS, "Node", "start_time_micros", "uint64");
        assertField(ChakraSchema.NODE_DURATION_MICROS, "Node", "duration_micros", "uint64");
        assertField(ChakraSchema.NODE_INPUTS, "Node", "inputs", "IOInfo");
        assertField(ChakraSchema.NODE_OUTPUTS, "Node", "outputs", "IOInfo");
        assertField(ChakraSchema.NODE_ATTR, "Node", "attr", "AttributeProto");
        assertField(ChakraSchema.IO_VALUES, "IOInfo", "values", "string");
        assertField(ChakraSchema.IO_SHAPES, "IOInfo", "shapes", "string");
        assertField(ChakraSchema.IO_TYPES, "IOInfo", "types", "string");
        assertTrue(MESSAGES.get("Node").get("ctrl_deps").repeated() && MESSAGES.get("Node").get("attr").repeated());
        // every field of the messages the reader walks has a name in ChakraSchema (a reader that skips one says so)
        assertEquals(Set.of("id", "name", "type", "ctrl_deps", "data_deps", "start_time_micros", "duration_micros",
            "inputs", "outputs", "attr"), MESSAGES.get("Node").keySet());
        assertEquals(Set.of("values", "shapes", "types"), MESSAGES.get("IOInfo").keySet());
        assertEquals(Set.of("version", "attr"), MESSAGES.get("GlobalMetadata").keySet());
    }

    @Test
    void attributeFieldsMatchTheSchema() {
        assertField(ChakraSchema.ATTR_NAME, "AttributeProto", "name", "string");
        assertField(ChakraSchema.ATTR_DOUBLE, "AttributeProto", "double_val", "double");
        assertField(ChakraSchema.ATTR_FLOAT, "AttributeProto", "float_val", "float");
        assertField(ChakraSchema.ATTR_INT32, "AttributeProto", "int32_val", "int32");
        assertField(ChakraSchema.ATTR_INT64, "AttributeProto", "int64_val", "int64");
        assertField(ChakraSchema.ATTR_UINT32, "AttributeProto", "uint32_val", "uint32");
        assertField(ChakraSchema.ATTR_UINT64, "AttributeProto", "uint64_val", "uint64");
        assertField(ChakraSchema.ATTR_SINT32, "AttributeProto", "sint32_val", "sint32");
        assertField(ChakraSchema.ATTR_SINT64, "AttributeProto", "sint64_val", "sint64");
        assertField(ChakraSchema.ATTR_FIXED32, "AttributeProto", "fixed32_val", "fixed32");
        assertField(ChakraSchema.ATTR_FIXED64, "AttributeProto", "fixed64_val", "fixed64");
        assertField(ChakraSchema.ATTR_SFIXED32, "AttributeProto", "sfixed32_val", "sfixed32");
        assertField(ChakraSchema.ATTR_SFIXED64, "AttributeProto", "sfixed64_val", "sfixed64");
        assertField(ChakraSchema.ATTR_BOOL, "AttributeProto", "bool_val", "bool");
        // the wire type the reader expects of every AttributeProto field, and where the schema ends
        int last = 0;
        for (Map.Entry<String, ProtoField> e : MESSAGES.get("AttributeProto").entrySet()) {
            ProtoField f = e.getValue();
            assertEquals(wireType(f.type()), ChakraSchema.attributeWireType(f.number()), "AttributeProto." + e.getKey());
            last = Math.max(last, f.number());
        }
        assertEquals(last, ChakraSchema.ATTR_LAST);
    }

    @Test
    void enumValuesMatchTheSchema() {
        Map<Integer, String> nodeTypes = ENUMS.get("NodeType");
        assertEquals(nodeTypes.size(), ChakraSchema.NODE_TYPES.length);
        for (int v = 0; v < ChakraSchema.NODE_TYPES.length; v++) {
            assertEquals(nodeTypes.get(v), ChakraSchema.NODE_TYPES[v], "NodeType " + v);
        }
        assertEquals("COMP_NODE", nodeTypes.get(ChakraSchema.COMP_NODE));
        assertEquals("COMM_COLL_NODE", nodeTypes.get(ChakraSchema.COMM_COLL_NODE));
        Map<Integer, String> collectives = ENUMS.get("CollectiveCommType");
        assertEquals(new TreeSet<>(collectives.keySet()).last() + 1, ChakraSchema.COLLECTIVES.length);
        for (int v = 0; v < ChakraSchema.COLLECTIVES.length; v++) {
            assertEquals(collectives.get(v).toLowerCase(Locale.ROOT), ChakraSchema.COLLECTIVES[v],
                "CollectiveCommType " + v);
        }
    }
}
