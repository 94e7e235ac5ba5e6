"""Resize with unchanged aspect ratio and pad to the network's input shape."""

from dataclasses import dataclass

import cv2
import numpy as np

PAD_VALUE = 114


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How a frame was mapped into the network input: scale, then offset by the padding."""

    scale: float
    pad_x: float
    pad_y: float

    def to_frame(self, xy: np.ndarray) -> np.ndarray:
        """Map network-input x, y (last axis of size 2, or boxes of 4) back to frame pixels."""
        out = xy.astype(np.float32, copy=True)
        out[..., 0::2] = (out[..., 0::2] - self.pad_x) / self.scale
        out[..., 1::2] = (out[..., 1::2] - self.pad_y) / self.scale
        return out


def input_shape(frame_hw: tuple[int, int], size: int, stride: int, fixed: bool) -> tuple[int, int]:
    """Network input (height, width): size×size for fixed-shape models, else the scaled frame
    rounded up to a multiple of `stride` (less padding, less work on 4:3 and 16:9 frames)."""
    if fixed:
        return size, size
    h, w = frame_hw
    scale = size / max(h, w)
    return (
        int(np.ceil(h * scale / stride) * stride),
        int(np.ceil(w * scale / stride) * stride),
    )


def letterbox(frame: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, Letterbox]:
    """The frame scaled into `shape` (height, width), centred, padded with grey, as a
    1×3×H×W float32 RGB tensor in 0..1, and the mapping back to frame pixels."""
    h, w = frame.shape[:2]
    out_h, out_w = shape
    scale = min(out_h / h, out_w / w)
    new_w, new_h = round(w * scale), round(h * scale)
    resized = cv2.resize(frame, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    pad_x, pad_y = (out_w - new_w) / 2, (out_h - new_h) / 2
    top, left = round(pad_y - 0.1), round(pad_x - 0.1)
    canvas = np.full((out_h, out_w, 3), PAD_VALUE, dtype=np.uint8)
    canvas[top : top + new_h, left : left + new_w] = resized
    tensor = np.empty((1, 3, out_h, out_w), np.float32)
    np.multiply(canvas[:, :, ::-1].transpose(2, 0, 1), 1.0 / 255.0, out=tensor[0])
    return tensor, Letterbox(scale, float(left), float(top))
