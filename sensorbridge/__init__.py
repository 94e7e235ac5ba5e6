"""The sensor bridge: Zigbee2MQTT and Home Assistant devices in, wire-contract sensor readings out.

Modules: `zigbee2mqtt` and `homeassistant` (reading their MQTT topics and payloads), `readings`
(building wire readings), `directory` (the device table as the bridge sees it), `translate`
(the pure core: a message in, readings or a dead letter out), `config`, `store` (Redis: dead
letters and last values), `worker` (the MQTT shell), `simulate` (Zigbee2MQTT payloads for the
demo). It imports only the kernel (`shouwang.contracts`, settings, keys, logs, metrics); see
docs/sensors.md.
"""
