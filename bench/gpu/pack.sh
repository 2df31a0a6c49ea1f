#!/usr/bin/env bash
# Builds the GPU verification bundle: one self-contained folder (default ./bundle, git-ignored) that a
# GPU host with no network and no JDK can run with `bash bundle/run.sh` (see bench/gpu/README.md).
#
#   bash bench/gpu/pack.sh [--no-build] [--no-pylib] [--out DIR]
#
#   --no-build  reuse target/linchpin-*.jar and target/test-classes (fail if absent) instead of running
#               `mvn -DskipTests package` first; CI uses it in the verify phase, after package.
#   --no-pylib  leave out pylib/ (Liger-Kernel, cut-cross-entropy): for machines without their git
#               mirrors (ci-check.sh where they are absent); the peers then record them as unavailable.
#   --out DIR   where to build the bundle (default: <repo>/bundle). Replaced if it holds a bundle.
#
# Contents (the device tool carries at most 64 MiB, so every byte is chosen):
#   jre/           jlink'd runtime: java.base, jdk.unsupported (JavaCPP), java.sql + java.xml +
#                  java.logging (the JUnit console launcher and its XML reports); no debug, no man pages
#   lib/           the project jar (native CPU library + JNI glue inside), javacpp jars, the OpenBLAS
#                  preset jars (slimmed: the LAPACK JNI libraries we never load are dropped), and
#                  junit-platform-console-standalone
#   test-classes/  the test classes that need no libtorch (found with jdeps, transitively)
#   test-classes.txt  the test classes run.sh runs (top-level *Test classes among them)
#   lib/ also      the CLI's other runtime jars for `linchpin mine` (Jackson, DJL tokenizers with only its
#                  linux-x86_64 library, Jinja, picocli, ...; no libtorch, no report charts)
#   default/       the embedded default model (config, safetensors, tokenizer) and 64 of its training
#                  questions, from the linchpin cache, for run.sh's mine stage
#   tools/         ExtractJar.class (unpacks OpenBLAS for CMake on hosts without unzip), CompareMasks.class
#   src/           native sources: CMakeLists.txt, cmake/, cpp/, kernels/, tests/native/, bench/native/,
#                  bench/gpu/ (peers, summary); OpenBLAS headers and libopenblas.so.0 travel once, inside
#                  lib/openblas-*-linux-x86_64.jar, and run.sh extracts them
#   pylib/         the Python peers the GPU host cannot pip-install: liger_kernel and cut_cross_entropy, pure
#                  Python + Triton, taken at pinned commits from local git mirrors by bench/gpu/pylib.sh (fails
#                  with the fetch instruction when a mirror is missing), their licenses, VERSIONS.txt
#   run.sh, MANIFEST.txt
# Prints the size and fails if it is >= 64 MiB.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT_DIR="$ROOT/bundle"
BUILD=1
PYLIB=1
MAX_BYTES=$((64 * 1024 * 1024))
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-build) BUILD=0; shift ;;
    --no-pylib) PYLIB=0; shift ;;
    --out) OUT_DIR="${2:?--out needs a folder}"; shift 2 ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
    *) echo "pack.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
# For tests of the size check only: a smaller limit.
if [[ -n "${LP_BUNDLE_MAX_BYTES:-}" ]]; then MAX_BYTES="$LP_BUNDLE_MAX_BYTES"; fi

die() { echo "pack.sh: $*" >&2; exit 1; }
for tool in java jlink jdeps jar javac; do
  command -v "$tool" >/dev/null || die "needs $tool (a JDK 17) on PATH"
done

# Versions from pom.xml, so the bundle carries exactly what the build uses.
pom_prop() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$ROOT/pom.xml" | head -1; }
JAVACPP_VERSION="$(pom_prop javacpp.version)"
OPENBLAS_VERSION="$(pom_prop openblas.version)"
JUNIT_VERSION="$(pom_prop junit.version)"
[[ -n "$JAVACPP_VERSION" && -n "$OPENBLAS_VERSION" && -n "$JUNIT_VERSION" ]] || die "cannot read versions from pom.xml"
# JUnit Jupiter 5.x.y ships with the JUnit Platform 1.x.y.
CONSOLE_VERSION="1.${JUNIT_VERSION#5.}"
M2="${MAVEN_REPO:-$HOME/.m2/repository}"

