"""Event snapshots: a JPEG, base64 inside JSON, on `shouwang/v1/<site>/<camera>/snapshot`.

Snapshots travel separately from their event (keyed by `event_id`) so that events stay small
and are never held back by a large image; either may arrive first.
"""

import base64
import binascii
import hashlib
from typing import Annotated, ClassVar, Self

from pydantic import Field, PrivateAttr, StringConstraints, model_validator

from shouwang.contracts.common import Identifier, MessageId, MessageKind, WireModel

JPEG_START = b"\xff\xd8\xff"
JPEG_END = b"\xff\xd9"


class Snapshot(WireModel):
    """The best frame of an event, as JPEG."""

    KIND: ClassVar[MessageKind] = MessageKind.SNAPSHOT
    SOURCE_FIELD: ClassVar[str] = "camera"

    event_id: MessageId
    camera: Identifier
    content_type: Annotated[str, StringConstraints(pattern=r"^image/jpeg$")] = "image/jpeg"
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    width: Annotated[int, Field(gt=0, le=16384)]
    height: Annotated[int, Field(gt=0, le=16384)]
    data: Annotated[str, StringConstraints(min_length=4)] = Field(
        description="The JPEG bytes, standard base64."
    )

    _image: bytes = PrivateAttr(default=b"")

    @model_validator(mode="after")
    def _jpeg_matches(self) -> Self:
        try:
            image = base64.b64decode(self.data, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"data is not valid base64: {exc}") from None
        if not (image.startswith(JPEG_START) and image.rstrip(b"\x00").endswith(JPEG_END)):
            raise ValueError("data is not a complete JPEG (missing start or end marker)")
        if hashlib.sha256(image).hexdigest() != self.sha256:
            raise ValueError("sha256 does not match data")
        self._image = image
        return self

    def image_bytes(self) -> bytes:
        """The decoded JPEG."""
        return self._image

    @classmethod
    def from_jpeg(
        cls, jpeg: bytes, *, event_id: str, site: str, camera: str, width: int, height: int
    ) -> "Snapshot":
        """Wrap encoded JPEG bytes for publishing."""
        return cls(
            schema_version=1,
            event_id=event_id,
            site=site,
            camera=camera,
            sha256=hashlib.sha256(jpeg).hexdigest(),
            width=width,
            height=height,
            data=base64.b64encode(jpeg).decode("ascii"),
        )

    @property
    def idempotency_key(self) -> str:
        return f"snapshot:{self.event_id}"
