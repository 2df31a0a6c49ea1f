package dev.linchpin.bench;

import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Masked LM-head cross-entropy, forward + backward, on CPU: Linchpin's fused kernel, libtorch from Java
 * (eager full logits, compact-first: diagnostics) and the three-GEMM ceiling in the same OpenBLAS
 * ({@code gemms}), side by side in one JMH run. bench/run-masked-ce-cpu.sh runs it together with the
 * PyTorch peers users actually run (bench/gpu/peers/masked_ce_peers.py --device cpu) and the memory
 * probe, and writes bench/results/.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xss4m"})
public class MaskedCeBenchmark {
    @Param({"4096"})
    public long n;
    @Param({"512"})
    public long d;
    @Param({"32000"})
    public long v;
    @Param({"1.0", "0.12", "0.05"})
    public double density;
    @Param({"fused", "eager", "compact", "gemms", "gemmsmt"})
    public String variant;
    /** Threads for libtorch (intra-op) and for the fused kernel alike. */
    @Param({"2"})
    public int threads;
    /** The fused kernel's chunk budget in bytes (0: its default). */
    @Param({"0"})
    public long chunkBytes;

    private MaskedCeVariants inputs;

    @Setup(Level.Trial)
    public void setUp() {
        Loader.load(torch.class);
        torch.set_num_threads(threads);
        inputs = new MaskedCeVariants(n, d, v, density, 42, chunkBytes);
    }

    @Benchmark
    public double forwardBackward() {
        try (PointerScope scope = new PointerScope()) {
            return inputs.run(variant, threads);
        }
    }
}