# The Python peers' mirrors are checked first: no point building for a bundle that cannot be finished.
if [[ "$PYLIB" == 1 ]]; then
  why="$(bash "$ROOT/bench/gpu/pylib.sh" --why)" || die "pylib/: $why"
fi

if [[ "$BUILD" == 1 ]]; then
  echo "pack.sh: mvn package (tests skipped, CUDA backend off: run.sh builds it on the GPU host)"
  (cd "$ROOT" && mvn -B -q -ntp -Dlinchpin.cuda=OFF -DskipTests package)
fi
JAR="$(ls "$ROOT"/target/linchpin-*.jar 2>/dev/null | grep -v -e '-sources' -e '-tests' | head -1 || true)"
[[ -n "$JAR" && -f "$JAR" ]] || die "no target/linchpin-*.jar (run without --no-build, or mvn package first)"
[[ -d "$ROOT/target/test-classes" ]] || die "no target/test-classes (run without --no-build, or mvn package first)"
# A jar older than the classes would carry a stale native ABI or miss new classes (seen: the JUnit
# launcher then drops the tests that use them without a word).
STALE="$(find "$ROOT/target/classes" -type f -newer "$JAR" -print -quit)"
[[ -z "$STALE" ]] || die "$JAR is older than $STALE: run mvn package (or pack.sh without --no-build)"

# A Maven artifact from the local repository, fetched from Maven Central if missing.
artifact() {  # group artifact version [classifier]
  local g="$1" a="$2" v="$3" c="${4:-}"
  local file="$M2/${g//.//}/$a/$v/$a-$v${c:+-$c}.jar"
  if [[ ! -f "$file" ]]; then
    (cd "$ROOT" && mvn -B -q -ntp org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get \
        -Dartifact="$g:$a:$v:jar${c:+:$c}" -Dtransitive=false >&2) || die "cannot fetch $g:$a:$v${c:+:$c}"
  fi
  [[ -f "$file" ]] || die "missing $file"
  echo "$file"
}

# Refuse to delete a folder that is not a bundle.
if [[ -e "$OUT_DIR" ]]; then
  if [[ -f "$OUT_DIR/.linchpin-bundle" || -z "$(ls -A "$OUT_DIR")" ]]; then
    rm -rf "$OUT_DIR"
  else
    die "$OUT_DIR exists and is not a bundle; not deleting it"
  fi
fi
mkdir -p "$OUT_DIR"/{lib,test-classes,tools,src}
touch "$OUT_DIR/.linchpin-bundle"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# ---- runtime ----
jlink --add-modules java.base,jdk.unsupported,java.logging,java.xml,java.sql \
      --strip-debug --no-man-pages --no-header-files --compress=2 --output "$OUT_DIR/jre"

# ---- jars ----
cp "$JAR" "$OUT_DIR/lib/linchpin.jar"
cp "$(artifact org.bytedeco javacpp "$JAVACPP_VERSION")" "$OUT_DIR/lib/"
cp "$(artifact org.bytedeco javacpp "$JAVACPP_VERSION" linux-x86_64)" "$OUT_DIR/lib/"
cp "$(artifact org.bytedeco openblas "$OPENBLAS_VERSION")" "$OUT_DIR/lib/"
cp "$(artifact org.junit.platform junit-platform-console-standalone "$CONSOLE_VERSION")" "$OUT_DIR/lib/"
# The OpenBLAS natives: we load only openblas_nolapack; its LAPACK siblings are 48 MB unpacked.
OB_NATIVE="$(artifact org.bytedeco openblas "$OPENBLAS_VERSION" linux-x86_64)"
mkdir -p "$TMP/ob"
(cd "$TMP/ob" && jar xf "$OB_NATIVE")
rm -f "$TMP"/ob/org/bytedeco/openblas/linux-x86_64/libjniopenblas.so \
      "$TMP"/ob/org/bytedeco/openblas/linux-x86_64/libjniopenblas_full.so
