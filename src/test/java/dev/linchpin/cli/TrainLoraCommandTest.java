package dev.linchpin.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.linchpin.model.CausalLM;
import dev.linchpin.model.safetensors.SafetensorsFile;
import dev.linchpin.testing.TorchTesting;
import dev.linchpin.tokenizer.Tokenizer;
import dev.linchpin.train.LoraModel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code linchpin train --lora-rank ...} through {@link Main} on the embedded default: the base model on
 * disk is untouched, final/ is base + (α/r)·B·A recomputed here in float64 from the saved adapters,
 * only the adapted projections (and, under sftkey, the added tag rows) change.
 */
class TrainLoraCommandTest {
    @TempDir
    Path scratch;

    static final int RANK = 4;
    static final double ALPHA = 8;

    List<String> args(Path model, Path out, String objective, int steps, String... more) throws Exception {
        Path data = scratch.resolve("small.jsonl");
        if (!Files.exists(data)) Files.write(data, Files.readAllLines(model.resolve("data/test.jsonl")).subList(0, 8));
        List<String> a = new ArrayList<>(List.of("train", "--model", model.toString(), "--data", data.toString(),
                "--out", out.toString(), "--objective", objective, "--steps", String.valueOf(steps), "--batch-size", "4",
                "--lr", "1e-2", "--threads", "2", "--seed", "3", "--progress", "log", "--deterministic",
                "--lora-rank", String.valueOf(RANK), "--lora-alpha", String.valueOf(ALPHA), "--lora-targets", "q_proj,v_proj"));
        a.addAll(List.of(more));
        return a;
    }

