"""Zones: polygons on a camera's image, with tags that analysers and rules act on."""

from typing import Annotated

from pydantic import Field, field_validator

from shouwang.contracts.common import DisplayName, Tag
from shouwang.settings import Section

Point = Annotated[
    tuple[Annotated[float, Field(ge=0, le=1)], Annotated[float, Field(ge=0, le=1)]],
    Field(description="x, y as fractions of the image width and height (0..1, y down)."),
]


class ZoneConfig(Section):
    """A polygon zone. Membership is decided by the bottom-centre of a person's box."""

    name: DisplayName | None = Field(
        None,
        title="Name",
        description="What people call the zone (床, 院门口): sent in events and shown "
        "instead of its id.",
    )
    polygon: list[Point] = Field(
        title="Polygon",
        description="Three or more corners, normalised to 0..1 so that the main stream and "
        "the sub-stream share one definition. Draw them on `shouwang edge analyze --out`.",
        min_length=3,
    )
    tags: list[Tag] = Field(
        default_factory=list,
        title="Tags",
        description="What the zone is: `water`, `road`, `well` (hazards for unattended "
        "children), `bed`, `sofa`, `mat` (places to lie down: no fall or person_down), "
        "`home` (inactivity), `door`, … Sent in events.",
        max_length=16,
    )
    loitering: bool = Field(
        True, title="Loitering", description="Raise loitering events for this zone."
    )

    @field_validator("polygon")
    @classmethod
    def _has_area(cls, polygon: list[tuple[float, float]]) -> list[tuple[float, float]]:
        xs = [p[0] for p in polygon]
        ys = [p[1] for p in polygon]
        area = 0.5 * abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(polygon))))
        if area <= 0:
            raise ValueError("polygon has no area (its corners are on one line)")
        return polygon


WHOLE_FRAME = ZoneConfig(polygon=[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)])
"""The zone used when a camera has none: the whole image."""
