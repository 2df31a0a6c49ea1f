package dev.linchpin.ecosystem;

import dev.linchpin.cli.Main;
import dev.linchpin.model.CausalLM;
import dev.linchpin.tokenizer.Tokenizer;
import dev.linchpin.tokenizer.TokenizerBuilder;
import dev.linchpin.train.PeftAdapters;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

import java.util.Set;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Writes the Linchpin side of tests/fixtures/ecosystem/ (run by make_linchpin_side.sh; then
 * make_ecosystem_fixtures.py runs the Python libraries on what this wrote):
 * <ul>
 *   <li>{@code llama/}, {@code qwen2/}, {@code qwen3/}, {@code olmo2/}: {@link EcosystemFixtures#model} saved by
 *       {@link CausalLM#save} with the project's word-level tokenizer and its chat template (float32);
 *   <li>{@code default-sft/}: the embedded default fine-tuned by {@code linchpin train --objective sft} (30 steps),
 *       saved by {@link CausalLM#save} in bfloat16 (half the bytes of float32; a bf16 checkpoint is a common
 *       format too);
 *   <li>{@code default-sft-lora-linchpin/}: what {@code linchpin train --objective sftkey --lora-rank 4} on
 *       default-sft wrote under {@code adapter/} ({@link PeftAdapters}: PEFT's layout, with the 4 SFTKey tag
 *       tokens added to the tokenizer and their embedding rows trained).
 * </ul>
 * Arguments: [DIR [families,default]].
 */
public final class EcosystemFixtureWriter {
    private EcosystemFixtureWriter() {}

    public static void main(String[] args) throws Exception {
        Path dir = args.length > 0 ? Path.of(args[0]) : EcosystemFixtures.DIR;
        Set<String> parts = args.length > 1 ? Set.of(args[1].split(",")) : Set.of("families", "default");
        Files.createDirectories(dir);
        Path scratch = Files.createTempDirectory("ecosystem-writer");
        try {
            if (parts.contains("families")) writeFamilies(dir, scratch);
            if (parts.contains("default")) writeDefault(dir, scratch);
        } finally {
            deleteTree(scratch);
        }
        System.exit(0);   // libtorch's threads would keep the JVM alive
    }

    /** inputs.json: the questions and examples the Python side runs (only the given keys are replaced). */
    static void writeInputs(Path dir, java.util.Map<String, Object> entries) throws IOException {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        Path file = dir.resolve("inputs.json");
        com.fasterxml.jackson.databind.node.ObjectNode root = Files.exists(file)
                ? (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(file.toFile()) : json.createObjectNode();
        entries.forEach((k, v) -> root.set(k, json.valueToTree(v)));
        Files.writeString(file, json.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
    }

    static void writeFamilies(Path dir, Path scratch) throws IOException {
        writeInputs(dir, java.util.Map.of("family_questions", EcosystemFixtures.FAMILY_QUESTIONS));
        Path tok = scratch.resolve("tokenizer");
        new TokenizerBuilder().addWordsFrom(EcosystemFixtures.TEXTS).write(tok);
        int vocab;
        try (Tokenizer t = Tokenizer.load(tok)) {
            vocab = Math.toIntExact(t.vocabSize());
        }
        for (int i = 0; i < EcosystemFixtures.FAMILIES.size(); i++) {
            String family = EcosystemFixtures.FAMILIES.get(i);
            try (PointerScope scope = new PointerScope()) {
                deleteTree(dir.resolve(family));
                EcosystemFixtures.model(EcosystemFixtures.config(family, vocab), 1000 + i).save(dir.resolve(family), tok);
            }
            System.out.println("wrote " + dir.resolve(family));
        }
    }

    static void writeDefault(Path dir, Path scratch) throws Exception {
        Path sft = scratch.resolve("sft");
        cli("train", "--model", "default", "--objective", "sft", "--steps", "30", "--batch-size", "8", "--lr", "1e-3",
                "--warmup-steps", "3", "--seed", "1", "--threads", "2", "--deterministic", "--progress", "log", "--out", sft.toString());
        Path target = dir.resolve(EcosystemFixtures.DEFAULT_SFT);
        deleteTree(target);
        try (PointerScope scope = new PointerScope()) {
            CausalLM.load(sft.resolve("final"), new Device("cpu"), ScalarType.BFloat16).save(target, sft.resolve("final"));
        }
        System.out.println("wrote " + target);

        Path cache = dev.linchpin.defaults.EmbeddedDefault.ensure(dev.linchpin.defaults.DefaultConfig.standard(),
                dev.linchpin.cli.Progress.silent());
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        java.util.List<String> questions = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(cache.resolve("data/test.jsonl")).subList(0, 3)) questions.add(json.readTree(line).get("question").asText());
        java.util.List<java.util.Map<String, String>> examples = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(cache.resolve("data/train.jsonl")).subList(0, 4)) {
            var n = json.readTree(line);
            examples.add(java.util.Map.of("question", n.get("question").asText(), "solution", n.get("answer").asText()));
        }
        writeInputs(dir, java.util.Map.of("default_questions", questions, "default_examples", examples));

        Path data = scratch.resolve("lora.jsonl");
        Files.write(data, Files.readAllLines(cache.resolve("data/test.jsonl")).subList(0, 8));
        Path lora = scratch.resolve("lora");
        cli("train", "--model", target.toString(), "--data", data.toString(), "--objective", "sftkey", "--steps", "8",
                "--batch-size", "4", "--lr", "1e-2", "--seed", "2", "--threads", "2", "--deterministic", "--progress", "log",
                "--lora-rank", "4", "--lora-alpha", "8", "--lora-targets", "q_proj,v_proj,o_proj,down_proj", "--out", lora.toString());
        Path adapter = dir.resolve(EcosystemFixtures.LINCHPIN_LORA);
        deleteTree(adapter);
        Files.createDirectories(adapter);
        try (Stream<Path> files = Files.list(lora.resolve(PeftAdapters.DIR))) {
            for (Path f : files.toList()) Files.copy(f, adapter.resolve(f.getFileName()));
        }
        System.out.println("wrote " + adapter);
    }

    private static void cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        if (status != 0) {
            throw new IllegalStateException("linchpin " + String.join(" ", args) + " exited " + status + ":\n" + out.toString(StandardCharsets.UTF_8)
                    + err.toString(StandardCharsets.UTF_8));
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

}
