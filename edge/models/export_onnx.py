"""Export an Ultralytics .pt file to ONNX, offline (YOLO_OFFLINE=1 set by the caller).

Run by `models prepare` with the preparation Python (needs torch and ultralytics):

    python export_onnx.py WEIGHTS.pt INPUT_SIZE

Prints the path of the ONNX file written beside the weights.
"""

import sys

from ultralytics import YOLO

if __name__ == "__main__":
    path = YOLO(sys.argv[1]).export(
        format="onnx", imgsz=int(sys.argv[2]), dynamic=True, simplify=True, opset=17
    )
    print(path)
