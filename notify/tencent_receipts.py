"""Tencent Cloud SMS delivery receipts with the official SDK: 短信 PullSmsSendStatus (sms
2021-01-11) hands out the account's receipts not pulled before, up to 100 a request, each only
once. 语音消息 has no pull API (its receipts are callbacks only), so calls get none."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.sms.v20210111 import models as sms_models
from tencentcloud.sms.v20210111.sms_client import SmsClient

from notify.receipts import Receipt, ReceiptError, UnreadableReceipt
from notify.settings import SmsSection
from notify.tencent import SMS_ENDPOINT, TencentAccount
from records.notifications import DeliveryReceipt

log = structlog.get_logger("shouwang.notify")

PAGE = 100
"""Most receipts one PullSmsSendStatus hands out (its `Limit`)."""
MAX_PULLS = 10
"""Pulls in one round while full pages come back."""
REPORT_STATUS = {"SUCCESS": DeliveryReceipt.DELIVERED, "FAIL": DeliveryReceipt.UNDELIVERED}


def sms_receipt(status: Any) -> Receipt:
    """The receipt in one `PullSmsSendStatus` entry."""
    serial, report = status.SerialNo, status.ReportStatus
    if not serial or not isinstance(serial, str):
        raise UnreadableReceipt(f"SerialNo {serial!r} is not an id")
    if report not in REPORT_STATUS:
        raise UnreadableReceipt(f"ReportStatus {report!r} is not SUCCESS or FAIL")
    received = status.UserReceiveTime
    at = datetime.fromtimestamp(received, UTC) if isinstance(received, int) and received else None
    return Receipt(serial, REPORT_STATUS[report], str(status.Description or ""), at)


class TencentSmsReceipts(TencentAccount):
    """Receipts of texts sent through Tencent Cloud 短信."""

    def __init__(self, section: SmsSection, timeout_s: float) -> None:
        super().__init__(section, SMS_ENDPOINT, ZoneInfo("UTC"), timeout_s)

    def pull(self) -> list[Receipt]:
        """The receipts not pulled before. Raises `ReceiptError` when the first pull fails; a
        later one failing ends the round with what was pulled."""
        client = SmsClient(self.credential, self.section.region, self.profile())
        receipts: list[Receipt] = []
        for page in range(MAX_PULLS):
            request = sms_models.PullSmsSendStatusRequest()
            request.SmsSdkAppId, request.Limit = self.section.app_id, PAGE
            try:
                statuses = client.PullSmsSendStatus(request).PullSmsSendStatusSet or []
            except TencentCloudSDKException as exc:
                error = f"{exc.get_code()}: {exc.get_message()}"
                if page == 0:
                    raise ReceiptError(error) from exc
                log.warning("receipt pull failed, will retry", channel="sms", error=error)
                break
            for status in statuses:
                try:
                    receipts.append(sms_receipt(status))
                except UnreadableReceipt as exc:
                    log.error("receipt unreadable, left out", channel="sms", error=str(exc))
            if len(statuses) < PAGE:
                break
        return receipts
