package dev.linchpin.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.model.CausalLM;
import dev.linchpin.testing.CudaTesting;
import dev.linchpin.testing.TorchTesting;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bf16 autocast training on CUDA against fp32 training on CPU from the same start weights and data
 * order, after proving bf16 autocast is active on CUDA. Needs libtorch's CUDA build (-Pgpu), the CUDA
 * backend and a GPU; skipped elsewhere (failed instead where LINCHPIN_REQUIRE_CUDA=1).
 */
@Tag("gpu")
class Bf16CudaTrainingTest {
    @TempDir
    Path dir;

    @Test
    void fourBf16StepsOnCudaTrackFp32OnCpu() throws Exception {
        TorchTesting.assumeCuda();
        CudaTesting.assumeCudaBackend();
        long seed = TorchTesting.seed("bf16 cuda training");
        Device cuda = new Device("cuda:0");
        if (Precision.cudaComputeCapabilityMajor() >= 8) assertEquals(Precision.BF16, Precision.AUTO.resolve(cuda));

        // bf16 really ran: one step's gradients on the GPU with fp32 and with bf16 precision, same model
        // and data. fp32 CUDA gradients match the CPU's to fp32 accuracy; bf16 ones are within bf16
        // rounding but visibly off (as Bf16AutocastTest shows on the CPU, where bf16 gradients land
        // 0.9-1.5% from float64 and fp32 ones within 1e-4). If autocast silently stayed fp32 on CUDA the
        // two GPU gradients would agree to ~1e-6 and the last assertion fails.
        {
            CausalLM probe = CausalLM.randomInit(ObjectiveTesting.tinyConfig(), seed, cuda, ScalarType.Float);
            CausalLM probeCpu = ObjectiveTesting.tinyModel(seed);
            List<WeightedExample> step = FineTunerTest.stages(seed, 1).get(0).data().subList(0, 4);
            FineTuneConfig one = FineTunerTest.config(1, 4, 1, 0);
            probe.requiresGrad(true);
            probeCpu.requiresGrad(true);
            Map<String, Tensor> gCpu = ObjectiveLossTest.grads(probeCpu, () -> FineTuner.accumulate(new FullFineTune(probeCpu), step, 0, one, 1));
            Map<String, Tensor> g32 = ObjectiveLossTest.grads(probe, () -> FineTuner.accumulate(new FullFineTune(probe), step, 0, one,
                    StepTotals.of(step), 1, Precision.FP32));
            Map<String, Tensor> g16 = ObjectiveLossTest.grads(probe, () -> FineTuner.accumulate(new FullFineTune(probe), step, 0, one,
                    StepTotals.of(step), 1, Precision.BF16));
            double worst32 = 0, worst16 = 0;
            Device cpuDevice = new Device("cpu");
            for (String name : gCpu.keySet()) {
                Tensor ref = gCpu.get(name);
                assertEquals(ScalarType.Float, g16.get(name).scalar_type().intern(), name + ": gradient of an fp32 master weight is fp32");
                worst32 = Math.max(worst32, TorchTesting.relErr(g32.get(name).to(cpuDevice, ScalarType.Float), ref));
                worst16 = Math.max(worst16, TorchTesting.relErr(g16.get(name).to(cpuDevice, ScalarType.Float), ref));
            }
            System.out.printf("CUDA gradients vs CPU fp32: fp32 worst rel err %.2e, bf16 worst rel err %.2e%n", worst32, worst16);
            assertTrue(worst32 < 1e-3, "CUDA fp32 gradients vs CPU: " + worst32);
            assertTrue(worst16 < 5e-2, "CUDA bf16 gradients vs CPU fp32: " + worst16);
            assertTrue(worst16 > 1e-3, "CUDA bf16 gradients match fp32 to " + worst16 + ": autocast was not active on CUDA");
        }

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
