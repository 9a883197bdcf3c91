#!/usr/bin/env bash
# jresnet against PyTorch on this CPU, alternated run by run, on each vector width the CPU has:
# 512 bits (the JVM's default on AVX-512, PyTorch's oneDNN at its best ISA) and 256 bits
# (`-XX:UseAVX=2` for the JVM, oneDNN held to AVX2 with ONEDNN_MAX_CPU_ISA, as on an AVX2-only CPU).
# Each round runs jresnet, then PyTorch, per width and model, so that every ratio compares runs taken
# within the same minutes: on a shared host the speed of both moves from minute to minute.
#
# Usage: bench/peers/alternate.sh [rounds (default 5)] [model ... (default resnet20 resnet30)]
# Needs target/jresnet.jar (mvn -B package -DskipTests) and PyTorch (bench/peers/install-torch.sh).
# PYTHON names the interpreter (default /usr/bin/python3); JRESNET_JAVA_OPTS goes to every jresnet
# JVM, as bin/jresnet passes it, but must not set the vector width, which this script sets per run.
# Prints one line per run, then one table per vector width in Markdown for docs/performance.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
python=${PYTHON:-/usr/bin/python3}
java="${JAVA_HOME:+$JAVA_HOME/bin/}java" # the JVM bin/jresnet runs
rounds=5
case ${1:-} in
  [0-9]*) rounds=$1; shift ;;
esac
case $rounds in
  *[!0-9]*|0|0*) echo "alternate.sh: the number of rounds must be a whole number from 1, got '$rounds'" >&2; exit 2 ;;
esac
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(resnet20 resnet30)
for model in "${models[@]}"; do
  case $model in
    resnet20|resnet56|resnet30|plain30) ;;
    *) echo "alternate.sh: model '$model' is not one both sides build (resnet20, resnet56, resnet30, plain30)" >&2; exit 2 ;;
  esac
done
case " ${JRESNET_JAVA_OPTS:-} " in
  *UseAVX*|*MaxVectorSize*) echo "alternate.sh: JRESNET_JAVA_OPTS sets the vector width ('$JRESNET_JAVA_OPTS'), which this script sets for each run; leave it out" >&2; exit 2 ;;
esac
[ -f "$root/target/jresnet.jar" ] || { echo "alternate.sh: $root/target/jresnet.jar is missing; build it with mvn -B package -DskipTests" >&2; exit 1; }
"$python" -c 'import torch' 2>/dev/null || { echo "alternate.sh: $python cannot import torch; bench/peers/install-torch.sh installs Debian's python3-torch" >&2; exit 1; }

# The widths this JVM can run: UseAVX 3 is AVX-512 (HotSpot leaves it at 2 on some AVX-512 CPUs).
use_avx=$("$java" ${JRESNET_JAVA_OPTS:-} -XX:+PrintFlagsFinal -version 2>/dev/null | awk '$2 == "UseAVX" { print $4 }')
case ${use_avx:-0} in
  3) widths=(512 256) ;;
  2) widths=(256) ;;
  *) echo "alternate.sh: $java uses no AVX2 here (UseAVX=${use_avx:-unknown}), and both widths this script compares need it" >&2; exit 1 ;;
esac

# Warm-up and timed steps: the wide tutorial networks take seconds a step on a CPU, He et al.'s a fraction of one.
steps_for() {
  case $1 in
    resnet30|plain30) echo "jresnet 3 4 torch 2 4" ;;
    *) echo "jresnet 8 10 torch 3 10" ;;
  esac
}

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
family=$(awk -F': ' '/^cpu family/ { print $2; exit }' /proc/cpuinfo)
cpu_model=$(awk -F': ' '/^model\t/ { print $2; exit }' /proc/cpuinfo)
echo "host: $cpu (family $family, model $cpu_model), $(nproc) CPUs, vector widths ${widths[*]}; $("$java" -version 2>&1 | head -1); torch $("$python" -c 'import torch; print(torch.__version__)')"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); rounds: $rounds"

