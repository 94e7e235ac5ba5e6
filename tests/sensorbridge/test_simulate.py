"""The demo's simulated Zigbee sensors: the morning it replays is the last one that has passed,
its check-ins are no activity, and the SOS press is one, as the bridge reads them."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from records.device_registry import DeviceMapping
from records.watchlist_csv.encoding import decode
from sensorbridge.directory import DeviceIndex
from sensorbridge.simulate import DOOR, MOTION, NEWCOMER, SOS, last_morning, quiet_morning, state
from sensorbridge.translate import Incoming, Translator
from tests.records.village import CONFIGS
from tests.sensorbridge.payloads import encode

SHANGHAI = ZoneInfo("Asia/Shanghai")


def demo_translator() -> Translator:
    """The bridge reading the demo's device table (configs/demo/devices.csv)."""
    text, _ = decode((CONFIGS / "demo" / "devices.csv").read_bytes())
    rows = [line.split(",") for line in text.strip().splitlines()[1:]]
    kinds = {"门磁": "door_contact", "人体感应": "motion", "紧急按钮": "sos_button"}
    translator = Translator(["z2m"])
    translator.index = DeviceIndex(
        DeviceMapping("zigbee2mqtt", row[1], row[2], row[3], (kinds[row[4]],), True) for row in rows
    )
    return translator


def test_the_replayed_morning_is_the_last_that_has_passed() -> None:
    after = datetime(2026, 11, 27, 11, 0, tzinfo=SHANGHAI)
    before = datetime(2026, 11, 27, 10, 59, tzinfo=SHANGHAI)
    assert last_morning(after, SHANGHAI).day == 27
    assert last_morning(before, SHANGHAI).day == 26
    assert last_morning(before.astimezone(UTC), SHANGHAI).day == 26


def test_the_story_as_the_bridge_reads_it() -> None:
    now = datetime(2026, 11, 27, 15, 0, tzinfo=SHANGHAI)
    translator = demo_translator()
    readings = []
    for device, message in quiet_morning(now, SHANGHAI):
        translation = translator.translate(Incoming(f"z2m/{device.ieee}", encode(message), now))
        assert translation.dead_letter is None, translation.dead_letter
        readings += translation.readings
    assert {r.device for r in readings} == {"door-wang", "motion-wang"}
    assert not any(r.value for r in readings)  # door shut, no motion: no activity
    assert min(r.observed_at for r in readings) == datetime(2026, 11, 27, 6, 30, tzinfo=SHANGHAI)
    assert max(r.observed_at for r in readings) < datetime(2026, 11, 27, 11, tzinfo=SHANGHAI)
    motion = next(r for r in readings if r.device == "motion-wang")
    assert motion.battery_pct == 15  # its battery asks for a replacement
    press = translator.translate(
        Incoming(f"z2m/{SOS.ieee}", encode(state(SOS, now, action="emergency")), now)
    )
    assert [(r.device, r.value) for r in press.readings] == [("sos-wang", True)]
    newcomer = translator.translate(
        Incoming(f"z2m/{NEWCOMER.ieee}", encode(state(NEWCOMER, now)), now)
    )
    assert newcomer.dead_letter is not None and newcomer.dead_letter.reason == "unknown_device"
    assert {DOOR.name, MOTION.name} == {"wang/front-door", "wang/bedroom-motion"}
