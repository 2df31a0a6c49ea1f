package dev.linchpin.data;

import java.util.List;
import java.util.Map;

/**
 * The fixed word lists and sentence templates of the synthetic task. Everything a generated problem
 * says comes from here, so {@link SyntheticTask#vocabulary()} can list every word in advance.
 *
 * <p>Placeholders are {@code %name%}: {@code %name%} the person, {@code %He% %he% %him% %his% %His%}
 * their pronouns, {@code %friend%} another person, {@code %items%} a plural item, {@code %thing%} a
 * purchase, {@code %verb%}/{@code %base%} an activity ("reads"/"read"), {@code %day%}/{@code %prev%}
 * weekdays, {@code %a% %b% %x% %y%} numbers and {@code %op%} the operation symbol.
 * Each kind has two phrasings ("templates") of every operation.
 */
final class SyntheticTemplates {
    private SyntheticTemplates() {
    }

    record Person(String name, boolean female) {
        String he() { return female ? "she" : "he"; }
        String him() { return female ? "her" : "him"; }
        String his() { return female ? "her" : "his"; }
    }

    record Activity(String verb, String base) {
    }

    /** Question sentence and solution line of one operation in one phrasing. */
    record Phrase(String question, String solution) {
    }

    /** How one entity kind is told. */
    record Kind(String start, String ask, Map<Operation, List<Phrase>> phrases) {
    }

    static final List<Person> PEOPLE = List.of(
            new Person("Tom", false), new Person("Anna", true), new Person("Ben", false), new Person("Mia", true),
            new Person("Sam", false), new Person("Lily", true), new Person("Max", false), new Person("Emma", true),
            new Person("Leo", false), new Person("Zoe", true), new Person("Jack", false), new Person("Lucy", true));

    static final List<String> ITEMS = List.of(
            "apples", "pencils", "cookies", "marbles", "stickers", "books", "cards", "shells", "eggs", "balloons");

    static final List<String> THINGS = List.of("book", "toy", "ticket", "hat", "ball", "kite", "lamp", "cake");

    static final List<Activity> ACTIVITIES = List.of(
            new Activity("reads", "read"), new Activity("runs", "run"), new Activity("swims", "swim"),
            new Activity("draws", "draw"), new Activity("sings", "sing"), new Activity("plays", "play"));

    static final List<String> DAYS = List.of(
            "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday");

    static final String ITEMS_RESULT = "%x% %op% %b% = %y% %items%.";
    static final String MONEY_RESULT = "%x% %op% %b% = %y% dollars.";
    static final String TIME_LINE = "On %day% %he% %verb% %x% %op% %b% = %y% minutes.";

    static final Map<EntityKind, Kind> KINDS = Map.of(
            EntityKind.ITEMS, new Kind("%name% has %a% %items%.", "How many %items% does %name% have now?", Map.of(
                    Operation.ADD, List.of(
                            new Phrase("%He% buys %b% more %items%.", "%He% buys %b% more, so %he% has " + ITEMS_RESULT),
                            new Phrase("%friend% gives %him% %b% more.", "%friend% gives %him% %b%, so %he% has " + ITEMS_RESULT)),
                    Operation.SUBTRACT, List.of(
                            new Phrase("%He% loses %b% of them.", "%He% loses %b%, so %he% has " + ITEMS_RESULT),
                            new Phrase("%He% gives %b% to %friend%.", "%He% gives away %b%, so %he% has " + ITEMS_RESULT)),
                    Operation.MULTIPLY, List.of(
                            new Phrase("Then %he% ends up with %b% times as many.",
                                    "%He% ends up with %b% times as many, so %he% has " + ITEMS_RESULT),
                            new Phrase("Each of %his% %items% is traded for %b% new ones.",
                                    "Each is traded for %b%, so %he% has " + ITEMS_RESULT)),
                    Operation.DIVIDE, List.of(
                            new Phrase("%He% splits them into %b% equal groups and keeps one group.",
                                    "One of %b% equal groups is %x% %op% %b% = %y%, so %he% has %y% %items%."),
                            new Phrase("%He% packs them equally into %b% bags and keeps one bag.",
                                    "One of %b% bags holds %x% %op% %b% = %y%, so %he% has %y% %items%.")))),
            EntityKind.MONEY, new Kind("%name% has $%a%.", "How many dollars does %name% have now?", Map.of(
                    Operation.ADD, List.of(
                            new Phrase("%He% earns $%b%.", "%He% earns $%b%, so %he% has " + MONEY_RESULT),
                            new Phrase("%friend% gives %him% $%b%.", "%friend% gives %him% $%b%, so %he% has " + MONEY_RESULT)),
                    Operation.SUBTRACT, List.of(
                            new Phrase("%He% spends $%b% on a %thing%.", "%He% spends $%b%, so %he% has " + MONEY_RESULT),
                            new Phrase("%He% pays $%b% for a %thing%.", "%He% pays $%b%, so %he% has " + MONEY_RESULT)),
                    Operation.MULTIPLY, List.of(
                            new Phrase("Then %his% money grows to %b% times as much.",
                                    "%His% money grows %b% times, so %he% has " + MONEY_RESULT),
                            new Phrase("%He% works hard and ends up with %b% times as much money.",
                                    "%He% ends up with %b% times as much, so %he% has " + MONEY_RESULT)),
                    Operation.DIVIDE, List.of(
                            new Phrase("%He% splits %his% money equally into %b% parts and keeps one part.",
                                    "One of %b% equal parts is %x% %op% %b% = %y%, so %he% has %y% dollars."),
                            new Phrase("%He% puts %his% money equally into %b% jars and keeps one jar.",
                                    "One of %b% jars holds %x% %op% %b% = %y%, so %he% has %y% dollars.")))),
            EntityKind.TIME, new Kind("On Monday %name% %verb% for %a% minutes.", "How many minutes does %name% %base% on %day%?", Map.of(
                    Operation.ADD, List.of(
                            new Phrase("On %day% %he% %verb% %b% minutes more than the day before.", TIME_LINE),
                            new Phrase("On %day% %he% %verb% %b% minutes longer than on %prev%.", TIME_LINE)),
                    Operation.SUBTRACT, List.of(
                            new Phrase("On %day% %he% %verb% %b% minutes less than the day before.", TIME_LINE),
                            new Phrase("On %day% %he% %verb% %b% minutes shorter than on %prev%.", TIME_LINE)),
                    Operation.MULTIPLY, List.of(
                            new Phrase("On %day% %he% %verb% %b% times as long as the day before.", TIME_LINE),
                            new Phrase("On %day% %he% %verb% %b% times as long as on %prev%.", TIME_LINE)),
                    Operation.DIVIDE, List.of(
                            new Phrase("On %day% %he% %verb% for one of %b% equal parts of the time of the day before.", TIME_LINE),
                            new Phrase("On %day% %he% cuts the time of %prev% into %b% equal parts and %verb% for one part.", TIME_LINE)))));

    /** The closing line of the MATH-style variant. */
    static final String BOXED_CLOSING = "The answer is $\\boxed{%y%}$.";

    /** Every template string, for the vocabulary. */
    static List<String> allTemplateText() {
        java.util.ArrayList<String> out = new java.util.ArrayList<>();
        for (Kind k : KINDS.values()) {
            out.add(k.start());
            out.add(k.ask());
            for (List<Phrase> ps : k.phrases().values()) {
                for (Phrase p : ps) {
                    out.add(p.question());
                    out.add(p.solution());
                }
            }
        }
        out.add(BOXED_CLOSING);
        out.add("#### %y%");
        return out;
    }
}
