package dev.linchpin.ecosystem;

import static dev.linchpin.testing.TorchTesting.relErr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.linchpin.model.CausalLM;
import dev.linchpin.model.safetensors.SafetensorsFile;
import dev.linchpin.tokenizer.Tokenizer;
import dev.linchpin.train.LoraModel;
import dev.linchpin.train.PeftAdapters;
import java.io.IOException;
import java.nio.file.Path;
import java.util.TreeSet;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA adapters between Linchpin and PEFT 0.21, both ways, on the embedded default fine-tuned by Linchpin
 * (tests/fixtures/ecosystem/default-sft, float32 on both sides):
 * <ul>
 *   <li>default-sft-lora-linchpin/ is what {@code linchpin train --objective sftkey --lora-rank 4} wrote under
 *       {@code adapter/} (four SFTKey tags added to the tokenizer, their rows trained); PEFT loaded it
 *       ({@code PeftModel.from_pretrained} on the base resized to the adapter's tokenizer) and computed logits
 *       with the adapter and after {@code merge_and_unload()}: Linchpin's LoRA and its merged export (what
 *       {@code final/} holds) give the same logits, and Linchpin writes the same directory again;
 *   <li>default-sft-lora-peft/ is an adapter PEFT made ({@code get_peft_model}, all seven projections,
 *       {@code init_lora_weights=False}, trainable token rows), saved with {@code save_pretrained}: Linchpin reads
 *       it and computes PEFT's logits.
 * </ul>
 * Tolerance 1e-4 of the largest logit (float32; the same math in other orders).
 */
class PeftParityTest {
    private static final double TOLERANCE = 1e-4;

    @TempDir
    Path tmp;

    private static CausalLM base() throws IOException {
        return CausalLM.load(EcosystemFixtures.DIR.resolve(EcosystemFixtures.DEFAULT_SFT), new Device("cpu"), ScalarType.Float);
    }

    @Test
    void peftComputesWhatLinchpinsAdapterAndMergedExportCompute() throws IOException {
        Path adapter = EcosystemFixtures.DIR.resolve(EcosystemFixtures.LINCHPIN_LORA);
        try (PointerScope scope = new PointerScope(); Tokenizer tok = Tokenizer.load(adapter);
             SafetensorsFile peft = SafetensorsFile.open(EcosystemFixtures.OUTPUTS.resolve("lora-linchpin.safetensors"))) {
            // The adapter's tokenizer holds the SFTKey tags; the base is resized to it as linchpin train does.
            CausalLM base = base().resizeTokenEmbeddings(Math.toIntExact(tok.vocabSize()));
            LoraModel lora = PeftAdapters.load(adapter, base);
            assertEquals(4, lora.trainableTokenIds().length, "the four SFTKey tags' rows");
            Tensor ids = peft.load("ids");
            assertTrue(java.util.Arrays.stream(dev.linchpin.testing.TorchTesting.longs(ids))
                    .anyMatch(id -> id == lora.trainableTokenIds()[0]), "the inputs contain a tag");
            double adapterErr = relErr(lora.forwardModel().logits(ids, null), peft.load("logits"));
            double mergedErr = relErr(lora.exportModel().logits(ids, null), peft.load("logits_merged"));
            System.out.printf("PEFT reads Linchpin's adapter: rel. error with adapter %.3g, merged %.3g%n", adapterErr, mergedErr);
            assertTrue(adapterErr < TOLERANCE, "adapter: " + adapterErr);
            assertTrue(mergedErr < TOLERANCE, "merged export: " + mergedErr);

            // The committed directory is what Linchpin writes for this adapter.
            PeftAdapters.save(lora, tmp, null, null);
            ObjectMapper json = new ObjectMapper();
            assertEquals(json.readTree(adapter.resolve(PeftAdapters.CONFIG).toFile()), json.readTree(tmp.resolve(PeftAdapters.CONFIG).toFile()));
            try (SafetensorsFile committed = SafetensorsFile.open(adapter.resolve(PeftAdapters.WEIGHTS));
                 SafetensorsFile again = SafetensorsFile.open(tmp.resolve(PeftAdapters.WEIGHTS))) {
                assertEquals(new TreeSet<>(committed.tensors().keySet()), new TreeSet<>(again.tensors().keySet()));
                for (String name : committed.tensors().keySet()) {
                    assertArrayEquals(committed.tensors().get(name).shape(), again.tensors().get(name).shape(), name);
                    // token rows go through values - E[ids] + E[ids] in float32: equal up to one rounding
                    assertTrue(relErr(again.load(name), committed.load(name)) < 1e-6, name);
                }
            }
        }
    }

    @Test
    void linchpinComputesWhatPeftsOwnAdapterComputes() throws IOException {
        Path adapter = EcosystemFixtures.DIR.resolve(EcosystemFixtures.PEFT_LORA);
        try (PointerScope scope = new PointerScope();
             SafetensorsFile peft = SafetensorsFile.open(EcosystemFixtures.OUTPUTS.resolve("lora-peft.safetensors"))) {
            CausalLM base = base();
            LoraModel lora = PeftAdapters.load(adapter, base);
            assertEquals(7 * base.config().numLayers(), lora.adaptedWeights().size(), "all seven projections of every layer");
            assertEquals(3, lora.trainableTokenIds().length);
            Tensor ids = peft.load("ids");
            double err = relErr(lora.forwardModel().logits(ids, null), peft.load("logits"));
            double merged = relErr(lora.exportModel().logits(ids, null), peft.load("logits"));
            double baseOnly = relErr(base.logits(ids, null), peft.load("logits"));
            System.out.printf("Linchpin reads PEFT's adapter: rel. error %.3g (merged %.3g; the base alone is %.3g away)%n", err, merged, baseOnly);
            assertTrue(err < TOLERANCE, "PEFT-made adapter: " + err);
            assertTrue(merged < TOLERANCE, "merged: " + merged);
            assertTrue(baseOnly > 100 * TOLERANCE, "the adapter changes the logits: " + baseOnly);
        }
    }
}
