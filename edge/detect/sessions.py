"""onnxruntime sessions, one per model file and thread count, shared by every camera."""

import threading
from functools import cache
from pathlib import Path

import onnxruntime as ort

_lock = threading.Lock()


def shared_session(path: Path, threads: int) -> ort.InferenceSession:
    """The process-wide CPU session for `path` (created on first use; `run` is thread-safe)."""
    with _lock:
        return _session(path.resolve(), threads)


@cache
def _session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
