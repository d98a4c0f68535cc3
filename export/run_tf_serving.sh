#!/usr/bin/env bash
# Serve a tfless export root with TensorFlow Serving in Docker.
#
#   export/run_tf_serving.sh EXPORT_ROOT [MODELS_CONFIG] [IMAGE]
#
#   EXPORT_ROOT    directory holding <name>/<version>/ exports (e.g. tfless/model_zoo, or
#                  the --export_root given to tfless-export)
#   MODELS_CONFIG  TF Serving model config; default: export/models.config next to this script
#   IMAGE          container image; default: tensorflow/serving:latest. Pin a release tag at
#                  least as new as the TensorFlow that wrote the exports; use a -gpu tag on GPUs.
#
# Ports: 8500 gRPC (tensorflow.serving.PredictionService), 8501 REST
# (http://localhost:8501/v1/models/<name>:predict). Override with GRPC_PORT / REST_PORT.
# Server-side batching uses export/batching.config.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 3 ]]; then
  sed -n '2,15p' "$0" >&2
  exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$1" && pwd)"
config="$(cd "$(dirname "${2:-$here/models.config}")" && pwd)/$(basename "${2:-$here/models.config}")"
image="${3:-tensorflow/serving:latest}"
grpc_port="${GRPC_PORT:-8500}"
rest_port="${REST_PORT:-8501}"

if ! command -v docker >/dev/null 2>&1; then
  echo "docker is not installed; for local development use: tfless-serve --export_root=$root" >&2
  exit 1
fi
if [[ ! -f "$config" ]]; then
  echo "model config $config does not exist" >&2
  exit 1
fi

exec docker run --rm \
  -p "${grpc_port}:8500" -p "${rest_port}:8501" \
  -v "${root}:/models:ro" \
  -v "${config}:/config/models.config:ro" \
  -v "${here}/batching.config:/config/batching.config:ro" \
  "${image}" \
  --model_config_file=/config/models.config \
  --model_config_file_poll_wait_seconds=60 \
  --file_system_poll_wait_seconds=30 \
  --enable_batching=true \
  --batching_parameters_file=/config/batching.config
