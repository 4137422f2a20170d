package io.hvp4j.io;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class JsonTest {
    @Test
    void parsesAllValueKinds() throws Json.JsonException {
        Object v = Json.parse(" {\"a\": [1, -2.5e3, 0], \"b\": {\"c\": true, \"d\": false, \"e\": null},"
                + " \"s\": \"q\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"} ");
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals(List.of(new Json.Number("1"), new Json.Number("-2.5e3"), new Json.Number("0")), m.get("a"));
        Map<?, ?> b = (Map<?, ?>) m.get("b");
        assertEquals(Boolean.TRUE, b.get("c"));
        assertEquals(Boolean.FALSE, b.get("d"));
        assertSame(Json.NULL, b.get("e"));
        assertEquals("q\"\\/\b\f\n\r\t\u00e9\ud83d\ude00", m.get("s"));
        assertEquals(List.of(), Json.parse("[]"));
        assertEquals(Map.of(), Json.parse("{}"));
    }

    @Test
    void writeRoundTripsThroughRead() {
        String s = "a\"b\\c\nd\u0001é";
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("s", s);
        m.put("n", null);
        m.put("x", new double[] {1.5, Double.NaN});
        m.put("i", List.of(1, 2));
        String text = Json.write(m);
        assertEquals("{\"s\": \"a\\\"b\\\\c\\nd\\u0001é\", \"n\": null, \"x\": [1.5, null], \"i\": [1, 2]}", text);
        Map<?, ?> back = (Map<?, ?>) Json.read(text);
        assertEquals(s, back.get("s"));
        assertEquals(null, back.get("n"));
        assertEquals(1.5, ((Number) ((List<?>) back.get("x")).get(0)).doubleValue());
        assertEquals("0.100", Json.write(Json.fixed(0.1, 3)));
    }

    @Test
    void rejectsDeepNestingWithoutStackOverflow() {
        Json.JsonException e = assertThrows(Json.JsonException.class,
                () -> Json.parse("[".repeat(1_000_000)));
        assertEquals(Json.MAX_DEPTH, e.position, "position of the first too-deep bracket");
    }
}
