package dev.linchpin.progress;

/**
 * What a long job reports while it runs: one-off messages, and phases of counted units (examples mined,
 * questions evaluated, optimizer steps). Jobs ({@code MiningRun}, {@code EvalRun}, {@code TrainingRun},
 * the embedded default, the demo) take one and never know how it is shown: the command line draws a bar
 * on a terminal and log lines elsewhere ({@code dev.linchpin.cli.Progress}); an embedding program can
 * log, count or ignore ({@link #silent()}).
 */
public interface ProgressListener {
    /** A one-off line (a resumed run, a file written, a summary). */
    void message(String text);

    /** Starts a phase of {@code total} units (≥ 1). */
    Task start(String label, long total);

    /** One phase: {@link #update} as units complete, then {@link #finish} once. */
    interface Task {
        /** {@code done} of the phase's units are complete; {@code status} (may be empty) says how it goes. */
        void update(long done, String status);

        /** Ends the phase with a summary. */
        void finish(String summary);
    }

    /** A listener that ignores everything. */
    static ProgressListener silent() {
        return Silent.INSTANCE;
    }

    /** The {@link #silent()} listener. */
    enum Silent implements ProgressListener, Task {
        INSTANCE;

        @Override
        public void message(String text) {}

        @Override
        public Task start(String label, long total) {
            if (total < 1) throw new IllegalArgumentException("total must be >= 1, got " + total);
            return this;
        }

        @Override
        public void update(long done, String status) {}

        @Override
        public void finish(String summary) {}
    }
}