    static Map<String, Tensor> load(Path safetensors) throws Exception {
        Map<String, Tensor> out = new TreeMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(safetensors)) {
            for (String name : f.tensors().keySet()) out.put(name, f.load(name).clone());
        }
        return out;
    }

    static String sha256(Path f) throws Exception {
        return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
    }

    /** W + (α/r)·B·A in float64 from the saved adapters, rounded to fp32 once at the end. */
    static Tensor mergedByHand(Tensor w, Tensor a, Tensor b) {
        return w.to(ScalarType.Double).add(torch.matmul(b.to(ScalarType.Double), a.to(ScalarType.Double)).mul(new Scalar(ALPHA / RANK)));
    }

    @Test
    void loraThroughTheCliExportsBasePlusScaledBATimesAAndLeavesTheBaseUntouched() throws Exception {
        Path model = TrainCommandTest.defaultModel(), out = scratch.resolve("lora");
        String before = sha256(model.resolve("model.safetensors"));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, TrainCommandTest.run(args(model, out, "sft", 3), err), err.toString(StandardCharsets.UTF_8));
        assertEquals(before, sha256(model.resolve("model.safetensors")), "the base model file changed");
        assertEquals(3, Files.readAllLines(out.resolve("metrics.jsonl")).size(), "metrics.jsonl: one line per step");

        Map<String, Tensor> base = load(model.resolve("model.safetensors"));
        Map<String, Tensor> adapters = load(out.resolve("checkpoint-3/trainable.safetensors"));
        int layers = new ObjectMapper().readTree(model.resolve("config.json").toFile()).get("num_hidden_layers").asInt();
        Set<String> expectedKeys = new HashSet<>();
        for (int l = 0; l < layers; l++) {
            for (String p : List.of("q_proj", "v_proj")) {
                for (String ab : List.of(".lora_A", ".lora_B")) expectedKeys.add("model.layers." + l + ".self_attn." + p + ".weight" + ab);
            }
        }
        assertEquals(expectedKeys, adapters.keySet(), "only the adapters of the targets are trained");

        CausalLM exported = CausalLM.load(out.resolve("final"), new Device("cpu"), ScalarType.Float);
        for (Map.Entry<String, Tensor> e : exported.namedParameters().entrySet()) {
            String name = e.getKey();
            Tensor a = adapters.get(name + ".lora_A"), b = adapters.get(name + ".lora_B");
            if (a == null) {
                assertTrue(e.getValue().equal(base.get(name)), name + ": not adapted, must equal the base bit for bit");
                continue;
            }
            assertArrayEquals(new long[] {RANK, base.get(name).size(1)}, a.sizes().vec().get(), name + ".lora_A shape");
            assertTrue(b.abs().max().item_double() > 0, name + ": B left zero, nothing was trained");
            Tensor expected = mergedByHand(base.get(name), a, b);
            assertTrue(TorchTesting.relErr(e.getValue().to(ScalarType.Double), expected) < 1e-6, name + ": final != W + (α/r)·B·A");
        }

        // One adapted projection's output, by hand in float64: x·Wᵀ + (α/r)·(x·Aᵀ)·Bᵀ (the unmerged form)
        String q = "model.layers.1.self_attn.q_proj.weight";
        Tensor x = torch.randn(new long[] {5, base.get(q).size(1)}, new TensorOptions(ScalarType.Double));
        Tensor unmerged = torch.matmul(x, base.get(q).to(ScalarType.Double).t()).add(torch.matmul(torch.matmul(x,
                adapters.get(q + ".lora_A").to(ScalarType.Double).t()), adapters.get(q + ".lora_B").to(ScalarType.Double).t()).mul(new Scalar(ALPHA / RANK)));
        Tensor viaExport = torch.matmul(x, exported.namedParameters().get(q).to(ScalarType.Double).t());
        assertTrue(TorchTesting.relErr(viaExport, unmerged) < 1e-6, "projection output of the export vs by hand");

        // whole model: the export's logits equal those of a model assembled from base + hand-merged weights
        Map<String, Tensor> assembled = new java.util.LinkedHashMap<>();
        for (String name : exported.namedParameters().keySet()) {
            Tensor a = adapters.get(name + ".lora_A");
            assembled.put(name, a == null ? base.get(name) : mergedByHand(base.get(name), a, adapters.get(name + ".lora_B")).to(ScalarType.Float).contiguous());
        }
        CausalLM byHand = CausalLM.fromParameters(exported.config(), assembled);
        CausalLM original = CausalLM.load(model, new Device("cpu"), ScalarType.Float);
        Tensor ids = Tensor.create(new long[] {3, 17, 40, 5, 99, 12, 7, 0}).view(1, 8);
        Tensor logits = exported.logits(ids, null);
        assertTrue(TorchTesting.relErr(logits, byHand.logits(ids, null)) < 1e-5, "logits of final/ vs hand-merged model");
        assertTrue(TorchTesting.relErr(logits, original.logits(ids, null)) > 1e-4, "the adapters changed the logits");
    }

    /**
     * SFTKey on the default adds four tag tokens (new rows = mean of the old rows). Under LoRA those rows
     * are trained through a delta (the default ties lm_head to the embedding): after training the tag rows
     * moved away from the mean (recomputed here in float64 from the base file), every old row and every
     * non-target weight is bit-identical to the base, and the checkpoint trains only adapters + tag rows.
     */
    @Test
    void sftKeyWithLoraTrainsTheAddedTagRowsAndNothingElseOfTheEmbedding() throws Exception {
        Path model = TrainCommandTest.defaultModel(), out = scratch.resolve("lora-sftkey");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, TrainCommandTest.run(args(model, out, "sftkey", 4, "--stage1-steps", "2"), err), err.toString(StandardCharsets.UTF_8));
        Map<String, Tensor> base = load(model.resolve("model.safetensors"));
        Map<String, Tensor> trained = load(out.resolve("checkpoint-4/trainable.safetensors"));
        String embed = "model.embed_tokens.weight";
        assertTrue(trained.containsKey(embed + LoraModel.TOKEN_ROWS), trained.keySet().toString());
        assertEquals(17, trained.size(), "16 adapters (4 layers x q,v x A,B) + the tag rows' delta: " + trained.keySet());

        long oldVocab = base.get(embed).size(0);
        long[] tagIds;
        try (Tokenizer tok = Tokenizer.load(out.resolve("final"))) {
            tagIds = new long[4];
            List<String> tags = List.of("<Thinking>", "</Thinking>", "<Answer>", "</Answer>");
            for (int i = 0; i < 4; i++) tagIds[i] = tok.encode(tags.get(i), false)[0];
        }
        assertArrayEquals(new long[] {oldVocab, oldVocab + 1, oldVocab + 2, oldVocab + 3}, java.util.Arrays.stream(tagIds).sorted().toArray());

        CausalLM exported = CausalLM.load(out.resolve("final"), new Device("cpu"), ScalarType.Float);
        Tensor e = exported.namedParameters().get(embed);
        assertEquals(oldVocab + 4, e.size(0));
        assertTrue(e.narrow(0, 0, oldVocab).equal(base.get(embed)), "old embedding rows are frozen");
        Tensor mean = base.get(embed).to(ScalarType.Double).mean(0).to(ScalarType.Float);
        for (long id : tagIds) {
            double moved = e.select(0, id).sub(mean).abs().max().item_double();
            assertTrue(moved > 1e-4, "tag row " + id + " did not move from the mean (moved " + moved + ")");
        }
        for (Map.Entry<String, Tensor> p : exported.namedParameters().entrySet()) {
            String name = p.getKey();
            if (name.equals(embed)) continue;
            boolean adapted = trained.containsKey(name + ".lora_A");
            if (adapted) assertNotEquals(true, p.getValue().equal(base.get(name)), name + ": adapted weight unchanged");
            else assertTrue(p.getValue().equal(base.get(name)), name + ": must equal the base bit for bit");
        }
        assertFalse(Files.exists(model.resolve(TrainCommand.SFTKEY_TOKENIZER)), "nothing written into the model directory");
    }

    @Test
    void cudaDeviceWithoutCudaLibtorchIsAClearError() throws Exception {
        boolean cuda;
        try {
            cuda = torch.cuda_is_available();
        } catch (Throwable t) {
            cuda = false;
        }
        org.junit.jupiter.api.Assumptions.assumeFalse(cuda, "this libtorch has CUDA");
        Path model = TrainCommandTest.defaultModel();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(1, TrainCommandTest.run(args(model, scratch.resolve("cuda"), "sft", 1, "--device", "cuda"), err));
        String log = err.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("--device cuda: this libtorch has no usable CUDA"), log);
        assertFalse(Files.exists(scratch.resolve("cuda/final")));
    }
}
