"""The pure parts: back-off, target names, push service answers, settings checks."""

import pytest
import requests

from notify.retry import Backoff
from notify.settings import NotifierSettings, RetrySection
from notify.targets import apprise_channel, redact
from notify.webpush import classify
from shouwang.settings import ConfigError
from shouwang_cli.config_docs import settings_reference


def test_back_off_doubles_up_to_the_cap_and_gives_up() -> None:
    section = RetrySection(
        initial_delay_s=5, multiplier=2, max_delay_s=30, max_attempts=6, jitter=0
    )
    backoff = Backoff(section)
    assert [backoff.delay_s(n) for n in range(1, 7)] == [5, 10, 20, 30, 30, None]
    assert backoff.delay_s(1, retry_after_s=120) == 30  # Retry-After, but never past the cap
    assert backoff.delay_s(2, retry_after_s=12) == 12


def test_back_off_jitter_stays_within_its_fraction() -> None:
    section = RetrySection(initial_delay_s=10, jitter=0.2)
    assert Backoff(section, rng=lambda low, high: high).delay_s(1) == 12
    assert Backoff(section, rng=lambda low, high: low).delay_s(1) == 8


@pytest.mark.parametrize(
    ("url", "channel"),
    [
        ("dingtalk://secret@token/", "dingtalk"),
        ("WECOMBOT://key", "wecombot"),
        ("mailtos://user:pass@example.org", "mailtos"),
        ("webpush", None),
        ("13800000001", None),
        ("://nothing", None),
    ],
)
def test_apprise_channel(url: str, channel: str | None) -> None:
    assert apprise_channel(url) == channel


def test_redact_keeps_tokens_out_of_logs() -> None:
    assert redact("dingtalk://secret@token123/13800000001") == "dingtalk://token123/…"
    assert redact("wecombot://abcdef-key") == "wecombot://abcdef-key/…"
    assert redact("https://fcm.googleapis.com/fcm/send/XYZ") == "https://fcm.googleapis.com/…"
    assert redact("") == "(none)"


def _response(status: int, retry_after: str = "") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.reason = "scripted"
    response._content = b""
    if retry_after:
        response.headers["Retry-After"] = retry_after
    return response


def test_push_service_answers() -> None:
    assert classify(_response(201)).ok
    gone = classify(_response(410))
    assert (gone.ok, gone.gone, gone.recoverable) == (False, True, False)
    assert classify(_response(404)).gone
    limited = classify(_response(429, "17"))
    assert (limited.recoverable, limited.retry_after_s) == (True, 17)
    assert classify(_response(502)).recoverable
    for status in (400, 403, 413):
        result = classify(_response(status))
        assert not result.ok and not result.recoverable and not result.gone


def test_settings_are_checked_with_the_key_path() -> None:
    with pytest.raises(ConfigError, match=r"notify: Value error, lease_s 5\.0 must exceed"):
        NotifierSettings.load(notify={"lease_s": 5, "timeout_s": 10})
    with pytest.raises(ConfigError, match=r"notify_webpush\.urgency"):
        NotifierSettings.load(notify_webpush={"urgency": {"critical": "asap"}})
    with pytest.raises(ConfigError, match=r"notify\.timezone"):
        NotifierSettings.load(notify={"timezone": "Mars/Olympus"})


def test_every_setting_is_documented() -> None:
    reference = settings_reference("Notifier", NotifierSettings, "SHOUWANG_")
    for section in ("notify", "notify_retry", "notify_webpush", "database"):
        assert f"### `{section}`" in reference
    for name in ("notify", "notify_retry", "notify_webpush"):
        model = NotifierSettings.model_fields[name].annotation
        assert model is not None
        assert all(field.description for field in model.model_fields.values())  # type: ignore[union-attr]
