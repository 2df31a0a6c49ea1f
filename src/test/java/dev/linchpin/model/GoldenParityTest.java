package dev.linchpin.model;

import static dev.linchpin.testing.TorchTesting.relErr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.model.safetensors.SafetensorsFile;
import dev.linchpin.testing.TorchTesting;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Parity with Hugging Face transformers: every directory under tests/fixtures/golden/ holds a tiny
 * random model saved by transformers (config.json, model.safetensors) and golden.safetensors with
 * "input_ids" [B, T] and transformers' float32 "logits" [B, T, V], made by
 * tests/fixtures/make_golden.py. Skipped (never failed) while no fixtures have been generated.
 */
class GoldenParityTest {
    static final Path GOLDEN = Path.of("tests", "fixtures", "golden");

    static List<Path> fixtureDirs() throws IOException {
        if (!Files.isDirectory(GOLDEN)) return List.of();
        try (Stream<Path> dirs = Files.list(GOLDEN)) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("golden.safetensors"))).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void logitsMatchTransformers() throws IOException {
        List<Path> dirs = fixtureDirs();
        Assumptions.assumeFalse(dirs.isEmpty(), "no golden fixtures under " + GOLDEN.toAbsolutePath()
                + ": run tests/fixtures/make_golden.py on a machine with transformers and commit its output");
        TorchTesting.seed("golden");
        for (Path dir : dirs) {
            try (PointerScope scope = new PointerScope(); SafetensorsFile golden = SafetensorsFile.open(dir.resolve("golden.safetensors"))) {
                Tensor ids = golden.load("input_ids");
                Tensor expected = golden.load("logits").to(ScalarType.Float);
                CausalLM model = CausalLM.load(dir, new Device("cpu"), ScalarType.Float);
                Tensor logits = model.logits(ids, null);
                assertArrayEquals(expected.sizes().vec().get(), logits.sizes().vec().get(), dir.toString());
                double err = relErr(logits, expected);
                System.out.println("golden " + dir.getFileName() + " (" + model.config().family().architecture() + "): rel. error " + err);
                assertTrue(err < 1e-4, dir + ": rel. error " + err + " vs transformers");
                // Incremental decoding reaches the same logits as transformers too.
                KvCache cache = model.newCache(ids.size(0), ids.size(1));
                Tensor first = model.forwardIncremental(ids.narrow(1, 0, ids.size(1) - 1), cache);
                Tensor last = model.forwardIncremental(ids.narrow(1, ids.size(1) - 1, 1), cache);
                assertTrue(relErr(first, expected.narrow(1, 0, ids.size(1) - 1)) < 1e-4, dir + ": incremental prefill");
                assertTrue(relErr(last, expected.narrow(1, ids.size(1) - 1, 1)) < 1e-4, dir + ": incremental step");
            }
        }
    }
}
