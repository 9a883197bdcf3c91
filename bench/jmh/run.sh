#!/bin/sh
# Installs the project jar, builds the JMH benchmarks and runs them; arguments go to JMH
# (e.g. -f 1 -wi 1 -i 2 ConvBenchmark).
set -e
here=$(cd "$(dirname "$0")" && pwd)
mvn -B -q -f "$here/../../pom.xml" -DskipTests install
mvn -B -q -f "$here/pom.xml" compile
exec java --add-modules jdk.incubator.vector \
  -cp "$here/target/classes:$(cat "$here/target/runtime.classpath")" org.openjdk.jmh.Main "$@"
