package dev.linchpin.spark;

import java.io.Serializable;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One published state of a shard's masks file: how many records it holds and the decode work that
 * produced them, all in its file name, so that publishing it is a single rename (a file and a
 * side file could be seen half-published). Every checkpoint of a shard holds a prefix of that shard's
 * records in data order (the miner appends in data order); the one whose record count equals the
 * shard's size is the shard's finished masks file.
 *
 * @param records        records in the file
 * @param generatedTokens greedy response tokens generated for them, over every attempt that wrote them
 * @param branches       branch rollouts run for them
 * @param branchTokens   tokens decoded in those branches
 */
record ShardCheckpoint(long records, long generatedTokens, long branches, long branchTokens) implements Serializable {
    private static final Pattern NAME = Pattern.compile("records-(\\d+)\\.gen-(\\d+)\\.branches-(\\d+)\\.branch-tokens-(\\d+)\\.jsonl");

    static final ShardCheckpoint EMPTY = new ShardCheckpoint(0, 0, 0, 0);

    ShardCheckpoint {
        if (records < 0 || generatedTokens < 0 || branches < 0 || branchTokens < 0) {
            throw new IllegalArgumentException("negative checkpoint counts: " + records + ", " + generatedTokens + ", " + branches
                    + ", " + branchTokens);
        }
    }

    /** The file name that carries this checkpoint. */
    String fileName() {
        return String.format(Locale.ROOT, "records-%d.gen-%d.branches-%d.branch-tokens-%d.jsonl", records, generatedTokens, branches,
                branchTokens);
    }

    /** The checkpoint a file name stands for; empty for any other file (temporaries, foreign files). */
    static Optional<ShardCheckpoint> parse(String fileName) {
        Matcher m = NAME.matcher(fileName);
        if (!m.matches()) return Optional.empty();
        try {
            return Optional.of(new ShardCheckpoint(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
                    Long.parseLong(m.group(4))));
        } catch (NumberFormatException e) {
            return Optional.empty();   // digits beyond a long: not ours
        }
    }

    /** This checkpoint's work plus an attempt's own ({@code records} is the new total). */
    ShardCheckpoint plus(long newRecords, long moreGenerated, long moreBranches, long moreBranchTokens) {
        return new ShardCheckpoint(newRecords, generatedTokens + moreGenerated, branches + moreBranches, branchTokens + moreBranchTokens);
    }
}
