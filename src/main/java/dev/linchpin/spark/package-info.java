/**
 * Mining on Apache Spark: {@link dev.linchpin.spark.SparkMining} (the {@code spark-submit} entry point,
 * {@code linchpin mine}'s options) runs {@link dev.linchpin.spark.SparkMiningJob}. Spark is a
 * {@code provided} dependency: nothing outside this package imports it, and neither the jar nor the
 * launcher's classpath carries it.
 *
 * <h2>Rules</h2>
 * <ul>
 *   <li><b>Shards.</b> Partition j of the one stage is shard j of n ({@link dev.linchpin.mine.Shard}:
 *       the examples at data positions p ≡ j mod n), mined by {@link dev.linchpin.mine.MiningRun}, so a
 *       shard's records are those {@code linchpin mine --shard j/n} writes.</li>
 *   <li><b>Before any task.</b> The driver reads the whole data set ({@code MiningRun.checkData}: bad
 *       line, missing gold answer, duplicate id, named by file and line), checks the model directory,
 *       and compares the options fingerprint ({@link dev.linchpin.mine.MiningFingerprint}, plus
 *       {@code spark_shards}) with {@code <out>.shards/options.json} and with the options of an existing
 *       {@code <out>}; any difference is refused, naming it.</li>
 *   <li><b>Layout.</b> {@code <out>.shards/options.json}; per shard {@code shard-JJJJJ-of-NNNNN/} with
 *       {@code options.json} (the shard's fingerprint, as {@code mine --shard} records it) and
 *       checkpoints {@code records-R.gen-G.branches-B.branch-tokens-T.jsonl} ({@link
 *       dev.linchpin.spark.ShardCheckpoint}); the merged {@code <out>}, {@code <out>.options.json} and
 *       {@code <out>.summary.json}.</li>
 *   <li><b>Checkpoints.</b> A task mines into a local file (the miner forces each batch to disk) and,
 *       after a batch at most every {@code --checkpoint-seconds}, and at its end, publishes a copy under
 *       a name carrying its record count and the decode work behind it. Publishing never replaces a
 *       file (hard link locally, rename on HDFS); object stores emulate rename by copy, where two
 *       attempts racing on one name write the same records. A checkpoint is always a prefix of the
 *       shard's records in data order, since the miner appends in data order.</li>
 *   <li><b>Retries and speculation.</b> An attempt starts from the largest checkpoint (the miner drops
 *       a torn tail and skips the ids it holds) and adds its own work to the checkpoint's counters. A
 *       shard is finished when a checkpoint holds all its examples; the merge takes exactly one finished
 *       file per shard (the first by name), so no record is ever merged twice.</li>
 *   <li><b>Merge.</b> Data position p takes the next line of shard p mod n, checked against the data
 *       set's id at p and copied unchanged: the masks file {@code linchpin mine} writes for the whole
 *       data set with the same engine thread count, byte for byte (the thread count moves some recorded
       probabilities in their last digit, although the fingerprint leaves it out). The options file is {@code mine}'s for shard 0/1, byte for byte. The
 *       summary's counts come from the merged records and its decode work from the finished
 *       checkpoints; all of it equals {@code mine}'s except {@code this_run.seconds},
 *       {@code examples_per_minute} and {@code branch_tokens_per_second}, which time the whole Spark
 *       job. The summary describes the file as one uninterrupted run would ({@code resumed_records} 0,
       {@code this_run} covering every record), also when a rerun found shards finished. Work counters include the batches an attempt published before it failed, once; batches it
 *       mined after its last checkpoint are mined and counted again by the next attempt, and so are
 *       the failed examples a checkpoint held back (the miner withholds a run of failures until the next
 *       success).</li>
 *   <li><b>Engines and devices.</b> Each task builds its own engine (one per task; a task should have
 *       its executor to itself: {@code spark.task.cpus} = executor cores, one GPU per executor). The
 *       CUDA backend takes the best device the executor's process sees, so an executor must see only
 *       its own GPU (container isolation on Kubernetes and YARN).</li>
 *   <li><b>Faults for tests.</b> The job-local property {@link
 *       dev.linchpin.spark.SparkMiningJob#FAIL_FIRST_ATTEMPT_OF_SHARD} = j makes the first attempt of
 *       shard j throw right after its first checkpoint.</li>
 * </ul>
 */
package dev.linchpin.spark;
