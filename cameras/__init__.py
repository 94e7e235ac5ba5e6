"""Camera-native events in: GB/T 28181 alarms and device liveness over SIP, Hikvision ISAPI
and Dahua HTTP events. Each source parses and maps without I/O; its shell publishes wire
events over MQTT like an edge agent, so ingest validates, de-duplicates and stores them."""
