"""The one way a service makes its MQTT client (paho-mqtt 2, callback API version 2)."""

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from shouwang.settings import MqttSettings


def mqtt_client(
    settings: MqttSettings,
    client_id: str,
    *,
    v5: bool,
    persistent: bool,
    manual_ack: bool = False,
) -> mqtt.Client:
    """A client for the broker in `settings`, with its credentials and TLS. `persistent`: an
    MQTT 3.1.1 session the broker keeps (MQTT 5 sets that on connect, with the session
    expiry). `manual_ack`: the caller acknowledges QoS 1 messages itself."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311,
        clean_session=None if v5 else not persistent,
        manual_ack=manual_ack,
    )
    if settings.username is not None:
        password = settings.password.get_secret_value() if settings.password else None
        client.username_pw_set(settings.username, password)
    if settings.tls:
        client.tls_set(ca_certs=str(settings.ca_file) if settings.ca_file else None)
    return client
