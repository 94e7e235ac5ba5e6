"""The cloud vendors and group robots, played locally: one HTTP server that checks each request
as the vendor does — the signature (Aliyun ACS3-HMAC-SHA256, Tencent Cloud TC3-HMAC-SHA256,
DingTalk and Feishu signs, WeCom's key), the account's approved signature and templates with
their parameters, the phone numbers — and answers with the vendor's own bodies. Faults the
vendor decides on its side (throttling, an empty balance) are scripted per action.

Every accepted text and call gets its own id (BizId, CallId, SerialNo); the test says what
became of it (`receipt`), and the query APIs answer about it as the vendors do: Aliyun
QuerySendDetails and QueryCallDetailByCallId as often as asked, Tencent Cloud
PullSmsSendStatus handing out each receipt once."""

import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit
from zoneinfo import ZoneInfo

ALIYUN_KEY = ("LTAI5tShouwangTest", "aliyun-secret-for-tests")
TENCENT_KEY = ("AKIDShouwangTest", "tencent-secret-for-tests")
SIGN_NAME = "守望平安"
ALIYUN_TEMPLATES = {
    "SMS_468000001": {"severity", "title", "time"},
    "SMS_468000002": {"lead", "severity", "title", "place", "time"},
    "TTS_300000001": {"title"},
}
TENCENT_APP = "1400006666"
TENCENT_TEMPLATES = {"2000001": 3, "2000002": 5, "3000001": 1}
"""Template id → number of parameters."""
DINGTALK = ("dt-token", "SECdingtalk-secret")
WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
FEISHU = ("fs-token", "feishu-secret")
MOBILE = r"1[3-9]\d{9}"

