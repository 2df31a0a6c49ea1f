package dev.linchpin.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.model.CausalLM;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.safetensors.SafetensorsWriter;
import dev.linchpin.testing.TinyModels;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RolloutEngine#fromHuggingFace} reads checkpoints without libtorch: for bf16, fp16 and fp64
 * files, a sharded fp32 checkpoint and an fp32 file whose data is not 4-byte aligned, the engine must
 * hold exactly the weights libtorch makes of the same file ({@code CausalLM.load} converting to fp32,
 * then {@link CausalLMEngines#fromModel}): the two engines' logits are compared bit for bit. Non-finite
 * values are refused naming the tensor and element.
 */
class CheckpointLoadingTest {
    static final long BUDGET = 16L << 20;
    static final long[] TOKENS = {5, 9, 2, 77, 31, 64, 1, 100, 12};

    @TempDir
    Path scratch;

    @Test
    void everyDtypeShardingAndAlignmentLoadsTheWeightsLibtorchLoads() throws IOException {
        for (String name : List.of("qwen3-headdim", "llama3-rope-biases")) {
            ModelConfig c = TinyModels.tinyConfigs().get(name);
            try (PointerScope scope = new PointerScope()) {
                CausalLM model = TinyModels.randomModel(c);
                for (ScalarType type : List.of(ScalarType.BFloat16, ScalarType.Half, ScalarType.Double, ScalarType.Float)) {
                    Path dir = scratch.resolve(name + "-" + type.name());
                    Map<String, Tensor> converted = new LinkedHashMap<>();
                    model.namedParameters().forEach((k, v) -> converted.put(k, v.to(type)));
                    Files.createDirectories(dir);
                    SafetensorsWriter.write(dir.resolve("model.safetensors"), converted, null);
                    SafetensorsWriter.writeTextAtomically(dir.resolve("config.json"), c.toJson());
                    assertSameEngine(dir, name + " " + type.name());
                }
                Path sharded = scratch.resolve(name + "-sharded");
                List<Path> files = SafetensorsWriter.writeSharded(sharded, model.namedParameters(), null, 40_000);
                SafetensorsWriter.writeTextAtomically(sharded.resolve("config.json"), c.toJson());
                assertTrue(files.size() >= 4, "several shards and the index: " + files);
                assertSameEngine(sharded, name + " sharded");

                Path unaligned = scratch.resolve(name + "-unaligned");
                Files.createDirectories(unaligned);
                misalign(scratch.resolve(name + "-" + ScalarType.Float.name()).resolve("model.safetensors"),
                        unaligned.resolve("model.safetensors"));
                SafetensorsWriter.writeTextAtomically(unaligned.resolve("config.json"), c.toJson());
                assertSameEngine(unaligned, name + " unaligned");
            }
        }
    }

    @Test
    void aNonFiniteValueIsRefusedNamingTensorAndElement() throws IOException {
        ModelConfig c = TinyModels.tinyConfigs().get("qwen3-headdim");
        try (PointerScope scope = new PointerScope()) {
            CausalLM model = TinyModels.randomModel(c);
            Map<String, Tensor> bf16 = new LinkedHashMap<>();
            model.namedParameters().forEach((k, v) -> bf16.put(k, v.to(ScalarType.BFloat16).clone()));
            bf16.get("model.layers.1.mlp.up_proj.weight").view(-1).narrow(0, 70, 1).fill_(new org.bytedeco.pytorch.Scalar(Double.NaN));
            Path dir = scratch.resolve("nan");
            Files.createDirectories(dir);
            SafetensorsWriter.write(dir.resolve("model.safetensors"), bf16, null);
            SafetensorsWriter.writeTextAtomically(dir.resolve("config.json"), c.toJson());
            IOException e = assertThrows(IOException.class, () -> RolloutEngine.fromHuggingFace(dir, BUDGET, 1));
            assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("model.layers.1.mlp.up_proj.weight")
                    && e.getMessage().contains("element 70"), e.getMessage());
        }
    }

    private static void assertSameEngine(Path dir, String what) throws IOException {
        CausalLM viaLibtorch = CausalLM.load(dir, new Device("cpu"), ScalarType.Float);
        try (RolloutEngine expected = CausalLMEngines.fromModel(viaLibtorch, BUDGET, 1);
             RolloutEngine actual = RolloutEngine.fromHuggingFace(dir, BUDGET, 1)) {
            float[] e = expected.logits(TOKENS), a = actual.logits(TOKENS);
            assertArrayEquals(e, a, what + ": the same fp32 weights as libtorch's conversion, bit for bit");
            assertEquals(viaLibtorch.config().vocabSize() * TOKENS.length, a.length);
        }
    }

    /** Rewrites a safetensors file with its header padded so the data starts 2 bytes past a 4-byte boundary. */
    private static void misalign(Path from, Path to) throws IOException {
        byte[] bytes = Files.readAllBytes(from);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        int pad = (int) ((2 - (8 + n) % 4 + 4) % 4) + 4;
        ByteBuffer out = ByteBuffer.allocate(bytes.length + pad).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(n + pad).put(bytes, 8, (int) n);
        for (int i = 0; i < pad; i++) out.put((byte) ' ');
        out.put(bytes, (int) (8 + n), bytes.length - (int) (8 + n));
        assertEquals(2, (8 + n + pad) % 4, "data start is misaligned");
        Files.write(to, out.array());
    }
}
