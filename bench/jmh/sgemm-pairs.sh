#!/bin/sh
# SGEMM 2048², the backend's kernel against OpenBLAS, one JMH fork of each after the other, round
# by round, each round's ratio printed as it ends: on a host whose speed moves from minute to
# minute, only figures taken in the same minutes compare. Arguments: the number of rounds (default
# 3), then anything for the benchmark JVMs, e.g. -XX:UseAVX=2 for the 256-bit path. OpenBLAS picks
# its kernel by itself unless OPENBLAS_CORETYPE is set (Haswell for AVX2, SkylakeX for AVX-512); with
# -XX:UseAVX=2 and no OPENBLAS_CORETYPE it gets Haswell, so that both sides run 256-bit code (on an
# AVX-512 CPU OpenBLAS would otherwise run its AVX-512 kernel against the JVM's AVX2 one).
set -e
here=$(cd "$(dirname "$0")" && pwd)
rounds=${1:-3}
[ $# -gt 0 ] && shift
case $rounds in
  ''|*[!0-9]*|0|0*) echo "sgemm-pairs.sh: the number of rounds must be a whole number from 1, got '$rounds'" >&2; exit 2 ;;
esac
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
jvm_args="$*"
case " $jvm_args " in
  *" -XX:UseAVX=2 "*) export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell} ;;
esac
echo "JVM flags: ${jvm_args:-none}; OpenBLAS kernel: ${OPENBLAS_CORETYPE:-its own choice}"
round=1
while [ "$round" -le "$rounds" ]; do
  blas=$(score openblas)
  own=$(score vectorApi)
  echo "round $round, $(date -u +%H:%M) UTC: OpenBLAS $blas GFLOP/s, jresnet $own GFLOP/s, ratio $(awk -v a="$own" -v b="$blas" 'BEGIN { printf "%.2f", a / b }')"
  round=$((round + 1))
done