[[ -f "$TMP/ob/org/bytedeco/openblas/linux-x86_64/libopenblas.so.0" ]] || die "no libopenblas.so.0 in $OB_NATIVE"
[[ -f "$TMP/ob/org/bytedeco/openblas/linux-x86_64/include/cblas.h" ]] || die "no cblas.h in $OB_NATIVE"
rm -f "$TMP/ob/META-INF/MANIFEST.MF"
jar --create --file "$OUT_DIR/lib/$(basename "$OB_NATIVE")" -C "$TMP/ob" .

# ---- test classes that need no libtorch ----
# Edges "class -> class" of the main and test classes (jdeps). A class is dropped if it refers to
# anything outside the bundle (libtorch, JMH, Jackson, ...) or to a dropped class, until nothing
# changes; nested classes are separate .class files and follow the same rule.
jdeps -verbose:class -filter:none "$ROOT/target/classes" "$ROOT/target/test-classes" 2>/dev/null \
  | awk '$2 == "->" { print $1, $3, $4 }' > "$TMP/edges"
awk '
  # JDK classes count only from the modules the bundled runtime holds (jdeps names the module in
  # column 4): a test using javax.tools (java.compiler) or java.net.http would not load there.
  function external_ok(c, m) {
    if (c ~ /^(java|javax|jdk|sun)\./) return m ~ /^(java\.base|jdk\.unsupported|java\.logging|java\.xml|java\.sql|java\.transaction\.xa)$/
    return c ~ /^org\.junit\./ || c ~ /^org\.opentest4j\./ ||
           c ~ /^org\.apiguardian\./ || c ~ /^org\.bytedeco\.javacpp\./ || c ~ /^org\.bytedeco\.openblas\./
  }
  { src[NR] = $1; dst[NR] = $2; mod[NR] = $3; own[$1] = 1 }
  END {
    for (i = 1; i <= NR; i++) if (!(dst[i] in own) && !external_ok(dst[i], mod[i])) bad[src[i]] = 1
    do {
      changed = 0
      for (i = 1; i <= NR; i++) if ((dst[i] in bad) && !(src[i] in bad)) { bad[src[i]] = 1; changed = 1 }
    } while (changed)
    for (c in own) if (!(c in bad)) print c
  }' "$TMP/edges" | sort > "$TMP/keep"
kept=0
while read -r cls; do
  rel="${cls//.//}.class"
  if [[ -f "$ROOT/target/test-classes/$rel" ]]; then
    mkdir -p "$OUT_DIR/test-classes/$(dirname "$rel")"
    cp "$ROOT/target/test-classes/$rel" "$OUT_DIR/test-classes/$rel"
    kept=$((kept + 1))
  fi
done < "$TMP/keep"
# The test classes run.sh selects one by one (a class that cannot load then fails loudly, where a
# class-path scan would skip it silently): top-level classes named *Test.
grep -E '(^|\.)[A-Za-z0-9_]*Test$' "$TMP/keep" | while read -r cls; do
  [[ -f "$OUT_DIR/test-classes/${cls//.//}.class" ]] && echo "$cls"
done > "$OUT_DIR/test-classes.txt"
[[ "$kept" -gt 0 ]] || die "no test class without libtorch found (jdeps output empty?)"
grep -q '^dev\.linchpin\.gpu\.MaskedCeCudaRawTest$' "$TMP/keep" \
  || die "dev.linchpin.gpu.MaskedCeCudaRawTest was dropped: it must not depend on libtorch"

