"""Camera pictures as event snapshots: size read, scaled down to fit ingest's limit."""

import io

from PIL import Image, UnidentifiedImageError

from shouwang.contracts import Snapshot


class BadPicture(ValueError):
    """Bytes that are no readable JPEG."""


def snapshot(jpeg: bytes, *, event_id: str, site: str, camera: str, max_bytes: int) -> Snapshot:
    """The picture as the event's snapshot; larger than `max_bytes`, it is scaled down."""
    try:
        image: Image.Image = Image.open(io.BytesIO(jpeg))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise BadPicture(f"not a readable picture: {exc}") from None
    if image.format != "JPEG" or len(jpeg) > max_bytes:
        image = image.convert("RGB")
        for scale in (1.0, 0.75, 0.5, 0.35, 0.25, 0.15):
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            out = io.BytesIO()
            image.resize(size).save(out, "JPEG", quality=80)
            if out.tell() <= max_bytes:
                jpeg, image = out.getvalue(), Image.open(io.BytesIO(out.getvalue()))
                break
        else:
            raise BadPicture(f"cannot fit the picture into {max_bytes} bytes")
    return Snapshot.from_jpeg(
        jpeg, event_id=event_id, site=site, camera=camera, width=image.width, height=image.height
    )
