/**
 * Data-parallel training across processes on libtorch's c10d: {@link dev.linchpin.distributed.Rendezvous}
 * (torchrun's RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, LOCAL_RANK and a timeout) and
 * {@link dev.linchpin.distributed.DataParallel} (a TCPStore + ProcessGroupGloo on the CPU, ProcessGroupNCCL
 * on CUDA when libtorch's build has it; sums of counts and of bucketed gradients; agreement checks).
 * Every failure of a collective becomes a {@link dev.linchpin.distributed.DistributedException} naming the
 * rank and the reason, so a dead or hung rank stops the others within the timeout instead of hanging them.
 * It knows nothing of models or objectives: {@code dev.linchpin.train} uses it.
 */
package dev.linchpin.distributed;