# ---- what the miner needs (owner: mining; keep edits inside) ----
# `linchpin mine` runs from lib/ without libtorch: the CLI's runtime jars minus libtorch (pytorch), the
# report's charts (jfree) and what is bundled above (javacpp, openblas). DJL's tokenizers jar and JNA
# carry native libraries for several platforms: only linux-x86_64's travel.
(cd "$ROOT" && mvn -B -q -ntp dependency:build-classpath -DincludeScope=runtime \
    -Dmdep.outputFile="$TMP/runtime.classpath" >&2) || die "cannot list the runtime class path (mvn dependency:build-classpath)"
tr ':' '\n' < "$TMP/runtime.classpath" | grep -v -e '/org/bytedeco/' -e '/org/jfree/' | while read -r j; do
  [[ -f "$j" ]] || die "missing $j"
  case "$(basename "$j")" in
    tokenizers-*.jar|jna-[0-9]*.jar)
      rm -rf "$TMP/slim" && mkdir -p "$TMP/slim"
      (cd "$TMP/slim" && jar xf "$j")
      find "$TMP/slim/native/lib" -mindepth 1 -maxdepth 1 -type d ! -name linux-x86_64 -exec rm -rf {} + 2>/dev/null || true
      find "$TMP/slim/com/sun/jna" -mindepth 1 -maxdepth 1 -type d ! -name linux-x86-64 ! -name internal ! -name ptr \
           ! -name win32 -exec rm -rf {} + 2>/dev/null || true
      rm -f "$TMP/slim/META-INF/MANIFEST.MF" "$TMP"/slim/META-INF/*.SF "$TMP"/slim/META-INF/*.RSA "$TMP"/slim/META-INF/*.DSA
      jar --create --file "$OUT_DIR/lib/$(basename "$j")" -C "$TMP/slim" . ;;
    *) cp "$j" "$OUT_DIR/lib/" ;;
  esac
done
# The embedded default (trained once per machine into the linchpin cache by the tests or the demo): the
# newest complete cache directory (it has training.json).
DEFAULT_ROOT="${LINCHPIN_CACHE:-$HOME/.cache/linchpin}/default"
DEFAULT_DIR="$(ls -td "$DEFAULT_ROOT"/*/ 2>/dev/null | while read -r d; do [[ -f "$d/training.json" ]] && { echo "$d"; break; }; done || true)"
if [[ -n "$DEFAULT_DIR" ]]; then
  mkdir -p "$OUT_DIR/default/data"
  for f in config.json model.safetensors tokenizer.json tokenizer_config.json special_tokens_map.json; do
    cp "$DEFAULT_DIR/$f" "$OUT_DIR/default/" || die "embedded default $DEFAULT_DIR lacks $f"
  done
  head -n 64 "$DEFAULT_DIR/data/train.jsonl" > "$OUT_DIR/default/data/train.jsonl"
  # Without its chat template: rendering one takes jinjava, whose EL needs java.beans (module
  # java.desktop, +11 MB of runtime). run.sh's mine stage writes the same prompt with the base template
  # "{question}\n" (the default's template renders a user turn as its text + newline, no generation
  # prompt), so the tokens are the same. The default's tokenizer_config.json is TokenizerBuilder's
  # pretty-printed JSON with chat_template last, on one line.
  sed -z -i 's/,\n *"chat_template" : "[^\n]*"\n}/\n}/' "$OUT_DIR/default/tokenizer_config.json"
  ! grep -q chat_template "$OUT_DIR/default/tokenizer_config.json" \
    || die "cannot drop chat_template from $OUT_DIR/default/tokenizer_config.json (not TokenizerBuilder's layout?)"
else
  echo "pack.sh: warning: no trained embedded default under $DEFAULT_ROOT (run the tests or ./linchpin demo once):" \
       "the bundle's mine stage will fail" >&2
