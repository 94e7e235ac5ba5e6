"""What the GB/T 28181 gateway does with each SIP request, without any I/O.

`Gb28181Core` takes a parsed request, where it came from and the device's current
registration, and returns an `Outcome`: the response, the wire messages to publish first, dead
letters, the registration to store and requests to send the device afterwards. The shell
(`cameras.gb28181.server`) does the sockets, Redis and the broker.
"""

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cameras.config import Gb28181Section
from cameras.devices import DeviceTable
from cameras.gb28181 import manscdp
from cameras.gb28181.alarms import UnmappedAlarm, map_alarm
from cameras.gb28181.registration import Registration
from cameras.sip.digest import DigestRealm, Verdict
from cameras.sip.message import Message, Peer, SipError, response
from cameras.wire import DeadLetter, Publish, camera_event, display_name, stable_id
from shouwang import __version__
from shouwang.contracts import (
    CameraHealth,
    CameraState,
    EdgeState,
    EdgeStatus,
    Heartbeat,
    Phase,
)

GB_ID = re.compile(r"^[0-9]{20}$")
PROTOCOL = "gb28181"


@dataclass(frozen=True, slots=True)
class DeviceRequest:
    """A request for the shell to send to a registered device after the response."""

    method: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Outcome:
    """Everything one request leads to, in the order the shell carries it out: publish
    (waiting for the broker where asked), store, answer, then send the requests."""

    response: Message | None = None
    publish: list[Publish] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    save: Registration | None = None
    forget: bool = False
    requests: list[DeviceRequest] = field(default_factory=list)
    note: str = ""
    """What happened, for the log."""


