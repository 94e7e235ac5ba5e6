"""`shouwang notify run` refuses to start on bad settings or an unmigrated database, saying
what to do; `shouwang notify test URL` checks a channel."""

import json
from pathlib import Path

from typer.testing import CliRunner

from notify.cli import notify_app
from tests.notify.servers import HttpEdge
from tests.notify.test_sms_voice import cloud
from tests.notify.vendors import DINGTALK, Vendors

runner = CliRunner()


def test_run_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    config = tmp_path / "notify.yaml"
    config.write_text(f"database:\n  url: sqlite:///{tmp_path}/empty.sqlite3\n")
    result = runner.invoke(notify_app, ["run", "--config", str(config)])
    assert result.exit_code == 2
    assert "run `shouwang db upgrade`" in result.output


def test_run_refuses_bad_settings(tmp_path: Path) -> None:
    config = tmp_path / "notify.yaml"
    config.write_text("notify:\n  concurrency: 0\n  colour: blue\n")
    result = runner.invoke(notify_app, ["run", "--config", str(config)])
    assert result.exit_code == 2
    assert "notify.concurrency" in result.output and "notify.colour" in result.output


def test_test_command_sends_to_an_apprise_url(edge: HttpEdge) -> None:
    result = runner.invoke(notify_app, ["test", edge.url("/hook/check", "json")])
    assert result.exit_code == 0, result.output
    assert "sent to json://127.0.0.1/…" in result.output
    [request] = edge.to("/hook/check")
    assert request.json()["title"] == "守望 测试通知"

    edge.script("/hook/check", 500)
    failed = runner.invoke(notify_app, ["test", edge.url("/hook/check", "json")])
    assert failed.exit_code == 1 and "error=500" in failed.output
    assert runner.invoke(notify_app, ["test", "13800000001"]).exit_code == 2


def test_test_command_sends_to_a_robot_with_its_signature(tmp_path: Path, vendors: Vendors) -> None:
    config = tmp_path / "notify.yaml"
    config.write_text(f"notify_robots:\n  dingtalk_url: {vendors.url('/robot/send')}\n")
    url = f"dingtalk://{DINGTALK[1]}@{DINGTALK[0]}/"
    result = runner.invoke(notify_app, ["test", url, "--config", str(config)])
    assert result.exit_code == 0, result.output
    [call] = vendors.of("dingtalk")
    assert call.params["text"]["content"].startswith("守望 测试通知\n")

    wrong = runner.invoke(
        notify_app, ["test", "dingtalk://SECx@dt-token/", "--config", str(config)]
    )
    assert wrong.exit_code == 1 and "errcode 310000" in wrong.output


def test_test_command_texts_and_calls_with_the_configured_vendor(
    tmp_path: Path, vendors: Vendors
) -> None:
    config = tmp_path / "notify.yaml"
    config.write_text(json.dumps(cloud(vendors, "tencent")))
    sent = runner.invoke(notify_app, ["test", "sms", "--phone", "13800000001", "-c", str(config)])
    assert sent.exit_code == 0, sent.output
    assert "sent to 13800000001" in sent.output
    [sms] = vendors.of("SendSms")
    assert sms.params["TemplateParamSet"][1] == "守望 测试通知"

    vendors.script("SendTtsVoice", "voice_no_balance")
    call = runner.invoke(notify_app, ["test", "voice", "--phone", "13800000001", "-c", str(config)])
    assert call.exit_code == 1 and "InsufficientBalanceInVoicePackage" in call.output
    landline = runner.invoke(notify_app, ["test", "sms", "--phone", "010-5551234"])
    assert landline.exit_code == 2 and "mainland mobile number" in landline.output
