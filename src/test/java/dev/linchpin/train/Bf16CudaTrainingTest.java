package dev.linchpin.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.linchpin.model.CausalLM;
import dev.linchpin.nativ.CudaBackend;
import dev.linchpin.testing.TorchTesting;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bf16 autocast training on CUDA against fp32 training on CPU from the same start weights and data
 * order. Needs libtorch's CUDA build (-Pgpu), the CUDA backend and a GPU; skipped by assumption elsewhere.
 */
@Tag("gpu")
class Bf16CudaTrainingTest {
    @TempDir
    Path dir;

    @Test
    void fourBf16StepsOnCudaTrackFp32OnCpu() throws Exception {
        TorchTesting.assumeCuda();
        assumeTrue(CudaBackend.isAvailable(), () -> "CUDA backend: " + CudaBackend.unavailabilityCause());
        long seed = TorchTesting.seed("bf16 cuda training");
        Device cuda = new Device("cuda:0");
        if (Precision.cudaComputeCapabilityMajor() >= 8) assertEquals(Precision.BF16, Precision.AUTO.resolve(cuda));

        CausalLM cpu = ObjectiveTesting.tinyModel(seed);
        CausalLM gpu = CausalLM.randomInit(ObjectiveTesting.tinyConfig(), seed, cuda, ScalarType.Float);   // same weights (CPU generator), moved
        FineTuneConfig fp32 = FineTunerTest.config(4, 2, 1, 0);
        TrainResult r32 = FineTuner.train(new FullFineTune(cpu), FineTunerTest.stages(seed, 4), 0, fp32, TrainingOutput.to(dir.resolve("cpu")), null);
        TrainResult r16 = FineTuner.train(new FullFineTune(gpu), FineTunerTest.stages(seed, 4), 0, fp32.toBuilder().precision(Precision.BF16).build(),
                TrainingOutput.to(dir.resolve("cuda")), null);
        for (int i = 0; i < 4; i++) {
            double rel = Math.abs(r16.losses()[i] - r32.losses()[i]) / r32.losses()[i];
            // bf16 forward (8-bit mantissa) and a bf16 h/W into the kernel: the loss stays within 1%
            assertTrue(rel < 1e-2, "step " + i + ": CUDA bf16 loss " + r16.losses()[i] + " vs CPU fp32 " + r32.losses()[i]);
        }
        Device host = new Device("cpu");
        for (Map.Entry<String, Tensor> e : gpu.namedParameters().entrySet()) {
            assertTrue(e.getValue().is_cuda(), e.getKey() + " left the GPU");
            assertEquals(ScalarType.Float, e.getValue().scalar_type().intern(), e.getKey() + ": master weight is fp32");
            double diff = e.getValue().to(host, ScalarType.Float).sub(cpu.namedParameters().get(e.getKey())).abs().max().item_double();
            assertTrue(diff < 2.5e-2, e.getKey() + ": CUDA bf16 run drifted " + diff + " from the CPU fp32 run");
        }
        // the checkpoint written from the GPU run loads back on the CPU and equals the GPU weights
        CausalLM saved = CausalLM.load(dir.resolve("cuda/final"), host, ScalarType.Float);
        for (Map.Entry<String, Tensor> e : gpu.namedParameters().entrySet()) {
            assertTrue(saved.namedParameters().get(e.getKey()).equal(e.getValue().to(host, ScalarType.Float)), e.getKey() + " in final/");
        }
    }
}