class Gb28181Core:
    """Registrar, keepalive and alarm handling of one SIP server identity."""

    def __init__(
        self, settings: Gb28181Section, devices: DeviceTable, realm: DigestRealm, tag: str
    ) -> None:
        self.settings = settings
        self.devices = devices
        self.realm = realm
        self.tag = tag
        """To-tag of this server's responses."""
        self.zone = ZoneInfo(settings.timezone)

    def handle(
        self, request: Message, peer: Peer, current: Registration | None, now: float
    ) -> Outcome:
        """The outcome of one request from a device."""
        if request.method == "REGISTER":
            return self.register(request, peer, current, now)
        if request.method in ("MESSAGE", "NOTIFY"):
            return self.message(request, peer, current, now)
        if request.method == "OPTIONS":
            return Outcome(self._reply(request, 200))
        return Outcome(self._reply(request, 405, {"Allow": "REGISTER, MESSAGE, NOTIFY, OPTIONS"}))

    # -- registration ---------------------------------------------------------------------

    def register(
        self, request: Message, peer: Peer, current: Registration | None, now: float
    ) -> Outcome:
        """Digest-authenticated REGISTER: register, refresh or (Expires 0) unregister."""
        device_id = request.from_.uri.user
        if not GB_ID.match(device_id):
            return Outcome(self._reply(request, 400), note=f"From user {device_id!r} not a code")
        password = self.devices.password(device_id)
        device = self.devices.get(device_id)
        if device is None or password is None:
            return Outcome(self._reply(request, 403), note="unknown device")
        try:
            params = request.authorization()
            expires = self._expires(request)
        except SipError as exc:
            return Outcome(self._reply(request, 400), note=str(exc))
        if params is not None and params.get("username") != device_id:
            return Outcome(self._reply(request, 403), note="digest username is not the device")
        verdict = self.realm.check(params, method="REGISTER", password=password, now=now)
        if verdict in (Verdict.MISSING, Verdict.STALE):
            challenge = self.realm.challenge(now, stale=verdict is Verdict.STALE)
            return Outcome(self._reply(request, 401, {"WWW-Authenticate": challenge}))
        if verdict is Verdict.WRONG:
            return Outcome(self._reply(request, 403), note="wrong digest")
        if expires == 0:
            return self._unregister(request, current, now)
        if expires < self.settings.min_expires_s:
            headers = {"Min-Expires": str(self.settings.min_expires_s)}
            return Outcome(self._reply(request, 423, headers), note=f"Expires {expires} too brief")
        expires = min(expires, self.settings.max_expires_s)
        fresh = current is None or not current.online or current.call_id != request.call_id
        registration = Registration(
            device_id=device_id,
            site=device.site,
            transport=peer.transport,
            host=peer.host,
            port=peer.port,
            call_id=request.call_id,
            expires_at=now + expires,
            session_id=stable_id(PROTOCOL, device_id, request.call_id, now),
            connected_at=now,
            last_seen=now,
            gb_version=request.get("X-GB-Ver", "") or "",
            channels=current.channels if current else {},
        )
        if not fresh and current is not None:
            registration = replace(
                registration,
                session_id=current.session_id,
                connected_at=current.connected_at,
                faulty=current.faulty,
                charset=current.charset,
            )
        contact = request.get("Contact") or f"<sip:{device_id}@{peer.host}:{peer.port}>"
        headers = {
            "Contact": f"{contact.split(';expires=')[0]};expires={expires}",
            "Expires": str(expires),
            "Date": datetime.fromtimestamp(now, self.zone).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
        }
        outcome = Outcome(self._reply(request, 200, headers), save=registration)
        if fresh:
            outcome.publish.append(self._status(registration, EdgeState.ONLINE, None))
            outcome.requests.extend(self._after_register(registration))
            outcome.note = "registered"
        else:
            outcome.note = "registration refreshed"
        return outcome

    def _after_register(self, registration: Registration) -> list[DeviceRequest]:
        requests = []
        charset = self.settings.charset
        if self.settings.query_catalog:
            body = manscdp.catalog_query(1, registration.device_id, charset)
            requests.append(DeviceRequest("MESSAGE", body))
        if self.settings.subscribe_alarms:
            body = manscdp.alarm_subscription(2, registration.device_id, charset)
            headers = {
                "Event": "presence",
                "Expires": str(self.settings.subscription_expires_s),
            }
            requests.append(DeviceRequest("SUBSCRIBE", body, headers))
        return requests

    def _unregister(self, request: Message, current: Registration | None, now: float) -> Outcome:
        outcome = Outcome(self._reply(request, 200, {"Expires": "0"}), forget=True)
        if current is not None and current.online:
            outcome.publish.append(self._status(current, EdgeState.OFFLINE, "unregistered"))
        outcome.note = "unregistered"
        return outcome

    @staticmethod
    def _expires(request: Message) -> int:
        if request.expires is not None:
            return max(0, request.expires)
        for contact in request.contacts:
            value = contact.params.get("expires", "")
            if value.isdigit():
                return int(value)
        return 3600

    # -- MESSAGE and NOTIFY ---------------------------------------------------------------

    def message(
        self, request: Message, peer: Peer, current: Registration | None, now: float
    ) -> Outcome:
        """A MANSCDP body: keepalive, alarm, catalog page or a reply to the gateway."""
        sender = request.from_.uri.user
        source = f"{PROTOCOL}/{sender or '?'}/{request.method}"
        try:
            body = manscdp.parse(request.body)
        except manscdp.ManscdpError as exc:
            return self._dead(request, source, exc.reason, exc.detail, now, 400)
        # Registered and not expired; one marked offline for missed keepalives still counts
        # (its next keepalive brings it back online).
        registered = current is not None and current.expires_at > now
        if isinstance(body, manscdp.Keepalive):
            if not registered or current is None:
                return Outcome(self._reply(request, 403), note="keepalive, not registered")
            return self._keepalive(request, current, body, now)
        if isinstance(body, manscdp.Alarm):
            if not registered or current is None:
                detail = f"alarm from {sender}, which is not registered (or has expired)"
                return self._dead(request, source, "unregistered_device", detail, now, 403)
            return self._alarm(request, current, body, source, now)
        if not registered or current is None:
            return Outcome(self._reply(request, 403), note=f"{type(body).__name__}, unregistered")
        if isinstance(body, manscdp.CatalogPage):
            names = {item.device_id: item.name for item in body.items if item.device_id != sender}
            channels = {**current.channels, **names}
            saved = replace(current, channels=dict(list(channels.items())[:256]))
            return Outcome(self._reply(request, 200), save=saved, note=f"catalog {len(names)}")
        return Outcome(self._reply(request, 200), note=f"{body.cmd_type} result {body.result}")

    def _keepalive(
        self, request: Message, current: Registration, body: manscdp.Keepalive, now: float
    ) -> Outcome:
        registration = replace(
            current,
            last_seen=now,
            faulty=body.faulty,
            charset=manscdp.declared_charset(request.body),
        )
        outcome = Outcome(self._reply(request, 200), save=registration, note="keepalive")
        if not current.online:
            registration = replace(
                registration,
                online=True,
                session_id=stable_id(PROTOCOL, current.device_id, "back", now),
                connected_at=now,
            )
            outcome.save = registration
            outcome.publish.append(self._status(registration, EdgeState.ONLINE, None))
        outcome.publish.append(Publish(self._heartbeat(registration, now), confirm=False))
        return outcome

    def _alarm(
        self,
        request: Message,
        current: Registration,
        alarm: manscdp.Alarm,
        source: str,
        now: float,
    ) -> Outcome:
        where = self.devices.source(alarm.device_id, current.device_id)
        if where is None:
            detail = f"alarm for {alarm.device_id}, not in the device table"
            return self._dead(request, source, "unknown_device", detail, now, 403)
        try:
            mapped = map_alarm(alarm, self.settings.alarm_types)
        except UnmappedAlarm as exc:
            return self._dead(request, source, "unmapped_alarm", str(exc), now, 400)
        observed = alarm.time or datetime.fromtimestamp(now, UTC)
        if observed.tzinfo is None:
            observed = observed.replace(tzinfo=self.zone)
        attributes: dict[str, bool | int | float | str] = {
            "protocol": PROTOCOL,
            "alarm_code": mapped.code,
            "alarm_name": mapped.label,
            "alarm_priority": alarm.priority,
            "channel": alarm.device_id,
        }
        name = where.name or current.channels.get(alarm.device_id, "")
        optional = {
            "channel_name": name,
            "description": alarm.description[:200],
            "longitude": alarm.longitude,
            "latitude": alarm.latitude,
            "gb_version": current.gb_version,
        }
        attributes.update({k: v for k, v in optional.items() if v not in (None, "")})
        event_id = stable_id(
            PROTOCOL, current.device_id, alarm.device_id, alarm.sn, alarm.time, mapped.code
        )
        event = camera_event(
            event_id=event_id,
            episode_id=event_id,
            type_=mapped.type,
            phase=Phase.START,
            site=where.site,
            edge=current.device_id,
            camera=where.camera,
            observed_at=observed,
            started_at=observed,
            attributes=attributes,
            camera_name=name,
        )
        charset = manscdp.declared_charset(request.body)
        outcome = Outcome(self._reply(request, 200), publish=[Publish(event)])
        outcome.requests.append(
            DeviceRequest("MESSAGE", manscdp.alarm_response(alarm.sn, alarm.device_id, charset))
        )
        if alarm.method == 2 and self.settings.reset_device_alarms:
            body = manscdp.alarm_reset(alarm.sn, alarm.device_id, charset)
            outcome.requests.append(DeviceRequest("MESSAGE", body))
        outcome.note = f"alarm {mapped.code} → {mapped.type.value} ({event_id})"
        return outcome

    # -- liveness -------------------------------------------------------------------------

    def connection_lost(self, current: Registration, now: float) -> Outcome:
        """A device's TCP connection closed: offline at once (2022 edition, 9.1.1 f)."""
        outcome = Outcome(save=replace(current, online=False), note="TCP connection closed")
        if current.online:
            outcome.publish.append(
                self._status(current, EdgeState.OFFLINE, "TCP connection closed")
            )
        return outcome

    def overdue(self, current: Registration, now: float) -> Outcome:
        """A device past its deadline: offline (missed keepalives), or forgotten (expired)."""
        deadline = current.deadline(
            self.settings.keepalive_interval_s, self.settings.keepalive_misses
        )
        if now < deadline:
            return Outcome(save=current)
        expired = current.expires_at <= now
        outcome = Outcome(forget=expired, save=None if expired else replace(current, online=False))
        if current.online:
            if expired:
                reason = "registration expired"
            else:
                silent = now - current.last_seen
                reason = (
                    f"no keepalive for {silent:.0f} s ({self.settings.keepalive_misses} missed)"
                )
            outcome.publish.append(self._status(current, EdgeState.OFFLINE, reason))
            outcome.note = reason
        return outcome

    def _status(self, registration: Registration, state: EdgeState, reason: str | None) -> Publish:
        status = EdgeStatus(
            schema_version=1,
            site=registration.site,
            edge=registration.device_id,
            state=state,
            session_id=registration.session_id,
            connected_at=datetime.fromtimestamp(registration.connected_at, self.zone),
            reason=reason,
        )
        return Publish(status, retain=True)

    def _heartbeat(self, registration: Registration, now: float) -> Heartbeat:
        channels = registration.channels or {registration.device_id: ""}
        cameras = {}
        for code in list(channels)[:256]:
            faulty = code in registration.faulty
            cameras[code] = CameraHealth(
                state=CameraState.OFFLINE if faulty else CameraState.ONLINE,
                name=display_name(channels[code]),
                fps=0.0,
                error="reported faulty by the device" if faulty else None,
            )
        return Heartbeat(
            schema_version=1,
            site=registration.site,
            edge=registration.device_id,
            session_id=registration.session_id,
            sent_at=datetime.fromtimestamp(now, self.zone),
            uptime_s=round(max(0.0, now - registration.connected_at), 1),
            fps=0.0,
            inference_ms=0.0,
            cameras=cameras,
            version=f"{PROTOCOL} {registration.gb_version or '2.0'} via shouwang {__version__}",
        )

    # -- helpers --------------------------------------------------------------------------

    def _reply(self, request: Message, code: int, headers: dict[str, str] | None = None) -> Message:
        extra = dict(headers or {})
        if request.method == "REGISTER":
            extra["X-GB-Ver"] = self.settings.gb_version
        return response(request, code, to_tag=self.tag, headers=extra)

    def _dead(
        self, request: Message, source: str, reason: str, detail: str, now: float, code: int
    ) -> Outcome:
        letter = DeadLetter(source, reason, detail, bytes(request), now)
        return Outcome(
            self._reply(request, code), dead_letters=[letter], note=f"{reason}: {detail}"
        )
