"""Delivery receipts (回执) read from the vendors' query APIs, against the local vendor: a text
delivered or not, a call answered or not, recorded on the delivery; a text not delivered or a
call not answered hands the job to the next channel at once; Tencent Cloud's one-shot pull is
recorded before anything else can fail; vendor errors and bodies that cannot be read lose
nothing; receipts for messages this deployment did not send are ignored."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import redis
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from structlog.testing import capture_logs

from notify import receipt_poller
from notify.worker import Notifier
from records.notifications import Delivery, DeliveryOutcome, DeliveryReceipt
from tests.notify.builders import T0, Clock, job, publish
from tests.notify.conftest import Names
from tests.notify.drive import settle
from tests.notify.test_delivery import deliveries
from tests.notify.test_sms_voice import VOICE_ACTION, cloud
from tests.notify.vendors import TENCENT_APP, Vendors

PROVIDERS = ["aliyun", "tencent"]
QUERY = {"aliyun": "QuerySendDetails", "tencent": "PullSmsSendStatus"}
DELIVERED_CODE = {"aliyun": "DELIVERED", "tencent": "DELIVRD"}
INTERVAL_S = 30


def by_channel(sessions: sessionmaker[Session]) -> dict[str, Delivery]:
    return {d.channel: d for d in deliveries(sessions)}


def sent_id(sessions: sessionmaker[Session], channel: str) -> str:
    """The vendor's id of the accepted delivery of `channel`."""
    row = by_channel(sessions)[channel]
    assert row.outcome == DeliveryOutcome.SENT and row.vendor_id, (row.outcome, row.last_error)
    return row.vendor_id


