#!/bin/sh
# SGEMM 2048², the backend's kernel against OpenBLAS, one JMH fork of each after the other, round
# by round, each round's ratio printed as it ends: on a host whose speed moves from minute to
# minute, only figures taken in the same minutes compare. Arguments: the number of rounds (default
# 3), then anything for the benchmark JVMs, e.g. -XX:UseAVX=2 for the 256-bit path. OpenBLAS gets
# the kernel of the vector width those JVMs use (512 bits SkylakeX, 256 Haswell, or Sandybridge
# without FMA, 128 Nehalem), so that both sides run code of the same width: on an AVX-512 CPU
# OpenBLAS would otherwise run its AVX-512 kernel against the JVM's AVX2 one. OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE from the environment are not passed on (some machines set them for old OpenBLAS
# builds; they hold a current one to a narrower kernel or other block sizes); the script says so.
set -e
here=$(cd "$(dirname "$0")" && pwd)
rounds=${1:-3}
[ $# -gt 0 ] && shift
case $rounds in
  ''|*[!0-9]*|0|0*) echo "sgemm-pairs.sh: the number of rounds must be a whole number from 1, got '$rounds'" >&2; exit 2 ;;
esac
jvm_args="$*"
flags=$(java $jvm_args -XX:+PrintFlagsFinal -version 2>/dev/null) || {
  echo "sgemm-pairs.sh: java does not start with the flags '$jvm_args'" >&2; exit 2; }
use_avx=$(echo "$flags" | awk '$2 == "UseAVX" { print $4 }')
vector_bytes=$(echo "$flags" | awk '$2 == "MaxVectorSize" { print $4 }')
case $use_avx in
  3) bits=512 ;;
  1|2) bits=256 ;;
  *) bits=128 ;;
esac
[ $((vector_bytes * 8)) -lt $bits ] && bits=$((vector_bytes * 8))
case $bits/$use_avx in
  512/*) coretype=SkylakeX ;;
  256/1) coretype=Sandybridge ;;
  256/*) coretype=Haswell ;;
  *) coretype=Nehalem ;;
esac
for inherited in OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; do
  value=$(printenv "$inherited" || true)
  [ -n "$value" ] && echo "sgemm-pairs.sh: $inherited=$value from the environment is not used: OpenBLAS gets the kernel of the JVM's vector width and its own cache sizes"
  unset "$inherited"
done
export OPENBLAS_CORETYPE=$coretype
mvn -B -q -f "$here/../../pom.xml" -DskipTests install
mvn -B -q -f "$here/pom.xml" compile
classpath="$here/target/classes:$(cat "$here/target/runtime.classpath")"
score() {
  result=$(java --add-modules jdk.incubator.vector -cp "$classpath" org.openjdk.jmh.Main -f 1 -wi 2 -i 3 \
    ${jvm_args:+-jvmArgsAppend "$jvm_args"} "SgemmCeilingBenchmark.$1" 2>&1 \
    | awk '/^SgemmCeilingBenchmark\.[A-Za-z]+:gflop / { print $(NF-3) }')
  if [ -z "$result" ]; then
    echo "sgemm-pairs.sh: JMH gave no score for $1; bench/jmh/run.sh -f 1 SgemmCeilingBenchmark.$1 shows why" >&2
    exit 1
  fi
  echo "$result"
}
echo "JVM flags: ${jvm_args:-none} ($bits-bit vectors); OpenBLAS kernel: $OPENBLAS_CORETYPE"
round=1
while [ "$round" -le "$rounds" ]; do
  blas=$(score openblas)
  own=$(score vectorApi)
  echo "round $round, $(date -u +%H:%M) UTC: OpenBLAS $blas GFLOP/s, jresnet $own GFLOP/s, ratio $(awk -v a="$own" -v b="$blas" 'BEGIN { printf "%.2f", a / b }')"
  round=$((round + 1))
done
