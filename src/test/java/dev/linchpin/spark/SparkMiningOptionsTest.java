package dev.linchpin.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.cli.Main;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * spark-mine takes {@code linchpin mine}'s options: the same names, defaults and help, so that a user
 * moves a command between the two by changing only {@code --shard i/n} into {@code --shards n}. Both
 * take the option groups of {@code dev.linchpin.options}; this test keeps the rest of the two lists
 * (an option added to one command only) in step.
 */
class SparkMiningOptionsTest {
    /** mine's options a cluster job does not take: one shard (spark-mine runs them all), a YAML config, a terminal bar. */
    static final Set<String> ONLY_MINE = Set.of("--shard", "--config", "--progress");
    /** spark-mine's own. */
    static final Set<String> ONLY_SPARK = Set.of("--shards", "--checkpoint-seconds");
    /** Same option, other help: spark-mine's locations may be URIs of any Hadoop file system. */
    static final Set<String> OTHER_HELP = Set.of("--model", "--data", "--out");

    static Map<String, OptionSpec> options(CommandLine cl) {
        Map<String, OptionSpec> m = new TreeMap<>();
        for (OptionSpec o : cl.getCommandSpec().options()) if (!o.usageHelp() && !o.versionHelp()) m.put(o.longestName(), o);
        return m;
    }

    @Test
    void sparkMineTakesMinesOptionsWithTheSameDefaultsAndHelp() {
        Map<String, OptionSpec> mine = options(new CommandLine(new Main()).getSubcommands().get("mine"));
        Map<String, OptionSpec> spark = options(new CommandLine(new SparkMining()));
        List<String> problems = new ArrayList<>();
        for (OptionSpec m : mine.values()) {
            String name = m.longestName();
            if (ONLY_MINE.contains(name)) continue;
            OptionSpec s = spark.get(name);
            if (s == null) {
                problems.add(name + " missing");
                continue;
            }
            if (!List.of(m.names()).equals(List.of(s.names()))) problems.add(name + ": names " + List.of(s.names()));
            if (!String.valueOf(m.defaultValue()).equals(String.valueOf(s.defaultValue()))) {
                problems.add(name + ": default " + s.defaultValue() + " vs mine's " + m.defaultValue());
            }
            if (!m.type().equals(s.type()) && !OTHER_HELP.contains(name)) problems.add(name + ": type " + s.type() + " vs " + m.type());
            if (!OTHER_HELP.contains(name) && !List.of(m.description()).equals(List.of(s.description()))) {
                problems.add(name + ": help differs");
            }
        }
        for (String name : spark.keySet()) {
            if (!mine.containsKey(name) && !ONLY_SPARK.contains(name)) problems.add(name + " is spark-mine's only, but not listed as such");
        }
        assertTrue(problems.isEmpty(), problems.toString());
        assertTrue(mine.keySet().containsAll(ONLY_MINE), "mine still has " + ONLY_MINE);
        assertEquals(mine.size() - ONLY_MINE.size() + ONLY_SPARK.size(), spark.size());
    }
}