def fail_once(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make `receipt_poller.<name>` raise a database outage the first time it is called."""
    real = getattr(receipt_poller, name)
    calls = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))
        return real(*args, **kwargs)

    monkeypatch.setattr(receipt_poller, name, flaky)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_delivered_sms_gets_its_receipt_and_keeps_its_outcome(
    provider: str,
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
    clock: Clock,
) -> None:
    notifier = notifier_for(sections=cloud(vendors, provider))
    publish(redis_client, names.stream, job("sms", "[10m] voice"))
    settle(notifier)
    vendor_id = sent_id(sessions, "sms")

    clock.advance(INTERVAL_S)  # asked: no receipt yet (Aliyun SendStatus 1 等待回执)
    settle(notifier)
    assert by_channel(sessions)["sms"].receipt is None
    vendors.receipt(vendor_id, "delivered")
    received = clock.now
    clock.advance(INTERVAL_S)
    settle(notifier)

    rows = by_channel(sessions)
    sms = rows["sms"]
    assert (sms.outcome, sms.receipt, sms.receipt_code) == (
        DeliveryOutcome.SENT,
        DeliveryReceipt.DELIVERED,
        DELIVERED_CODE[provider],
    )
    assert sms.receipt_at == received
    assert rows["voice"].next_attempt_at == T0 + timedelta(minutes=10)  # delivered: it waits
    assert notifier.metrics.receipts.labels("sms", "delivered")._value.get() == 1
    queries = vendors.of(QUERY[provider])
    if provider == "aliyun":
        assert len(queries) == 2
        assert {k: queries[-1].params[k] for k in ("PhoneNumber", "BizId", "SendDate")} == {
            "PhoneNumber": "13800000001",
            "BizId": vendor_id,
            "SendDate": "20261128",
        }
    else:
        assert queries[-1].params == {"SmsSdkAppId": TENCENT_APP, "Limit": 100}
    clock.advance(INTERVAL_S)
    settle(notifier)
    if provider == "aliyun":  # a text with its receipt is not asked about again
        assert len(vendors.of("QuerySendDetails")) == 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_undelivered_sms_hands_over_to_the_next_channel_at_once(
    provider: str,
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
    clock: Clock,
) -> None:
    notifier = notifier_for(sections=cloud(vendors, provider))
    publish(redis_client, names.stream, job("sms", "[10m] voice"))
    settle(notifier)
    vendors.receipt(sent_id(sessions, "sms"), "undelivered")
    clock.advance(INTERVAL_S)
    settle(notifier)

    rows = by_channel(sessions)
    assert (rows["sms"].outcome, rows["sms"].receipt, rows["sms"].receipt_code) == (
        DeliveryOutcome.SENT,
        DeliveryReceipt.UNDELIVERED,
        "UNDELIV",
    )
    assert (rows["voice"].outcome, rows["voice"].sent_at) == (DeliveryOutcome.SENT, clock.now)
    assert [c.action for c in vendors.sends] == ["SendSms", VOICE_ACTION[provider]]
    assert notifier.metrics.handed_over._value.get() == 1


@pytest.mark.parametrize(
    ("fate", "receipt", "code", "handed_over"),
    [
        ("unanswered", DeliveryReceipt.UNANSWERED, "200003", True),
        ("busy", DeliveryReceipt.UNANSWERED, "200002", True),
        ("switched_off", DeliveryReceipt.UNANSWERED, "200010", True),
        ("answered", DeliveryReceipt.ANSWERED, "200000", False),
        ("hung_up", DeliveryReceipt.ANSWERED, "200001", False),
    ],
)
def test_a_call_not_answered_hands_over_and_an_answered_one_does_not(
    fate: str,
    receipt: DeliveryReceipt,
    code: str,
    handed_over: bool,
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
    clock: Clock,
) -> None:
    notifier = notifier_for(sections=cloud(vendors, "aliyun"))
    publish(redis_client, names.stream, job("voice", "[10m] sms"))
    settle(notifier)
    call_id = sent_id(sessions, "voice")
    clock.advance(INTERVAL_S)  # still ringing: no call detail yet
    settle(notifier)
    vendors.receipt(call_id, fate)
    clock.advance(INTERVAL_S)
    settle(notifier)

    rows = by_channel(sessions)
    assert (rows["voice"].receipt, rows["voice"].receipt_code) == (receipt, code)
    assert (rows["sms"].outcome == DeliveryOutcome.SENT) is handed_over
    [*_, query] = vendors.of("QueryCallDetailByCallId")
    assert (query.params["CallId"], query.params["ProdId"]) == (call_id, "11000000300006")
    assert int(query.params["QueryDate"]) <= T0.timestamp() * 1000


def test_tencent_calls_get_no_receipt_and_are_not_asked_about(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
    clock: Clock,
) -> None:
    notifier = notifier_for(sections=cloud(vendors, "tencent"))
    publish(redis_client, names.stream, job("voice"))
    settle(notifier)
    clock.advance(INTERVAL_S)
    settle(notifier)

    [row] = deliveries(sessions)
    assert (row.outcome, row.receipt) == (DeliveryOutcome.SENT, None)
    [call] = vendors.of("SendTtsVoice")
    assert row.vendor_id == call.answer["Response"]["SendStatus"]["CallId"]
    pull = "PullSmsSendStatus"  # the SMS vendor's, before and after the call
    assert [c.action for c in vendors.calls] == [pull, "SendTtsVoice", pull]


def test_tencent_pulled_receipts_are_recorded_when_handing_over_fails(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    notifier = notifier_for(sections=cloud(vendors, "tencent"))
    publish(redis_client, names.stream, job("sms", "[10m] voice"))
    settle(notifier)
    vendors.receipt(sent_id(sessions, "sms"), "undelivered")
    fail_once(monkeypatch, "fall_back")
    clock.advance(INTERVAL_S)
    with pytest.raises(OperationalError):
        settle(notifier)

    rows = by_channel(sessions)
    assert rows["sms"].receipt == DeliveryReceipt.UNDELIVERED  # recorded before the hand-over
    assert rows["voice"].outcome == DeliveryOutcome.PENDING
    assert vendors.unpulled == []
    settle(notifier)  # the worker's next round, after the outage
    assert by_channel(sessions)["voice"].outcome == DeliveryOutcome.SENT
    assert len(vendors.of("PullSmsSendStatus")) == 2


def test_tencent_pulled_receipts_wait_out_a_database_outage(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    notifier = notifier_for(sections=cloud(vendors, "tencent"))
    publish(redis_client, names.stream, job("sms", "[10m] voice"))
    settle(notifier)
    vendors.receipt(sent_id(sessions, "sms"), "undelivered")
    fail_once(monkeypatch, "record_receipts")
    clock.advance(INTERVAL_S)
    with pytest.raises(OperationalError):
        settle(notifier)
    assert vendors.unpulled == [] and by_channel(sessions)["sms"].receipt is None

    settle(notifier)  # no new round is due: what the pull handed out is recorded now
    rows = by_channel(sessions)
    assert (rows["sms"].receipt, rows["voice"].outcome) == (
        DeliveryReceipt.UNDELIVERED,
        DeliveryOutcome.SENT,
    )
    assert len(vendors.of("PullSmsSendStatus")) == 2


@pytest.mark.parametrize(
    ("provider", "fault"), [("aliyun", "system_error"), ("tencent", "timeout")]
)
def test_a_vendor_error_while_asking_is_logged_and_asked_again_losing_nothing(
    provider: str,
    fault: str,
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
    clock: Clock,
) -> None:
    notifier = notifier_for(sections=cloud(vendors, provider))
    publish(redis_client, names.stream, job("sms"))
    settle(notifier)
    vendors.receipt(sent_id(sessions, "sms"), "delivered")
    vendors.script(QUERY[provider], fault)
    clock.advance(INTERVAL_S)
    with capture_logs() as logs:
        settle(notifier)

    assert by_channel(sessions)["sms"].receipt is None
    [warning] = [e for e in logs if e["event"] == "asking for receipts failed, will ask again"]
    assert warning["channel"] == "sms"
    assert warning["error"].startswith("isp.SYSTEM_ERROR" if provider == "aliyun" else "Internal")
    assert notifier.metrics.receipt_errors.labels("sms")._value.get() == 1
    clock.advance(INTERVAL_S)
    settle(notifier)
    assert by_channel(sessions)["sms"].receipt == DeliveryReceipt.DELIVERED


def test_receipts_for_serial_numbers_of_no_delivery_are_ignored_with_a_log_line(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
    clock: Clock,
) -> None:
    notifier = notifier_for(sections=cloud(vendors, "tencent"))
    publish(redis_client, names.stream, job("sms", "[10m] voice"))
    settle(notifier)
    vendors.foreign_receipt("5000:2045710669157053657849499619", "undelivered")
    vendors.unpulled.append({"ReportStatus": "SUCCESS", "Description": "DELIVRD"})  # no SerialNo
    vendors.receipt(sent_id(sessions, "sms"), "delivered")
    clock.advance(INTERVAL_S)
    with capture_logs() as logs:
        settle(notifier)

    rows = by_channel(sessions)
    assert rows["sms"].receipt == DeliveryReceipt.DELIVERED
    assert rows["voice"].outcome == DeliveryOutcome.PENDING  # nobody's undelivered text
    [ignored] = [e for e in logs if e["event"] == "receipt for no known delivery, ignored"]
    assert ignored["vendor_id"] == "5000:2045710669157053657849499619"
    [unreadable] = [e for e in logs if e["event"] == "receipt unreadable, left out"]
    assert "SerialNo None" in unreadable["error"]
    assert notifier.metrics.receipts_unmatched.labels("sms")._value.get() == 1


def test_a_call_detail_that_cannot_be_read_is_logged_and_asked_about_again(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
    clock: Clock,
) -> None:
    notifier = notifier_for(sections=cloud(vendors, "aliyun"))
    publish(redis_client, names.stream, job("voice"))
    settle(notifier)
    vendors.receipt(sent_id(sessions, "voice"), "answered")
    vendors.script("QueryCallDetailByCallId", "garbled")
    clock.advance(INTERVAL_S)
    with capture_logs() as logs:
        settle(notifier)

    assert by_channel(sessions)["voice"].receipt is None
    [error] = [e for e in logs if e["event"] == "receipt unreadable, will ask again"]
    assert error["error"].startswith("Data is not JSON")
    clock.advance(INTERVAL_S)
    settle(notifier)
    assert by_channel(sessions)["voice"].receipt == DeliveryReceipt.ANSWERED


def test_receipts_are_looked_for_only_within_the_window(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
    clock: Clock,
) -> None:
    sections = cloud(vendors, "aliyun") | {"notify_receipts": {"window_s": 60}}
    notifier = notifier_for(sections=sections)
    publish(redis_client, names.stream, job("sms"))
    settle(notifier)
    clock.advance(INTERVAL_S)
    settle(notifier)
    clock.advance(2 * INTERVAL_S + 1)
    vendors.receipt(sent_id(sessions, "sms"), "delivered")
    settle(notifier)

    assert by_channel(sessions)["sms"].receipt is None
    assert len(vendors.of("QuerySendDetails")) == 1
