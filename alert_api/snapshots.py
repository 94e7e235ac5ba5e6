"""Snapshot and clip URLs that cannot be guessed (signed with the alert id and path) and the
files behind them, kept inside the snapshot directory."""

from pathlib import Path

from alert_api.tokens import UrlSigner


def snapshot_url(signer: UrlSigner, alert_id: int, path: str | None) -> str | None:
    """The URL of one of an alert's snapshots (None without a snapshot)."""
    if not path:
        return None
    return f"/api/alerts/{alert_id}/snapshots/{signer.sign('snapshot', str(alert_id), path)}"


def clip_url(signer: UrlSigner, snapshot_dir: Path, alert_id: int, path: str | None) -> str | None:
    """The URL of the clip the alert plays (its `clip_path`), while the file is kept."""
    if path is None or snapshot_file(snapshot_dir, path) is None:
        return None
    return f"/api/alerts/{alert_id}/clips/{signer.sign('clip', str(alert_id), path)}"


def matching_path(
    signer: UrlSigner, alert_id: int, signature: str, paths: list[str | None]
) -> str | None:
    """Which of an alert's snapshot `paths` the `signature` names."""
    for path in paths:
        if path and signer.verify(signature, "snapshot", str(alert_id), path):
            return path
    return None


def snapshot_file(snapshot_dir: Path, path: str) -> Path | None:
    """The file of a stored snapshot path, if it exists inside `snapshot_dir`."""
    root = snapshot_dir.resolve()
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate
