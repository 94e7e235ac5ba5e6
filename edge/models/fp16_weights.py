"""Store an ONNX model's large float weights as float16, cast back to float32 in the graph.

Run by `models prepare` with the preparation Python (needs `onnx`), never by the runtime:

    python fp16_weights.py IN.onnx OUT.onnx

The file halves in size; onnxruntime folds the casts when it loads the model, so inference
is float32 as before (box coordinates move by well under a pixel).
"""

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MIN_ELEMENTS = 1024


def halve(source: str, target: str) -> None:
    """Write `source` with float16 weights and Cast nodes to `target`."""
    model = onnx.load(source)
    graph = model.graph
    halves, casts = [], []
    for init in list(graph.initializer):
        if init.data_type != TensorProto.FLOAT or np.prod(init.dims) < MIN_ELEMENTS:
            continue
        half = numpy_helper.from_array(
            numpy_helper.to_array(init).astype(np.float16), f"{init.name}__fp16"
        )
        halves.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT))
        graph.initializer.remove(init)
    graph.initializer.extend(halves)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    onnx.checker.check_model(model)
    onnx.save(model, target)


if __name__ == "__main__":
    halve(sys.argv[1], sys.argv[2])
