"""Thresholds of the behaviour analysers, per camera."""

from datetime import time

from pydantic import Field

from shouwang.settings import Section


class FallConfig(Section):
    """A person who was up is seen down, the drop was fast, and they stay down."""

    enabled: bool = Field(True, title="Enabled", description="Detect falls on this camera.")
    confirm_s: float = Field(
        0.6,
        ge=0,
        le=30,
        title="Confirm",
        description="Least seconds between the drop and the fall event; the event comes once "
        "the evidence is strong enough (strong evidence: this soon; weak: a few seconds).",
    )
    upright_window_s: float = Field(
        3.0,
        gt=0,
        le=30,
        title="Upright window",
        description="The person must have been up (standing, walking or sitting) within this "
        "many seconds before being seen down: lying down slowly, or lying from the start, "
        "is not a fall.",
    )
    min_drop: float = Field(
        0.55,
        gt=0,
        lt=2,
        title="Neutral drop",
        description="How far a person must come down to be neither evidence for a fall nor "
        "against it, 1 being a typical fall: the largest of the centre's drop (against half "
        "the upright height), the top's drop (0.8 of it) and the shrink of the box (0.65 "
        "of it). Sitting down comes to about 0.5.",
    )
    person_down: bool = Field(
        True,
        title="Person down",
        description="Report `person_down` for anyone lying on the floor outside a `bed`, "
        "`sofa` or `mat` zone for `down_alert_s`, whether or not the fall was seen.",
    )
    down_alert_s: float = Field(
        20.0,
        gt=0,
        title="Down alert",
        description="Seconds a person must lie on the floor before `person_down` starts.",
    )
    long_lie_s: float = Field(
        60.0,
        gt=0,
        title="Long lie",
        description="A person still down this many seconds after a fall or after lying down "
        "gets an update event with `long_lie: true` (and, for a fall, `severity: high`).",
    )
    update_s: float = Field(
        30.0,
        gt=0,
        title="Update interval",
        description="Seconds between update events while the person stays down.",
    )
    recover_s: float = Field(
        3.0,
        gt=0,
        title="Recover",
        description="Seconds a person must be up again, or unseen with movement where they "
        "lay, before the episode ends.",
    )


class LoiteringConfig(Section):
    """A person stays inside a zone longer than a threshold."""

    enabled: bool = Field(True, title="Enabled", description="Detect loitering on this camera.")
    loitering_s: float = Field(
        10.0,
        gt=0,
        title="Loitering threshold",
        description="Seconds a person must dwell inside one zone (time counts only while inside).",
    )
    grace_s: float = Field(
        3.0,
        ge=0,
        title="Grace",
        description="Seconds a person may be unseen or outside before the dwell is reset "
        "and an open episode ends.",
    )
    update_s: float = Field(
        60.0, gt=0, title="Update interval", description="Seconds between update events."
    )


class UnattendedConfig(Section):
    """A child in a hazard zone with no adult near."""

    enabled: bool = Field(
        True,
        title="Enabled",
        description="Detect unattended children (needs a zone tagged as a hazard).",
    )
    hazard_tags: list[str] = Field(
        default_factory=lambda: ["water", "road", "well"],
        title="Hazard tags",
        description="Zones with any of these tags are hazards for children.",
    )
    unattended_s: float = Field(
        20.0,
        gt=0,
        title="Unattended",
        description="Seconds a child must be in a hazard zone with no adult near.",
    )
    companion_radius: float = Field(
        2.0,
        gt=0,
        title="Companion radius",
        description="An adult whose feet are within this many of the child's body heights "
        "counts as company.",
    )
    grace_s: float = Field(
        3.0, ge=0, title="Grace", description="Seconds of absence before an episode ends."
    )


class InactivityConfig(Section):
    """No person and no motion in a `home` zone for a long time, within set hours."""

    enabled: bool = Field(
        False, title="Enabled", description="Watch `home` zones for inactivity (elders alone)."
    )
    inactive_s: float = Field(
        4 * 3600.0,
        gt=0,
        title="Inactive",
        description="Seconds without a person or motion in a `home` zone before the event.",
    )
    start: time = Field(
        time(7, 0), title="Start", description="Local time from which inactivity counts."
    )
    end: time = Field(
        time(21, 0), title="End", description="Local time until which inactivity counts."
    )
    tag: str = Field("home", title="Tag", description="Zones watched carry this tag.")


class CalibrationConfig(Section):
    """Expected standing adult height at two image rows, as fractions of the image height."""

    row_near: float = Field(
        ...,
        ge=0,
        le=1,
        title="Near row",
        description="An image row (fraction of height) near the camera, e.g. 0.9.",
    )
    adult_height_near: float = Field(
        ...,
        gt=0,
        le=1,
        title="Adult height near",
        description="A standing adult's height at `row_near`, as a fraction of image height.",
    )
    row_far: float = Field(
        ..., ge=0, le=1, title="Far row", description="An image row farther away, e.g. 0.4."
    )
    adult_height_far: float = Field(
        ...,
        gt=0,
        le=1,
        title="Adult height far",
        description="A standing adult's height at `row_far`, as a fraction of image height.",
    )
    child_ratio: float = Field(
        0.75,
        gt=0,
        lt=1,
        title="Child ratio",
        description="A standing person shorter than this fraction of the expected adult "
        "height is taken for a child (1.2 m against 1.6 m).",
    )
