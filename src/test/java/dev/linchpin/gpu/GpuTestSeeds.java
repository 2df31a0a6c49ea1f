package dev.linchpin.gpu;

/** Fresh seeds per run, printed so that a failure can be replayed with -Dlinchpin.test.seed=N (no libtorch). */
final class GpuTestSeeds {
    private GpuTestSeeds() {}

    static long seed(String testName) {
        String fixed = System.getProperty("linchpin.test.seed");
        long seed = fixed != null ? Long.parseLong(fixed) : System.nanoTime();
        System.out.println(testName + ": seed " + seed + " (replay with -Dlinchpin.test.seed=" + seed + ")");
        return seed;
    }
}
