/**
 * Option groups (picocli mixins) that more than one command takes: how records become prompts, the
 * rollout engine's resources, and mining's settings. Each option's name, default and help is written
 * once here, so {@code linchpin mine} and the Spark job ({@code dev.linchpin.spark.SparkMining}) take the
 * same options, and training on masks reads prompts with the options mining used. Below the command
 * line: it turns flags into the jobs' settings types and imports no command.
 */
package dev.linchpin.options;
