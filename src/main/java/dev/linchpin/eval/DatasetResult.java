package dev.linchpin.eval;

import java.nio.file.Path;
import java.util.List;

/**
 * One evaluated data set.
 *
 * @param name      the file's stem ("test" for data/test.jsonl)
 * @param file      the data file
 * @param questions per-question results, in file order
 * @param score     their metrics
 */
public record DatasetResult(String name, Path file, List<QuestionResult> questions, Score score) {
    public DatasetResult {
        questions = List.copyOf(questions);
    }
}
