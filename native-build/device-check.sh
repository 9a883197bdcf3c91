#!/usr/bin/env bash
# The device check: on an NVIDIA machine with no Java and no network, unpacks the bundle built by
# native-build/pack-device-check.sh and runs, each under a time limit (8 minutes in all):
#   1. doctor                      driver, device, cuBLAS, cuDNN (real or forwarded), kernels
#   2. the gpu-tagged JUnit tests  every CUDA op and a small ResNet's training against the reference
#   3. bench --device cuda         resnet30 and plain30, batch $BENCH_BATCH (128), extra flags $BENCH_ARGS
#   4. train --device cuda         resnet30, 2 epochs over 9,000 real images (1,000 held out): the
#                                  second epoch's images/s beside bench's shows what the input
#                                  pipeline (decode, shuffle, pinned uploads) costs
# then prints a short table. Logs go to $OUT/device-check/ when OUT is set, else to the work folder.
# Exit status 0 only when every stage passed.
#
# usage: native-build/device-check.sh [BUNDLE]   (default: .devicepack/jresnet-device.tar.xz)
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
bundle=${1:-$repo/.devicepack/jresnet-device.tar.xz}
if [ ! -f "$bundle" ]; then
    echo "device-check: bundle $bundle not found; build it with native-build/pack-device-check.sh" >&2
    exit 2
fi
work=$(mktemp -d)
logs=${OUT:+$OUT/device-check}
logs=${logs:-$work/logs}
mkdir -p "$logs"
# xz is not on every minimal image; Python's tarfile reads xz as well.
if command -v xz > /dev/null; then
    tar -xJf "$bundle" -C "$work"
elif command -v python3 > /dev/null; then
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$bundle" "$work"
else
    echo "device-check: unpacking $bundle needs xz or python3" >&2
    false
fi || { echo "device-check: cannot unpack $bundle" >&2; exit 2; }
root="$work/jresnet-device"
export JAVA_HOME="$root/jre"
export PATH="$JAVA_HOME/bin:$PATH"
export JRESNET_DATA="$root/data/cifar-10-batches-bin"
java="$JAVA_HOME/bin/java"
classpath="$root/target/jresnet.jar:$(ls "$root"/target/lib/*.jar | tr '\n' ':')$root/tests/jresnet-tests.jar"

names=() statuses=() seconds=() summaries=()

# stage NAME LIMIT_SECONDS SUMMARY_FUNCTION COMMAND...
stage() {
    local name=$1 limit=$2 summarize=$3 start status
    shift 3
    echo "==== $name (limit ${limit}s): $*"
    start=$(date +%s)
    (cd "$root" && timeout --kill-after=3 "$limit" "$@") > "$logs/$name.log" 2>&1
    status=$?
    cat "$logs/$name.log"
    names+=("$name")
    seconds+=($(( $(date +%s) - start )))
    case $status in
        0) statuses+=("ok") ;;
        124|137) statuses+=("timeout") ;;
        *) statuses+=("FAIL($status)") ;;
    esac
    summaries+=("$($summarize "$logs/$name.log")")
}

doctor_summary() { grep -E '^(FAIL|ok    device 0)' "$1" | head -2 | tr '\n' ' ' | cut -c1-110; }
tests_summary() {
    awk '/tests (found|successful|failed|skipped|aborted)/ { gsub(/[][]/, ""); printf "%s %s, ", $1, $3 }' "$1" | sed 's/, $//'
}
last_line() { grep -v '^[[:space:]]*$' "$1" | tail -1 | cut -c1-110; }
train_summary() {
    awk -F, 'NR == 3 { printf "epoch 2: %s images/s, loss %.4f, val_accuracy %.4f", $8, $2, $5 }' "$work/train-resnet30/metrics.csv" 2>/dev/null
}

stage doctor 45 doctor_summary "$java" -cp "$classpath" jresnet.backend.cuda.Doctor
stage gpu-tests 180 tests_summary "$java" -Xmx8g -jar "$root/tests/junit-platform-console-standalone.jar" execute \
    --class-path "$classpath" --include-tag gpu --select-package jresnet.backend.cuda \
    --select-class jresnet.train.CudaNonFinitePolicyTest \
    --details=tree --disable-banner --disable-ansi-colors --fail-if-no-tests
for model in resnet30 plain30; do
    # shellcheck disable=SC2086 # BENCH_ARGS is a list of flags
    stage "bench-$model" 80 last_line "$root/bin/jresnet" bench --device cuda --model "$model" \
        --batch-size "${BENCH_BATCH:-128}" ${BENCH_ARGS:-}
done
stage train-resnet30 60 train_summary "$root/bin/jresnet" train --device cuda --model resnet30 --epochs 2 \
    --limit-train 10000 --val-split 1000 --batch-size "${BENCH_BATCH:-128}" --out "$work/train-resnet30"

echo
printf '%-16s %-10s %6s  %s\n' stage status seconds summary
failed=0
for i in "${!names[@]}"; do
    printf '%-16s %-10s %6s  %s\n' "${names[$i]}" "${statuses[$i]}" "${seconds[$i]}" "${summaries[$i]}"
    [ "${statuses[$i]}" = ok ] || failed=1
done
echo "logs: $logs"
rm -rf "$work"
exit $failed
