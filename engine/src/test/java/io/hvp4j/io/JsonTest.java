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
    void quoteRoundTrips() throws Json.JsonException {
        String s = "a\"b\\c\nd\u0001é";
        StringBuilder sb = new StringBuilder();
        Json.quote(sb, s);
        assertEquals(s, Json.parse(sb.toString()));
    }

    @Test
    void rejectsDeepNestingWithoutStackOverflow() {
        Json.JsonException e = assertThrows(Json.JsonException.class,
                () -> Json.parse("[".repeat(1_000_000)));
        assertEquals(Json.MAX_DEPTH, e.position, "position of the first too-deep bracket");
    }
}
