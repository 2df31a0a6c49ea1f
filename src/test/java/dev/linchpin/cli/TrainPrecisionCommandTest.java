package dev.linchpin.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.linchpin.model.safetensors.SafetensorsFile;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code linchpin train --precision}: bf16 autocast on CPU tracks fp32 and saves fp32 weights; bad values are clear errors. */
class TrainPrecisionCommandTest {
    @TempDir
    Path scratch;

    List<String> args(Path model, Path out, String precision) throws Exception {
        Path data = scratch.resolve("small.jsonl");
        if (!Files.exists(data)) Files.write(data, Files.readAllLines(model.resolve("data/test.jsonl")).subList(0, 8));
        return new ArrayList<>(List.of("train", "--model", model.toString(), "--data", data.toString(), "--out", out.toString(),
                "--steps", "3", "--batch-size", "4", "--lr", "1e-3", "--threads", "2", "--seed", "1", "--progress", "log",
                "--deterministic", "--precision", precision));
    }

    @Test
    void bf16OnCpuTracksFp32AndWritesFp32Weights() throws Exception {
        Path model = TrainCommandTest.defaultModel();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, TrainCommandTest.run(args(model, scratch.resolve("fp32"), "auto"), err), err.toString(StandardCharsets.UTF_8));
        assertEquals(0, TrainCommandTest.run(args(model, scratch.resolve("bf16"), "bf16"), err), err.toString(StandardCharsets.UTF_8));
        ObjectMapper json = new ObjectMapper();
        assertEquals("fp32", json.readTree(scratch.resolve("fp32/checkpoint-3/trainer_state.json").toFile()).get("precision").asText(), "auto is fp32 on CPU");
        assertEquals("bf16", json.readTree(scratch.resolve("bf16/checkpoint-3/trainer_state.json").toFile()).get("precision").asText());
        double[] l32 = TrainCommandTest.losses(scratch.resolve("fp32")), l16 = TrainCommandTest.losses(scratch.resolve("bf16"));
        assertEquals(3, l16.length);
        // The embedded default is already trained (loss 0.005-0.03 nats/token): on so small a loss bf16 rounding
        // is a large relative error though a tiny absolute one, and from step 2 on the two runs' weights also
        // differ by their own updates. Tolerance: 10% of the fp32 loss plus 2e-3 nats.
        for (int i = 0; i < 3; i++) {
            System.out.printf("step %d: fp32 %.6f bf16 %.6f%n", i + 1, l32[i], l16[i]);
            assertTrue(Math.abs(l16[i] - l32[i]) < 0.1 * l32[i] + 2e-3, "step " + (i + 1) + ": bf16 " + l16[i] + " vs fp32 " + l32[i]);
        }
        assertNotEquals(l32[0], l16[0], "the bf16 forward gave the fp32 loss exactly: autocast was not active");
        assertEquals("float32", json.readTree(scratch.resolve("bf16/final/config.json").toFile()).get("torch_dtype").asText());
        try (SafetensorsFile f = SafetensorsFile.open(scratch.resolve("bf16/final/model.safetensors"))) {
            for (String name : f.tensors().keySet()) assertEquals(ScalarType.Float, f.load(name).scalar_type().intern(), name);
        }
    }

    @Test
    void anUnknownPrecisionIsAClearError() throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(1, TrainCommandTest.run(args(TrainCommandTest.defaultModel(), scratch.resolve("x"), "fp8"), err));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("precision must be fp32, bf16 or auto, got 'fp8'"), err.toString(StandardCharsets.UTF_8));
    }
}
