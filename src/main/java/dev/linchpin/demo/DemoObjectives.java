package dev.linchpin.demo;

import dev.linchpin.data.Example;
import dev.linchpin.mine.MaskRecord;
import dev.linchpin.mine.PromptEncoder;
import dev.linchpin.tokenizer.AddedTokens;
import dev.linchpin.tokenizer.Tokenizer;
import dev.linchpin.train.Objectives;
import dev.linchpin.train.TrainingStage;
import dev.linchpin.train.WeightedExample;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The training stages of each demo objective, all built from the same examples: the kept records of the
 * masks file (D_correct, the base model's own verified greedy responses), so that only the per-token
 * weights differ between objectives.
 *
 * <ul>
 *   <li>sft, dft: weight 1 on every response token (EOS included); DFT rescales by sg(p) in the loss;</li>
 *   <li>cft: weight 1 on the record's critical positions;</li>
 *   <li>random: per record as many uniformly drawn positions as it has critical tokens (seeded);</li>
 *   <li>sftkey: the record's response text "reasoning #### N" rewritten as
 *       {@code <Thinking>reasoning</Thinking><Answer>N</Answer>} + EOS, stage 1 all tokens, stage 2 the
 *       Answer span ({@link Objectives#sftKey}).</li>
 * </ul>
 */
final class DemoObjectives {
    private DemoObjectives() {}

    /** The SFTKey tags, in the order {@link AddedTokens#extend} adds them. */
    static final List<String> SFTKEY_TAGS = List.of(Objectives.THINK_OPEN, Objectives.THINK_CLOSE, Objectives.ANSWER_OPEN,
            Objectives.ANSWER_CLOSE);

    /**
     * The stages of {@code objective}.
     *
     * @param tokenizer the tokenizer the objective trains with (for sftkey: one with the tags as single tokens)
     * @param kept      the kept mask records, in file order
     * @param questions the mined questions by id (their prompts are re-encoded exactly as mining encoded them)
     */
    static List<TrainingStage> stages(String objective, Tokenizer tokenizer, List<MaskRecord> kept, Map<String, Example> questions,
            DemoPlan plan) {
        if (kept.isEmpty()) {
            throw new IllegalArgumentException("the base model answered none of the mined questions correctly, so D_correct is "
                    + "empty and there is nothing to train on; mine more questions or use a stronger base model");
        }
        PromptEncoder encoder = PromptEncoder.of(tokenizer, PromptEncoder.Style.AUTO, null, null);
        long eos = eos(tokenizer);
        Random random = new Random(plan.seed());
        List<WeightedExample> main = new ArrayList<>(), second = new ArrayList<>();
        for (MaskRecord r : kept) {
            Example e = questions.get(r.id());
            if (e == null) throw new IllegalArgumentException("masks record '" + r.id() + "' is not one of the mined questions");
            long[] prompt = encoder.encode(e);
            switch (objective) {
                case "sft", "dft" -> main.add(Objectives.sft(checkedPrompt(r, prompt), r.responseIds()));
                case "cft" -> main.add(Objectives.cft(r, prompt));
                case "random" -> main.add(Objectives.random(r, prompt, random));
                case "sftkey" -> {
                    WeightedExample[] two = Objectives.sftKey(tokenizer, prompt, r.responseText(), eos);
                    main.add(two[0]);
                    second.add(two[1]);
                }
                default -> throw new IllegalArgumentException("unknown demo objective " + objective);
            }
        }
        if (!objective.equals("sftkey")) return List.of(new TrainingStage(objective, main, plan.steps()));
        return List.of(new TrainingStage("sftkey-1", main, plan.sftKeyStage1()),
                new TrainingStage("sftkey-2", second, plan.steps() - plan.sftKeyStage1()));
    }

    /**
     * The tokenizer SFTKey trains with: the model's own when each tag is one token already, else a copy with
     * the tags added under {@code dir} (as {@code linchpin train} does). Rebuilt identically on every run.
     */
    static Path sftKeyTokenizer(Path modelDir, Path dir) throws IOException {
        try (Tokenizer tokenizer = Tokenizer.load(modelDir)) {
            boolean all = true;
            for (String tag : SFTKEY_TAGS) all &= tokenizer.encode(tag, false).length == 1;
            if (all) return modelDir;
        }
        AddedTokens.extend(modelDir, SFTKEY_TAGS, dir);
        return dir;
    }

    static long eos(Tokenizer tokenizer) {
        if (tokenizer.eosTokenIds().isEmpty()) throw new IllegalArgumentException(tokenizer.directory() + ": the tokenizer has no EOS token");
        return tokenizer.eosTokenIds().iterator().next();
    }

    /** SFT trains the record's response after its prompt: the prompt must be the one mining used. */
    private static long[] checkedPrompt(MaskRecord r, long[] prompt) {
        if (prompt.length != r.promptTokens()) {
            throw new IllegalArgumentException("record '" + r.id() + "': the prompt encodes to " + prompt.length
                    + " tokens, the masks file says " + r.promptTokens());
        }
        return prompt;
    }
}
