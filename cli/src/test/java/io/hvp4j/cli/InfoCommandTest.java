package io.hvp4j.cli;

import static io.hvp4j.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class InfoCommandTest {
    @Test
    void summaryTableAndJson() {
        MainTest.Result r = run("info", "--arch", "784,512,10", "--act", "relu", "--dtype", "f32", "--data",
                "gaussian:100");
        assertEquals(0, r.code(), r.err());
        String out = r.out();
        assertTrue(out.contains("0.weight, 0.bias"), out);
        assertTrue(out.contains("2.weight, 2.bias"), out);
        assertTrue(out.contains("(512, 784)"), out);
        assertTrue(out.contains("407,050"), out); // 784·512 + 512 + 512·10 + 10
        assertTrue(out.contains("dense Hessian: does NOT fit"), out);
        assertTrue(out.split("\\R").length <= 24, "one screen: " + out);

        r = run("info", "--arch", "4,5,3", "--no-bias", "--json", "--data", "gaussian:10", "--batch-size", "5");
        assertEquals(0, r.code(), r.err());
        String j = r.out().trim();
        assertTrue(j.startsWith("{") && j.endsWith("}"), j);
        for (String part : new String[] {"\"params\": 35", "\"dense_hessian_fits\": true",
            "\"dense_hessian\": " + 35L * 35 * 8, "\"parameters\": " + 35L * 8,
            "\"largest_layer_block\": " + 20L * 20 * 8, "\"names\": [\"2.weight\"]",
            // forward flops F = 2·N·Σ in·out = 2·10·(20 + 15)
            "\"forward\": 700", "\"batch_rows\": 5"}) {
            assertTrue(j.contains(part), part + " in " + j);
        }
    }

    @Test
    void builtInGraphModel() {
        MainTest.Result r = run("info", "--model", "lenet5", "--data", "gaussian:3");
        assertEquals(0, r.code(), r.err());
        // One line per parameter with its flat offset (conv1: 150 + 6 values, then conv2.weight at 156).
        assertTrue(r.out().matches("(?s).*conv1\\s+conv1\\.weight\\s+\\[6, 1, 5, 5\\]\\s+150\\s+0\n.*"), r.out());
        assertTrue(r.out().matches("(?s).*\n\\s+conv1\\.bias\\s+\\[6\\]\\s+6\\s+150\n.*"), r.out());
        assertTrue(r.out().matches("(?s).*conv2\\s+conv2\\.weight\\s+\\[16, 6, 5, 5\\]\\s+2,400\\s+156\n.*"),
                r.out());
        assertTrue(r.out().contains("61,706"), r.out());
        r = run("info", "--model", "lenet5", "--data", "gaussian:3", "--json");
        assertEquals(0, r.code(), r.err());
        String j = r.out().trim();
        for (String part : new String[] {"\"model\": \"lenet5\"", "\"params\": 61706",
            "{\"index\": 0, \"name\": \"conv1\", \"names\": [\"conv1.weight\", \"conv1.bias\"], \"shapes\":"
                    + " [[6, 1, 5, 5], [6]], \"offsets\": [0, 150], \"params\": 156, \"offset\": 0}", "\"samples\": 3",
            "\"dense_hessian_fits\": false"}) {
            assertTrue(j.contains(part), part + " in " + j);
        }
    }
}