fi
# Room for the miner's jars: libjvm.so (24 MB, stored raw by jlink) travels gzip'ed (8 MB), and
# jre/bin/java becomes a small sh wrapper that unpacks it on first use (atomically: a temporary sibling
# renamed into place) and runs the real launcher, jre/bin/java.bin (it finds the runtime from its own
# path). run.sh and ci-check.sh call jre/bin/java as before.
JVM_LIB="$OUT_DIR/jre/lib/server/libjvm.so"
[[ -f "$JVM_LIB" && -x "$OUT_DIR/jre/bin/java" ]] || die "jlink made no jre/lib/server/libjvm.so or jre/bin/java"
gzip -9 "$JVM_LIB"
mv "$OUT_DIR/jre/bin/java" "$OUT_DIR/jre/bin/java.bin"
cat > "$OUT_DIR/jre/bin/java" <<'WRAPPER'
#!/bin/sh
# Unpacks the gzip'ed libjvm.so of this bundle's runtime on first use, then runs the real launcher.
home="$(cd "$(dirname "$0")/.." && pwd)"
lib="$home/lib/server/libjvm.so"
if [ ! -f "$lib" ]; then
  gzip -dc "$lib.gz" > "$lib.$$.tmp" && mv -f "$lib.$$.tmp" "$lib" || { rm -f "$lib.$$.tmp"; echo "cannot unpack $lib.gz" >&2; exit 1; }
fi
exec "$home/bin/java.bin" "$@"
WRAPPER
chmod +x "$OUT_DIR/jre/bin/java"
# ---- end of what the miner needs ----

# ---- tools ----
javac --release 17 -cp "$OUT_DIR/lib/*" -d "$OUT_DIR/tools" "$ROOT"/bench/gpu/tools/*.java

# ---- native sources and scripts ----
cp "$ROOT/CMakeLists.txt" "$OUT_DIR/src/"
for d in cmake cpp kernels tests/native bench/native bench/gpu; do
  mkdir -p "$OUT_DIR/src/$d"
  cp -r "$ROOT/$d/." "$OUT_DIR/src/$d/"
done
find "$OUT_DIR/src" \( -name '__pycache__' -o -name '*.pyc' \) -prune -exec rm -rf {} +
cp "$ROOT/bench/gpu/run.sh" "$OUT_DIR/run.sh"

# ---- Python peers that pip cannot bring to the GPU host (Liger-Kernel, cut-cross-entropy) ----
if [[ "$PYLIB" == 1 ]]; then
  bash "$ROOT/bench/gpu/pylib.sh" "$OUT_DIR/pylib" || die "pylib.sh failed"
fi

{
  echo "Linchpin GPU bundle"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n)"
  echo "commit: $(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (+ uncommitted changes)')"
  echo "java: jlink'd from $(java -version 2>&1 | head -1) (jre/lib/server/libjvm.so.gz unpacks on first use)"
  echo "javacpp $JAVACPP_VERSION, openblas $OPENBLAS_VERSION, junit console $CONSOLE_VERSION"
  echo "test classes: $kept"
  echo "embedded default: ${DEFAULT_DIR:-none}"
  if [[ -f "$OUT_DIR/pylib/VERSIONS.txt" ]]; then
    echo "pylib: $(awk '/^(liger_kernel|cut_cross_entropy) / { printf "%s%s@%s", (n++ ? ", " : ""), $1, substr($3, 1, 12) }' "$OUT_DIR/pylib/VERSIONS.txt")"
  else
    echo "pylib: none (--no-pylib)"
  fi
  echo "run on the GPU host: bash bundle/run.sh   (results in \$OUT, else ./gpu-results)"
} > "$OUT_DIR/MANIFEST.txt"

BYTES="$(du -sb "$OUT_DIR" | cut -f1)"
MIB="$(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1048576 }')"
echo "pack.sh: bundle $OUT_DIR: $MIB MiB ($BYTES bytes), $kept test classes"
du -sh "$OUT_DIR"/* | sed 's/^/  /'
if [[ "$BYTES" -ge "$MAX_BYTES" ]]; then
  die "bundle is $BYTES bytes, over the limit of $MAX_BYTES (64 MiB: what the GPU host takes per command)"
fi
