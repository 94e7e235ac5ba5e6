"""Hikvision ISAPI and Dahua HTTP events: posted to us, or streamed from the camera."""
