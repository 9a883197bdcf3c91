#!/usr/bin/env bash
# Builds .devicepack/jresnet-device.tar.xz: everything native-build/device-check.sh needs on an NVIDIA
# machine without Java or network (at most 64 MiB):
#   jre/                      a jlink-minimized Java runtime with only the modules the jars use
#   bin/jresnet               the launcher
#   target/jresnet.jar        with the kernels fatbin inside
#   target/lib/*.jar          runtime dependencies; jcuda-natives without the unused JNvPTXCompiler
#   target/native/            the libcudnn.so.8 / libcublas.so.12 forwarders
#   tests/                    the test classes and the JUnit console launcher
#   data/cifar-10-batches-bin data_batch_1.bin (real CIFAR-10, 10,000 images) for bench
#
# usage: native-build/pack-device-check.sh [CIFAR10_DIR]   (default: $JRESNET_DATA, else ../shared/data/...)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-${JRESNET_DATA:-$repo/../shared/data/cifar-10-batches-bin}}
out="$repo/.devicepack"
bundle="$out/jresnet-device.tar.xz"
limit=$((64 * 1024 * 1024))
console_version=1.14.1

cd "$repo"
mvn -B -ntp -q package -DskipTests
for required in target/jresnet.jar target/classes/jresnet/kernels/jresnet.fatbin \
                target/native/libcudnn.so.8 target/native/libcublas.so.12; do
    if [ ! -f "$required" ]; then
        echo "pack-device-check: $required is missing; the build needs nvcc and gcc on PATH" >&2
        exit 1
    fi
done
if [ ! -f "$data/data_batch_1.bin" ]; then
    echo "pack-device-check: $data/data_batch_1.bin not found; pass the cifar-10-batches-bin folder" >&2
    exit 1
fi
console="$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$console_version/junit-platform-console-standalone-$console_version.jar"
if [ ! -f "$console" ]; then
    mvn -B -ntp -q dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$console_version" -Dtransitive=false
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/jresnet-device"
mkdir -p "$root/target/lib" "$root/target/native" "$root/tests" "$root/data/cifar-10-batches-bin" "$root/bin"

cp target/jresnet.jar "$root/target/"
cp target/lib/*.jar "$root/target/lib/"
cp target/native/libcudnn.so.8 target/native/libcublas.so.12 "$root/target/native/"
cp bin/jresnet "$root/bin/"
for natives in "$root"/target/lib/jcuda-natives-*.jar; do
    zip -q -d "$natives" 'lib/libJNvPTXCompiler-*'
done
jar cf "$root/tests/jresnet-tests.jar" -C target/test-classes .
cp "$console" "$root/tests/junit-platform-console-standalone.jar"
cp "$data/data_batch_1.bin" "$root/data/cifar-10-batches-bin/"
[ -f "$data/batches.meta.txt" ] && cp "$data/batches.meta.txt" "$root/data/cifar-10-batches-bin/"

modules=$(jdeps --multi-release 17 --ignore-missing-deps --print-module-deps \
    --class-path "$root/target/lib/*" "$root/target/jresnet.jar" "$root"/target/lib/*.jar \
    "$root/tests/jresnet-tests.jar" "$root/tests/junit-platform-console-standalone.jar")
# jdk.zipfs: the JUnit launcher scans jars through the zip file system. Uncompressed modules: xz
# packs them smaller than jlink's own compression would.
jlink --add-modules "$modules,jdk.zipfs" --strip-debug --no-header-files --no-man-pages --compress=0 --output "$root/jre"

mkdir -p "$out"
tar -C "$stage" -cf - jresnet-device | xz -6 -T2 > "$bundle.part"
mv "$bundle.part" "$bundle"
size=$(stat -c %s "$bundle")
echo "pack-device-check: $bundle, $((size / 1024 / 1024)) MiB (modules: $modules)"
if [ "$size" -gt "$limit" ]; then
    echo "pack-device-check: the bundle exceeds 64 MiB" >&2
    exit 1
fi