ALIYUN_FAULTS = {
    "throttled": ("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"),
    "daily_limit": ("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10"),
    "no_balance": ("isv.AMOUNT_NOT_ENOUGH", "账户余额不足"),
    "system_error": ("isp.SYSTEM_ERROR", "系统错误"),
}
TENCENT_FAULTS = {
    "throttled": (
        "LimitExceeded.PhoneNumberThirtySecondLimit",
        "单个手机号30秒内下发短信条数超过设定的上限",
    ),
    "daily_limit": (
        "LimitExceeded.PhoneNumberDailyLimit",
        "单个手机号日下发短信条数超过设定的上限",
    ),
    "no_balance": ("FailedOperation.InsufficientBalanceInSmsPackage", "套餐包余量不足"),
    "voice_throttled": ("LimitExceeded.DeliveryFrequencyLimit", "下发语音消息时命中频率限制策略"),
    "voice_no_balance": ("FailedOperation.InsufficientBalanceInVoicePackage", "套餐包余量不足"),
    "timeout": ("InternalError.Timeout", "请求下发短信超时，请参考60秒后重试。"),
}
BEIJING = ZoneInfo("Asia/Shanghai")
QUERIES = frozenset({"QuerySendDetails", "QueryCallDetailByCallId", "PullSmsSendStatus"})
TENCENT_SMS_ACTIONS = frozenset({"SendSms", "PullSmsSendStatus"})
VOICE_NOTICE = "11000000300006"
ALIYUN_SMS_RECEIPTS = {"delivered": (3, "DELIVERED"), "undelivered": (2, "UNDELIV")}
"""What became of a text → QuerySendDetails `SendStatus` and `ErrCode`."""
ALIYUN_CALL_STATES = {
    "answered": ("200000", "用户听完语音"),
    "hung_up": ("200001", "用户提前挂机未完整收听"),
    "busy": ("200002", "用户占线"),
    "unanswered": ("200003", "用户收到呼叫但未接听"),
    "switched_off": ("200010", "关机"),
}
"""What became of a call → QueryCallDetailByCallId `state` and `stateDesc`."""
TENCENT_SMS_RECEIPTS = {"delivered": ("SUCCESS", "DELIVRD"), "undelivered": ("FAIL", "UNDELIV")}
"""What became of a text → PullSmsSendStatus `ReportStatus` and `Description`."""
ROBOT_FAULTS = {
    "dingtalk": {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"},
    "wecom": {
        "errcode": 45009,
        "errmsg": "api freq out of limit, hint: [1700000000_1_x], from ip: 127.0.0.1",
    },
    "feishu": {
        "code": 11232,
        "data": {},
        "msg": "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]",
    },
}


@dataclass(frozen=True)
class Call:
    """One request the vendor accepted for checking, what it made of it, and its answer."""

    vendor: str
    action: str
    params: dict[str, Any]
    answer: dict[str, Any]
    status: int

    @property
    def code(self) -> Any:
        answer = self.answer.get("Response", self.answer)
        if "Error" in answer:
            return answer["Error"]["Code"]
        if "SendStatusSet" in answer:
            return answer["SendStatusSet"][0]["Code"]
        for name in ("Code", "errcode", "code"):
            if name in answer:
                return answer[name]
        return None


@dataclass
class Sent:
    """A text or call the vendor accepted, and what became of it (None: nothing yet)."""

    action: str
    number: str
    at: datetime
    context: str
    fate: str | None = None
    fate_at: datetime | None = None


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Vendors:
    """The server's state: scripted faults per action, every call, the texts and calls
    accepted (by their id), and Tencent Cloud's receipts not pulled yet."""

    port: int = 0
    clock: Callable[[], datetime] = _now
    """The vendors' time: when a text was sent, a receipt came (the test's clock)."""
    faults: dict[str, list[str]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    sent: dict[str, Sent] = field(default_factory=dict)
    unpulled: list[dict[str, Any]] = field(default_factory=list)
    """PullSmsSendStatus entries not handed out yet."""
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def sends(self) -> list[Call]:
        """The calls that were not receipt queries."""
        with self.lock:
            return [c for c in self.calls if c.action not in QUERIES]

    def accept(self, action: str, number: str, context: str, vendor_id: str) -> str:
        """Remember an accepted text or call under `vendor_id`."""
        with self.lock:
            self.sent[vendor_id] = Sent(action, number, self.clock(), context)
        return vendor_id

    def next_id(self) -> int:
        with self.lock:
            return next(self.numbers)

    def receipt(self, vendor_id: str, fate: str) -> None:
        """What became of the text or call accepted as `vendor_id` (`delivered`,
        `undelivered`; `answered`, `hung_up`, `busy`, `unanswered`, `switched_off`)."""
        with self.lock:
            sent = self.sent[vendor_id]
            sent.fate, sent.fate_at = fate, self.clock()
            if sent.action == "SendSms" and vendor_id.startswith("5000:"):
                self.unpulled.append(tencent_report(vendor_id, sent))

    def foreign_receipt(self, serial: str, fate: str) -> None:
        """A Tencent Cloud receipt for a text this deployment did not send (another system
        on the same SmsSdkAppId)."""
        sent = Sent("SendSms", "13900000009", self.clock(), "", fate, self.clock())
        with self.lock:
            self.unpulled.append(tencent_report(serial, sent))

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, action: str, *faults: str) -> None:
        """Answer the next requests of `action` (SendSms, SingleCallByTts, SendTtsVoice, the
        queries, dingtalk, wecom, feishu) with these faults in order (`ok` for a normal
        answer)."""
        self.faults[action] = list(faults)

    def of(self, action: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.action == action]

    def fault(self, action: str) -> str:
        with self.lock:
            queue = self.faults.get(action)
            return queue.pop(0) if queue else "ok"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def aliyun_signature_ok(
    method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
) -> str:
    """Why an ACS3-HMAC-SHA256 request is refused ("" if it is not)."""
    auth = headers.get("authorization", "")
    if not auth.startswith("ACS3-HMAC-SHA256 "):
        return "IncompleteSignature"
    fields = dict(part.split("=", 1) for part in auth[len("ACS3-HMAC-SHA256 ") :].split(","))
    if fields.get("Credential") != ALIYUN_KEY[0]:
        return "InvalidAccessKeyId.NotFound"
    if headers.get("x-acs-content-sha256") != _sha256(body):
        return "SignatureDoesNotMatch"
    sent = datetime.strptime(headers.get("x-acs-date", ""), "%Y-%m-%dT%H:%M:%SZ")
    if abs(sent.replace(tzinfo=UTC).timestamp() - time.time()) > 900:
        return "SignatureDoesNotMatch"
    signed = fields["SignedHeaders"].split(";")
    if not {"host", "x-acs-action", "x-acs-date", "x-acs-signature-nonce"} <= set(signed):
        return "IncompleteSignature"
    canonical_query = "&".join(
        f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(query.items())
    )
    canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in signed)
    canonical = "\n".join(
        [method, path, canonical_query, canonical_headers, ";".join(signed), _sha256(body)]
    )
    to_sign = f"ACS3-HMAC-SHA256\n{_sha256(canonical.encode())}"
    expected = hmac.new(ALIYUN_KEY[1].encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return "" if hmac.compare_digest(expected, fields["Signature"]) else "SignatureDoesNotMatch"


def tencent_signature_ok(headers: dict[str, str], body: bytes, service: str) -> str:
    """Why a TC3-HMAC-SHA256 request is refused ("" if it is not)."""
    auth = headers.get("authorization", "")
    if not auth.startswith("TC3-HMAC-SHA256 "):
        return "AuthFailure.InvalidAuthorization"
    fields = dict(p.strip().split("=", 1) for p in auth[len("TC3-HMAC-SHA256 ") :].split(","))
    secret_id, date, scope_service, terminator = fields["Credential"].split("/")
    if secret_id != TENCENT_KEY[0]:
        return "AuthFailure.SecretIdNotFound"
    timestamp = headers.get("x-tc-timestamp", "0")
    if abs(int(timestamp) - time.time()) > 300:
        return "AuthFailure.SignatureExpire"
    if scope_service != service or terminator != "tc3_request":
        return "AuthFailure.SignatureFailure"
    if datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d") != date:
        return "AuthFailure.SignatureFailure"
    signed = fields["SignedHeaders"].split(";")
    canonical_headers = "".join(f"{name}:{headers[name].strip().lower()}\n" for name in signed)
    canonical = "\n".join(["POST", "/", "", canonical_headers, ";".join(signed), _sha256(body)])
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{_sha256(canonical.encode())}"
    key = _hmac(_hmac(_hmac(f"TC3{TENCENT_KEY[1]}".encode(), date), service), "tc3_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(expected, fields["Signature"])
    return "" if ok else "AuthFailure.SignatureFailure"


def _request_id() -> str:
    return str(uuid.uuid4()).upper()


def _beijing(at: datetime | None) -> str:
    return at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") if at else ""


def tencent_report(serial: str, sent: Sent) -> dict[str, Any]:
    """A PullSmsSendStatus entry about the text `sent` as `serial`."""
    status, description = TENCENT_SMS_RECEIPTS[sent.fate or ""]
    return {
        "UserReceiveTime": int((sent.fate_at or sent.at).timestamp()),
        "CountryCode": "86",
        "SubscriberNumber": sent.number,
        "PhoneNumber": f"+86{sent.number}",
        "SerialNo": serial,
        "ReportStatus": status,
        "Description": description,
        "SessionContext": sent.context,
    }


def aliyun(vendors: Vendors, action: str, query: dict[str, str]) -> dict[str, Any]:
    """Aliyun's answer to a correctly signed request."""
    if action == "QuerySendDetails":
        return aliyun_send_details(vendors, query)
    if action == "QueryCallDetailByCallId":
        return aliyun_call_detail(vendors, query)
    return aliyun_send(vendors, action, query)


def aliyun_send_details(vendors: Vendors, query: dict[str, str]) -> dict[str, Any]:
    """QuerySendDetails: the texts to one number on one day (Beijing time), or the one BizId."""
    rid = _request_id()
    number, biz_id, date = (query.get(k, "") for k in ("PhoneNumber", "BizId", "SendDate"))
    if not re.fullmatch(MOBILE, number):
        return {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "号码格式非法", "RequestId": rid}
    size, page = query.get("PageSize", ""), query.get("CurrentPage", "")
    if not re.fullmatch(r"\d{8}", date) or not size.isdigit() or not 1 <= int(size) <= 50:
        return {"Code": "isv.INVALID_PARAMETERS", "Message": "参数异常", "RequestId": rid}
    if not page.isdigit():
        return {"Code": "isv.INVALID_PARAMETERS", "Message": "参数异常", "RequestId": rid}
    fault = vendors.fault("QuerySendDetails")
    if fault != "ok":
        code, message = ALIYUN_FAULTS[fault]
        return {"Code": code, "Message": message, "RequestId": rid}
    with vendors.lock:
        found = [
            (vendor_id, sent)
            for vendor_id, sent in vendors.sent.items()
            if sent.action == "SendSms"
            and sent.number == number
            and sent.at.astimezone(BEIJING).strftime("%Y%m%d") == date
            and biz_id in ("", vendor_id)
        ]
    details = []
    for _, sent in found:
        status, code = ALIYUN_SMS_RECEIPTS.get(sent.fate or "", (1, ""))
        details.append(
            {
                "ErrCode": code,
                "TemplateCode": "SMS_468000001",
                "OutId": sent.context,
                "ReceiveDate": _beijing(sent.fate_at),
                "SendDate": _beijing(sent.at),
                "PhoneNum": number,
                "Content": "【守望平安】危急警情：王奶奶家 跌倒，10:00",
                "SendStatus": status,
            }
        )
    return {
        "Code": "OK",
        "Message": "OK",
        "RequestId": rid,
        "SmsSendDetailDTOs": {"SmsSendDetailDTO": details},
        "TotalCount": len(details),
    }


def aliyun_call_detail(vendors: Vendors, query: dict[str, str]) -> dict[str, Any]:
    """QueryCallDetailByCallId: the call with this CallId made within 24 h of QueryDate (ms);
    no `Data` until the call is over."""
    rid = _request_id()
    call_id, product, since = (query.get(k, "") for k in ("CallId", "ProdId", "QueryDate"))
    if not call_id or product != VOICE_NOTICE or not since.isdigit():
        return {"Code": "isv.INVALID_PARAMETERS", "Message": "参数异常", "RequestId": rid}
    fault = vendors.fault("QueryCallDetailByCallId")
    if fault == "garbled":  # a body cut short on its way
        return {"Code": "OK", "Message": "OK", "Data": '{"state":"2000', "RequestId": rid}
    if fault != "ok":
        code, message = ALIYUN_FAULTS[fault]
        return {"Code": code, "Message": message, "RequestId": rid}
    start = datetime.fromtimestamp(int(since) / 1000, UTC)
    with vendors.lock:
        sent = vendors.sent.get(call_id)
    if sent is None or sent.fate is None or not start <= sent.at <= start + timedelta(days=1):
        return {"Code": "OK", "Message": "OK", "RequestId": rid}
    state, description = ALIYUN_CALL_STATES[sent.fate]
    picked_up = sent.fate in ("answered", "hung_up")
    data = {
        "caller": "",
        "startDate": _beijing(sent.at) if picked_up else "",
        "stateDesc": description,
        "duration": 18 if picked_up else 0,
        "callerShowNumber": "057112345678",
        "gmtCreate": _beijing(sent.at),
        "state": state,
        "endDate": _beijing(sent.fate_at) if picked_up else "",
        "calleeShowNumber": "057112345678",
        "bRingTime": _beijing(sent.at),
        "bEndTime": _beijing(sent.fate_at),
        "callee": sent.number,
    }
    return {
        "Code": "OK",
        "Message": "OK",
        "Data": json.dumps(data, ensure_ascii=False),
        "RequestId": rid,
    }


def aliyun_send(vendors: Vendors, action: str, query: dict[str, str]) -> dict[str, Any]:
    """Aliyun's answer to SendSms or SingleCallByTts."""
    rid = _request_id()
    if action == "SendSms":
        numbers, template = query.get("PhoneNumbers", ""), query.get("TemplateCode", "")
        raw = query.get("TemplateParam", "{}")
        if query.get("SignName") != SIGN_NAME:
            return {"Code": "isv.SMS_SIGNATURE_ILLEGAL", "Message": "签名不合法", "RequestId": rid}
    else:
        numbers, template = query.get("CalledNumber", ""), query.get("TtsCode", "")
        raw = query.get("TtsParam", "{}")
    if not all(re.fullmatch(MOBILE, n) for n in numbers.split(",")):
        return {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "号码格式非法", "RequestId": rid}
    if template not in ALIYUN_TEMPLATES:
        return {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "模板不合法", "RequestId": rid}
    try:
        params = json.loads(raw)
    except ValueError:
        return {"Code": "isv.INVALID_JSON_PARAM", "Message": "JSON参数不合法", "RequestId": rid}
    if set(params) != ALIYUN_TEMPLATES[template]:
        return {
            "Code": "isv.TEMPLATE_MISSING_PARAMETERS",
            "Message": "模板缺少变量",
            "RequestId": rid,
        }
    fault = vendors.fault(action)
    if fault != "ok":
        code, message = ALIYUN_FAULTS[fault]
        return {"Code": code, "Message": message, "RequestId": rid}
    n, context = vendors.next_id(), query.get("OutId", "")
    if action == "SendSms":
        biz_id = vendors.accept(action, numbers, context, f"{9006197469364000 + n}^0")
        return {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": rid}
    call_id = vendors.accept(action, numbers, context, f"{116012354148 + n}^{10281378000 + n}")
    return {"Code": "OK", "Message": "OK", "CallId": call_id, "RequestId": rid}


def tencent(vendors: Vendors, action: str, body: dict[str, Any]) -> dict[str, Any]:
    """Tencent Cloud's `Response` to a correctly signed SendSms, SendTtsVoice or
    PullSmsSendStatus."""
    rid = str(uuid.uuid4())

    def error(code: str, message: str) -> dict[str, Any]:
        return {"Error": {"Code": code, "Message": message}, "RequestId": rid}

    if action == "PullSmsSendStatus":
        if body.get("SmsSdkAppId") != TENCENT_APP:
            return error("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId 不存在。")
        limit = body.get("Limit")
        if not isinstance(limit, int) or not 1 <= limit <= 100:
            return error("InvalidParameterValue.IncorrectLimit", "Limit 取值范围为1~100。")
        fault = vendors.fault(action)
        if fault != "ok":
            return error(*TENCENT_FAULTS[fault])
        with vendors.lock:  # each receipt is handed out once
            taken, vendors.unpulled = vendors.unpulled[:limit], vendors.unpulled[limit:]
        return {"PullSmsSendStatusSet": taken, "RequestId": rid}

    template = str(body.get("TemplateId", ""))
    params = body.get("TemplateParamSet") or []
    if action == "SendSms":
        if body.get("SmsSdkAppId") != TENCENT_APP:
            return error("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId 不存在。")
        if body.get("SignName") != SIGN_NAME:
            return error("FailedOperation.SignatureIncorrectOrUnapproved", "签名未审批或格式错误。")
    elif body.get("VoiceSdkAppid") != TENCENT_APP:
        return error("InvalidParameterValue.SdkAppidNotExist", "SDK AppID 不存在。")
    if template not in TENCENT_TEMPLATES:
        return error("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或内容不匹配。")
    if len(params) != TENCENT_TEMPLATES[template] or not all(isinstance(p, str) for p in params):
        return error(
            "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
            "请求内容与审核通过的模板内容不匹配。",
        )
    fault = vendors.fault(action)
    if action == "SendTtsVoice":
        if not re.fullmatch(r"\+86" + MOBILE, str(body.get("CalledNumber", ""))):
            return error(
                "InvalidParameterValue.CalledNumberVerifyFail", "被叫手机号码格式校验失败。"
            )
        if fault != "ok":
            return error(*TENCENT_FAULTS[fault])
        context = str(body.get("SessionContext", ""))
        call_id = vendors.accept(action, str(body["CalledNumber"])[3:], context, str(uuid.uuid1()))
        return {"SendStatus": {"CallId": call_id, "SessionContext": context}, "RequestId": rid}
    statuses = []
    for number in body.get("PhoneNumberSet") or []:
        if not re.fullmatch(r"\+86" + MOBILE, number):
            code, message = "InvalidParameterValue.IncorrectPhoneNumber", "手机号格式错误。"
        elif fault != "ok":
            code, message = TENCENT_FAULTS[fault]
        else:
            code, message = "Ok", "send success"
        serial = ""
        if code == "Ok":
            context = str(body.get("SessionContext", ""))
            serial = f"5000:{1045710669157053657849499000 + vendors.next_id()}"
            vendors.accept(action, number[3:], context, serial)
        statuses.append(
            {
                "SerialNo": serial,
                "PhoneNumber": number,
                "Fee": 1 if code == "Ok" else 0,
                "SessionContext": body.get("SessionContext", ""),
                "Code": code,
                "Message": message,
                "IsoCode": "CN",
            }
        )
    return {"SendStatusSet": statuses, "RequestId": rid}


def robot(vendors: Vendors, path: str, query: dict[str, str], body: Any) -> dict[str, Any]:
    """The answer of a DingTalk, WeCom or Feishu robot."""
    if path == "/robot/send":
        if query.get("access_token") != DINGTALK[0]:
            return {"errcode": 300001, "errmsg": "token is not exist"}
        timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
        secret = DINGTALK[1]
        digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
        fresh = timestamp.isdigit() and abs(int(timestamp) / 1000 - time.time()) < 3600
        if not fresh or sign != base64.b64encode(digest.digest()).decode():
            return {
                "errcode": 310000,
                "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]",
            }
        if body.get("msgtype") != "text" or not body.get("text", {}).get("content"):
            return {"errcode": 40035, "errmsg": "缺少参数 json"}
        fault = vendors.fault("dingtalk")
        return ROBOT_FAULTS["dingtalk"] if fault != "ok" else {"errcode": 0, "errmsg": "ok"}
    if path == "/cgi-bin/webhook/send":
        if query.get("key") != WECOM_KEY:
            return {"errcode": 93000, "errmsg": "invalid webhook url, hint: [1700000000_2_x]"}
        if body.get("msgtype") != "text" or not body.get("text", {}).get("content"):
            return {"errcode": 44004, "errmsg": "empty content, hint: [1700000000_3_x]"}
        fault = vendors.fault("wecom")
        return ROBOT_FAULTS["wecom"] if fault != "ok" else {"errcode": 0, "errmsg": "ok"}
    token = path.rsplit("/", 1)[-1]
    if token != FEISHU[0]:
        return {
            "code": 19001,
            "data": {},
            "msg": "param invalid: incoming webhook access token invalid",
        }
    timestamp, sign = str(body.get("timestamp", "")), body.get("sign", "")
    key = f"{timestamp}\n{FEISHU[1]}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    if not timestamp.isdigit() or abs(int(timestamp) - time.time()) > 3600 or sign != expected:
        return {
            "code": 19021,
            "data": {},
            "msg": "sign match fail or timestamp is not within one hour from current time",
        }
    if body.get("msg_type") != "text" or not body.get("content", {}).get("text"):
        return {"code": 9499, "data": {}, "msg": "Bad Request"}
    fault = vendors.fault("feishu")
    if fault != "ok":
        return ROBOT_FAULTS["feishu"]
    return {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}


@contextmanager
def vendor_server(clock: Callable[[], datetime] = _now) -> Iterator[Vendors]:
    """Run `Vendors` on a free port of 127.0.0.1 until the block ends; `clock` is their time."""
    vendors = Vendors(clock=clock)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            status, content_type = 200, "application/json;charset=utf-8"
            if "x-acs-action" in headers:
                action, params = headers["x-acs-action"], query
                refused = aliyun_signature_ok("POST", parts.path, query, headers, body)
                if refused:
                    status = 400 if refused != "InvalidAccessKeyId.NotFound" else 404
                    answer = {
                        "RequestId": _request_id(),
                        "HostId": "dysmsapi.aliyuncs.com",
                        "Code": refused,
                        "Message": "Specified signature is not matched with our calculation.",
                    }
                else:
                    answer = aliyun(vendors, action, query)
                vendor = "aliyun"
            elif "x-tc-action" in headers:
                action, params = headers["x-tc-action"], json.loads(body)
                service = "sms" if action in TENCENT_SMS_ACTIONS else "vms"
                refused = tencent_signature_ok(headers, body, service)
                rid = str(uuid.uuid4())
                inner: dict[str, Any] = (
                    {"Error": {"Code": refused, "Message": "签名错误。"}, "RequestId": rid}
                    if refused
                    else tencent(vendors, action, params)
                )
                answer, content_type, vendor = {"Response": inner}, "application/json", "tencent"
            else:
                params = json.loads(body or b"{}")
                action = {"/robot/send": "dingtalk", "/cgi-bin/webhook/send": "wecom"}.get(
                    parts.path, "feishu"
                )
                answer, vendor = robot(vendors, parts.path, query, params), "robot"
            with vendors.lock:
                vendors.calls.append(Call(vendor, action, params, answer, status))
            reply = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    vendors.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield vendors
    finally:
        server.shutdown()
        server.server_close()
