#!/usr/bin/env bash
# GenLab's GPU checks and GPU benchmarks in one go, on a GPU server whose python3 has torch:
# tests/test_gpu.py, then benchmarks/gpu_speed.py, gpu_share.py, time_to_quality.py,
# pytorch/examples' vae/main.py on the same data, and torch.compile. Each stage has its own
# time limit, and its output goes to $OUT/<stage>.log as it comes.
#
# It expects beside the checkout (none of it is committed):
#   .gpu/fashion/*.gz           Fashion-MNIST's four IDX files (Debian's dataset-fashion-mnist)
#   .gpu/examples/vae/main.py   pytorch/examples' VAE, unchanged
#   .whl/*.whl                  wheels of what the server lacks (argon2-cffi and its needs)
# Usage: OUT=/tmp/gpu [SPEED_ARGS=...] [SHARE_ARGS=...] benchmarks/gpu_session.sh [STAGE...]
#        (default: every stage, in order; the ARGS replace the benchmark's arguments)
set -u
OUT=${OUT:-/tmp/genlab-gpu}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 GENLAB_DEMOS=""

setup() {
    if ls .whl/*.whl >/dev/null 2>&1; then
        python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
        export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
    fi
    mkdir -p /usr/share/datasets/fashion-mnist && cp -n .gpu/fashion/*.gz /usr/share/datasets/fashion-mnist/
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    python3 -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'cuDNN', torch.backends.cudnn.version())"
    echo "cores: $(nproc); MPS control daemon: $(command -v nvidia-cuda-mps-control || echo absent)"
}

examples_vae() {
    # pytorch/examples' vae/main.py reads MNIST's uncompressed files: Fashion-MNIST's have its format.
    local dir=/tmp/examples
    mkdir -p $dir/data/MNIST/raw $dir/vae/results
    for f in .gpu/fashion/*.gz; do gunzip -c "$f" > "$dir/data/MNIST/raw/$(basename "$f" .gz)"; done
    cp .gpu/examples/vae/main.py $dir/vae/
    for epochs in 1 2; do
        local start=$EPOCHREALTIME
        (cd $dir/vae && python3 main.py --epochs $epochs --log-interval 1000 | grep -E "Using|====> Epoch")
        echo "pytorch/examples vae/main.py --epochs $epochs: $(awk "BEGIN {print $EPOCHREALTIME - $start}") s"
    done
}

stage() {  # stage NAME SECONDS COMMAND...
    local name=$1 limit=$2; shift 2
    echo "=== $name (at most $limit s)"
    local start=$SECONDS
    timeout "$limit" "$@" > >(tee "$OUT/$name.log") 2>&1
    echo "=== $name: exit $?, $((SECONDS - start)) s"
}

setup 2>&1 | tee "$OUT/setup.log"
export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
for s in ${@:-tests speed share quality examples compile}; do
    case $s in
        tests) stage tests 200 python3 -m pytest -q -p no:cacheprovider -rs -s tests/test_gpu.py tests/test_speedups.py ;;
        speed) stage speed 130 python3 benchmarks/gpu_speed.py ${SPEED_ARGS:---repeats 3} ;;
        share) stage share 130 python3 benchmarks/gpu_share.py ${SHARE_ARGS:---steps 1500} ;;
        quality) stage quality 100 python3 benchmarks/time_to_quality.py --device cuda --steps 6000 --snapshots 12 ;;
        examples) export -f examples_vae; stage examples 80 bash -c examples_vae ;;
        compile) stage compile 120 python3 benchmarks/gpu_speed.py --compile ;;
    esac
done
