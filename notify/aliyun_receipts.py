"""Aliyun delivery receipts, looked up one message at a time with the official SDKs:
短信服务 QuerySendDetails (by number, BizId and send date; kept 30 days) and 语音服务
QueryCallDetailByCallId (by CallId, for 语音通知)."""

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client as SmsClient
from alibabacloud_dyvmsapi20170525 import models as voice_models
from alibabacloud_dyvmsapi20170525.client import Client as VoiceClient

from notify.aliyun import SMS_ENDPOINT, VOICE_ENDPOINT, AliyunAccount
from notify.receipts import Awaiting, Receipt, ReceiptError, UnreadableReceipt
from notify.settings import SmsSection, VoiceSection
from records.notifications import DeliveryReceipt

BEIJING = ZoneInfo("Asia/Shanghai")
"""The vendor's dates (SendDate, ReceiveDate, a call's endDate) are Beijing time."""
SEND_STATUS = {2: DeliveryReceipt.UNDELIVERED, 3: DeliveryReceipt.DELIVERED}
"""QuerySendDetails `SendStatus`: 1 等待回执 (no receipt yet), 2 发送失败, 3 发送成功."""
VOICE_NOTICE = 11000000300006
"""`ProdId` of 语音通知 (calls placed with SingleCallByTts)."""
ANSWERED = frozenset({"200000", "200001"})
"""Call states of a call picked up: 用户听完语音, 用户提前挂机未完整收听."""
RINGING = frozenset({"", "200100", "200101", "200102", "200103", "200201"})
"""Call states of a call not over yet (or no state): its receipt is still to come. Every
other state (200002 占线, 200003 未接听, 200005 无法接通, 200010 关机, 200011 停机…) is a
call that did not reach the person."""
QUERY_BEFORE = timedelta(minutes=5)
"""QueryCallDetailByCallId looks 24 h from `QueryDate`: start a little before the call."""


def _time(text: object) -> datetime | None:
    try:
        return datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError:
        return None


def _call(call: Any) -> Any:
    """The answer's body; raises `ReceiptError` unless its `Code` is OK."""
    try:
        body = call().body
    except Exception as exc:  # the SDK raises for HTTP errors and the network alike
        code = getattr(exc, "code", None) or type(exc).__name__
        raise ReceiptError(f"{code}: {getattr(exc, 'message', None) or exc}"[:500]) from exc
    if body.code != "OK":
        raise ReceiptError(f"{body.code}: {body.message}")
    return body


def sms_receipt(vendor_id: str, detail: Any) -> Receipt | None:
    """The receipt in one `SmsSendDetailDTO` (None while 等待回执)."""
    status = detail.send_status
    if status == 1:
        return None
    if status not in SEND_STATUS:
        raise UnreadableReceipt(f"SendStatus {status!r} is not 1, 2 or 3")
    code = str(detail.err_code or "")
    return Receipt(vendor_id, SEND_STATUS[status], code, _time(detail.receive_date))


def call_receipt(vendor_id: str, data: object) -> Receipt | None:
    """The receipt in QueryCallDetailByCallId's `Data` (a JSON text; None while the call is
    not over, or not found yet)."""
    if not data:
        return None
    try:
        call = json.loads(str(data))
    except ValueError as exc:
        raise UnreadableReceipt(f"Data is not JSON: {exc}") from None
    if not isinstance(call, dict):
        raise UnreadableReceipt(f"Data is not an object: {str(data)[:100]}")
    state = str(call.get("state") or "")
    if state in RINGING:
        return None
    receipt = DeliveryReceipt.ANSWERED if state in ANSWERED else DeliveryReceipt.UNANSWERED
    ended = _time(call.get("endDate")) or _time(call.get("bEndTime"))
    return Receipt(vendor_id, receipt, state, ended)


class AliyunSmsReceipts(AliyunAccount):
    """Receipts of texts sent through Aliyun 短信服务."""

    def __init__(self, section: SmsSection, timeout_s: float) -> None:
        super().__init__(section, SMS_ENDPOINT, BEIJING, timeout_s)

    def look_up(self, awaiting: Awaiting) -> Receipt | None:
        """The receipt of the text accepted as BizId `awaiting.vendor_id`."""
        request = sms_models.QuerySendDetailsRequest(
            phone_number=awaiting.address,
            biz_id=awaiting.vendor_id,
            send_date=awaiting.sent_at.astimezone(BEIJING).strftime("%Y%m%d"),
            page_size=10,
            current_page=1,
        )
        client = SmsClient(self.config)
        body = _call(lambda: client.query_send_details_with_options(request, self.runtime))
        details = body.sms_send_detail_dtos.sms_send_detail_dto if body.sms_send_detail_dtos else []
        return sms_receipt(awaiting.vendor_id, details[0]) if details else None


class AliyunVoiceReceipts(AliyunAccount):
    """Receipts of calls placed through Aliyun 语音服务 (语音通知)."""

    def __init__(self, section: VoiceSection, timeout_s: float) -> None:
        super().__init__(section, VOICE_ENDPOINT, BEIJING, timeout_s)

    def look_up(self, awaiting: Awaiting) -> Receipt | None:
        """The receipt of the call accepted as CallId `awaiting.vendor_id`."""
        request = voice_models.QueryCallDetailByCallIdRequest(
            call_id=awaiting.vendor_id,
            prod_id=VOICE_NOTICE,
            query_date=int((awaiting.sent_at - QUERY_BEFORE).timestamp() * 1000),
        )
        client = VoiceClient(self.config)
        body = _call(
            lambda: client.query_call_detail_by_call_id_with_options(request, self.runtime)
        )
        return call_receipt(awaiting.vendor_id, body.data)