results=$(mktemp)
trap 'rm -f "$results"' EXIT

images_per_s() { grep -o '"images_per_s": *[0-9.]*' | grep -o '[0-9.]*$' | tail -1; }

run_jresnet() { # width model warmup steps
  local opts="${JRESNET_JAVA_OPTS:-}" json bits
  [ "$1" = 256 ] && opts="$opts -XX:UseAVX=2"
  json=$(JRESNET_JAVA_OPTS="$opts" "$root/bin/jresnet" bench --device cpu --model "$2" --batch-size 128 \
    --warmup "$3" --steps "$4" 2>/dev/null | tail -1)
  bits=$(echo "$json" | grep -o '"vector_bits":[0-9]*' | cut -d: -f2)
  if [ -z "$bits" ]; then
    echo "alternate.sh: jresnet bench gave no result for $2 at $1 bits; run it by hand to see why: JRESNET_JAVA_OPTS='$opts' $root/bin/jresnet bench --device cpu --model $2" >&2
    exit 1
  fi
  if [ "$bits" != "$1" ]; then
    echo "alternate.sh: jresnet bench ran with $bits-bit vectors where $1 bits were asked for (JRESNET_JAVA_OPTS='$opts')" >&2
    exit 1
  fi
  echo "$json" | images_per_s || true
}

run_torch() { # width model warmup steps
  local isa=""
  [ "$1" = 256 ] && isa=AVX2
  ONEDNN_MAX_CPU_ISA=${isa:-ALL} "$python" "$here/torch_resnet.py" --device cpu --model "$2" --batch-size 128 \
    --warmup "$3" --steps "$4" 2>/dev/null | images_per_s
}

for round in $(seq "$rounds"); do
  for model in "${models[@]}"; do
    read -r _ jw js _ tw ts <<< "$(steps_for "$model")"
    for width in "${widths[@]}"; do
      own=$(run_jresnet "$width" "$model" "$jw" "$js") || exit 1
      [ -n "$own" ] || { echo "alternate.sh: jresnet bench gave no images/s for $model at $width bits" >&2; exit 1; }
      own_load=$(cut -d' ' -f1 /proc/loadavg)
      peer=$(run_torch "$width" "$model" "$tw" "$ts") || peer=""
      [ -n "$peer" ] || { echo "alternate.sh: torch_resnet.py gave no images/s for $model at $width bits; run it by hand to see why: $python $here/torch_resnet.py --device cpu --model $model" >&2; exit 1; }
      peer_load=$(cut -d' ' -f1 /proc/loadavg)
      echo "round $round, $(date -u +%H:%M:%S) UTC, $width bits, $model: jresnet $own, PyTorch $peer images/s (load $own_load, $peer_load)"
      echo "$width $model $own $peer $own_load $peer_load" >> "$results"
    done
  done
done

for width in "${widths[@]}"; do
  if [ "$width" = 512 ]; then echo; echo "512 bits (AVX-512 for both):"
  else echo; echo "256 bits (jresnet -XX:UseAVX=2, PyTorch ONEDNN_MAX_CPU_ISA=AVX2):"; fi
  echo
  echo "| model | jresnet images/s | PyTorch images/s | jresnet / PyTorch per round | load |"
  echo "|---|---|---|---|---|"
  for model in "${models[@]}"; do
    awk -v w="$width" -v m="$model" '
      $1 == w && $2 == m {
        own = own sep $3; peer = peer sep $4; ratio = ratio sep ($4 > 0 ? sprintf("%.2f", $3 / $4) : "-"); sep = ", "
        for (i = 5; i <= 6; i++) { if (lo == "" || $i < lo) lo = $i; if (hi == "" || $i > hi) hi = $i }
      }
      END { printf "| %s | %s | %s | %s | %.1f-%.1f |\n", m, own, peer, ratio, lo, hi }' "$results"
  done
done
