package dev.linchpin;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.cli.Main;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import org.junit.jupiter.api.Test;

/**
 * README.md's configuration reference names every option of every {@code linchpin} subcommand, each
 * under that command's own heading ({@code ### linchpin <command>}), so the docs follow the code: a
 * new option without a line in the README fails here.
 */
class ReadmeOptionsTest {
    @Test
    void everyOptionOfEverySubcommandIsInTheConfigurationReference() throws IOException {
        String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, CommandLine> e : new CommandLine(new Main()).getSubcommands().entrySet()) {
            String command = e.getKey();
            if (command.equals("help")) continue;
            String section = section(readme, "### linchpin " + command);
            if (section == null) {
                missing.add("section '### linchpin " + command + "'");
                continue;
            }
            for (OptionSpec o : e.getValue().getCommandSpec().options()) {
                if (o.usageHelp() || o.versionHelp()) continue;
                if (!section.contains("`" + o.longestName() + "`")) missing.add("linchpin " + command + " " + o.longestName());
            }
        }
        assertTrue(missing.isEmpty(), "README.md's configuration reference lacks: " + missing);
    }

    /** The Spark job is no subcommand (the launcher has no Spark): its options have their own section. */
    @Test
    void everyOptionOfTheSparkJobIsInTheConfigurationReference() throws IOException {
        String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
        String heading = "### spark-submit --class " + dev.linchpin.spark.SparkMining.class.getName();
        String section = section(readme, heading);
        assertTrue(section != null, "README.md lacks the section '" + heading + "'");
        List<String> missing = new ArrayList<>();
        for (OptionSpec o : new CommandLine(new dev.linchpin.spark.SparkMining()).getCommandSpec().options()) {
            if (o.usageHelp() || o.versionHelp()) continue;
            if (!section.contains("`" + o.longestName() + "`")) missing.add(o.longestName());
        }
        assertTrue(missing.isEmpty(), "README.md's Spark section lacks: " + missing);
    }

    /**
     * Prints a Markdown table per subcommand (option, default, description) from the picocli model:
     * the starting point of the README's reference, which is then edited by hand where useful.
     */
    public static void main(String[] args) {
        for (Map.Entry<String, CommandLine> e : new CommandLine(new Main()).getSubcommands().entrySet()) {
            if (e.getKey().equals("help")) continue;
            System.out.println("### linchpin " + e.getKey() + "\n");
            System.out.println("| option | default | what |\n|---|---|---|");
            for (OptionSpec o : e.getValue().getCommandSpec().options()) {
                if (o.usageHelp() || o.versionHelp()) continue;
                String desc = String.join(" ", o.description()).replaceAll("\\s*\\(default: [^)]*\\)", "")
                        .replace("|", "\\|");
                String def = o.defaultValue() == null ? "" : "`" + o.defaultValue() + "`";
                System.out.println("| `" + o.longestName() + "` | " + def + " | " + desc + " |");
            }
            System.out.println();
        }
    }

    /** The text from {@code heading} to the next heading of the same or a higher level. */
    static String section(String readme, String heading) {
        int start = readme.indexOf("\n" + heading + "\n");
        if (start < 0) return null;
        int next = readme.length();
        for (String h : List.of("\n### ", "\n## ", "\n# ")) {
            int i = readme.indexOf(h, start + heading.length() + 1);
            if (i >= 0) next = Math.min(next, i);
        }
        return readme.substring(start, next);
    }
}
