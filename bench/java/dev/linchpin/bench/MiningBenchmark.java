package dev.linchpin.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.linchpin.cli.Progress;
import dev.linchpin.data.DatasetFormat;
import dev.linchpin.data.Example;
import dev.linchpin.data.PromptEncoder;
import dev.linchpin.data.SyntheticProblem;
import dev.linchpin.data.SyntheticTask;
import dev.linchpin.engine.RolloutEngine;
import dev.linchpin.engine.RolloutOptions;
import dev.linchpin.mine.MiningOptions;
import dev.linchpin.mine.MiningRun;
import dev.linchpin.mine.MiningSummary;
import dev.linchpin.mine.Shard;
import dev.linchpin.model.CausalLM;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.ModelFamily;
import dev.linchpin.tokenizer.ChatMessage;
import dev.linchpin.tokenizer.Tokenizer;
import dev.linchpin.tokenizer.TokenizerBuilder;
import dev.linchpin.verify.AnswerExtractor;
import dev.linchpin.verify.Extraction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;

/**
 * End-to-end mining throughput on CPU: {@link MiningRun} (greedy generation, verification,
 * per-example prefill, k = 2 branch rollouts at every response position, verification, masks file
 * with fsync per batch) on synthetic-task questions.
 *
 * <p>Until the trained embedded default is merged the model is a random-init Llama (4 layers, d = 256,
 * GQA 8/2, the synthetic task's word-level tokenizer). A random model never solves a problem, so the
 * gold answer of each question is set to what its own greedy response answers (questions whose
 * response contains no number are dropped, as a wrong answer would be): every kept example then mines
 * all its positions, which is the work a real run does on D_correct. Prints one JSON line.
 *
 * <p>Usage: MiningBenchmark [examples maxNewTokens threads batchSize maxBranches]
 */
public final class MiningBenchmark {
    private MiningBenchmark() {}

    public static void main(String[] args) throws Exception {
        int examples = args.length > 0 ? Integer.parseInt(args[0]) : 16;
        int maxNew = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        int batch = args.length > 3 ? Integer.parseInt(args[3]) : 8;
        int maxBranches = args.length > 4 ? Integer.parseInt(args[4]) : 64;
        Loader.load(torch.class);
        torch.set_num_threads(1);
        Path dir = Files.createTempDirectory("linchpin-mining-bench");
        List<SyntheticProblem> problems = new SyntheticTask(7).generate(0, examples, 0).test();
        List<String> texts = new ArrayList<>();
        for (SyntheticProblem p : problems) {
            texts.add(p.question());
            texts.add(p.solution());
        }
        Path tok = dir.resolve("tokenizer");
        new TokenizerBuilder().addWordsFrom(texts).write(tok);
        int vocab;
        try (Tokenizer t = Tokenizer.load(tok)) {
            vocab = (int) t.vocabSize();
        }
        ModelConfig config = ModelConfig.builder(ModelFamily.LLAMA).vocabSize(vocab).hiddenSize(256).intermediateSize(704)
                .numLayers(4).numHeads(8).numKvHeads(2).maxPositionEmbeddings(4096).eosTokenIds(List.of(0L))
                .initializerRange(0.2).build();
        Path model = dir.resolve("model");
        CausalLM.randomInit(config, 1234).save(model, tok);

        // Gold = the model's own greedy answer (see the class comment).
        Path data = dir.resolve("data.jsonl");
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        try (Tokenizer t = Tokenizer.load(model); RolloutEngine engine = RolloutEngine.fromHuggingFace(model, 1L << 30, threads)) {
            PromptEncoder prompts = PromptEncoder.of(t, PromptEncoder.Style.AUTO, null, null);
            for (SyntheticProblem p : problems) {
                long[] ids = prompts.encode(new Example(p.id(), p.question(), List.of(ChatMessage.user(p.question())), null, "0", data, 1));
                long[] response = engine.generate(ids, 1, RolloutOptions.greedy(maxNew, 0L)).get(0).tokens();
                Extraction found = new AnswerExtractor().extract(t.decode(response, true));
                ObjectNode o = json.createObjectNode();
                o.put("id", p.id());
                o.put("question", p.question());
                o.put("answer", "#### " + (found.found() ? found.answer() : "123456789012345678901"));
                lines.add(json.writeValueAsString(o));
            }
        }
        Files.write(data, (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));

        Path out = dir.resolve("masks.jsonl");
        MiningOptions options = new MiningOptions(2, 1, 0.0, 1.0, 0L, 1.0, 0, -1, maxNew, 64, batch, maxBranches);
        MiningRun.Settings settings = new MiningRun.Settings(model, data, out, DatasetFormat.AUTO, PromptEncoder.Style.AUTO,
                null, null, Shard.ALL, options, 1L << 30, threads);
        MiningSummary s = MiningRun.run(settings, new Progress(System.err, false, System::nanoTime, 10_000_000_000L));
        ObjectNode o = s.toJson();
        o.put("model", "random-init llama 4x256, GQA 8/2, vocab " + vocab);
        o.put("max_new_tokens", maxNew);
        o.put("threads", threads);
        o.put("batch_size", batch);
        o.put("max_branches", maxBranches);
        o.put("masks_bytes", Files.size(out));
        System.out.println(json.writeValueAsString(o));
    }
}
