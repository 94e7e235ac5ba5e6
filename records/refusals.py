"""Why a watch-list row or file was refused, in each language (Chinese first): the catalogue
the CSV import, the browser's edit forms, the channel orders and the command line share."""

from collections.abc import Mapping
from typing import Any, Literal

Language = Literal["zh", "en"]

MESSAGES: dict[str, dict[Language, str]] = {
    "required": {"zh": "必填", "en": "required"},
    "too_long": {"zh": "不能超过 {max_len} 个字", "en": "longer than {max_len} characters"},
    "code": {
        "zh": "须为 1-64 位字母、数字或 _ . -（不含空格）",
        "en": "must be 1-64 letters, digits, _ . - (no spaces)",
    },
    "boolean": {"zh": "须填 是/否（或 1/0）", "en": "must be yes/no (是/否, 1/0)"},
    "whole_number": {
        "zh": "须为 {low} 到 {high} 的整数",
        "en": "must be a whole number from {low} to {high}",
    },
    "range": {"zh": "须在 {low} 到 {high} 之间", "en": "must be from {low} to {high}"},
    "choice": {"zh": "须为以下之一：{options}", "en": "must be one of {options}"},
    "phone": {
        "zh": "须为电话号码（数字，可带 +）",
        "en": "must be a phone number (digits, optional +)",
    },
    "source_form": {
        "zh": "{item!r} 的格式应为 [camera:|sensor:|edge:][站点/]编号[#区域]",
        "en": "{item!r} is not [camera:|sensor:|edge:][site/]source[#zone]",
    },
    "source_site": {
        "zh": "{item!r} 缺少站点：请填写站点列，或写成 站点/{item}",
        "en": "{item!r} needs a site: fill the site column or write site/{item}",
    },
    "source_part": {
        "zh": "{item!r} 中的 {part!r} 须为 1-64 位 A-Z a-z 0-9 _ . -",
        "en": "{part!r} in {item!r} must be 1-64 of A-Z a-z 0-9 _ . -",
    },
    "source_zone": {
        "zh": "{item!r}：只有摄像头才有区域",
        "en": "{item!r}: only cameras have zones",
    },
    "channel_step": {
        "zh": "{entry!r} 中的 {token!r} 既不是等待时间（60s、2m）也不是级别（critical、high、"
        "medium、low）",
        "en": "{token!r} in {entry!r} is neither a wait (60s, 2m) nor a severity "
        "(critical, high, medium, low)",
    },
    "channel_wait": {"zh": "{entry!r} 的等待超过一天", "en": "{entry!r} waits longer than a day"},
    "channel": {
        "zh": "{entry!r} 不是通知渠道：请用 webpush、sms、voice 或 dingtalk://… 这样的地址",
        "en": "{entry!r} is not a channel: use webpush, sms, voice or a URL like dingtalk://…",
    },
    "gb_code": {"zh": "须为 20 位国标编码", "en": "must be a 20-digit GB/T 28181 code"},
    "ha_entity": {
        "zh": "须为 Home Assistant 实体编号，如 binary_sensor.front_door",
        "en": "must be a Home Assistant entity id like binary_sensor.front_door",
    },
    "z2m_address": {
        "zh": "须为 IEEE 地址（0x 加 16 位十六进制）或设备名称",
        "en": "must be an IEEE address (0x + 16 hex digits) or a friendly name",
    },
    "z2m_name": {
        "zh": "设备名称不能含 # 或 +，也不能以 /set、/get、/availability 结尾",
        "en": "a friendly name may not hold # or + or end in /set, /get, /availability",
    },
    "kinds_required": {
        "zh": "必填：以下类型中的一个或多个：{kinds}",
        "en": "required: one or more of {kinds}",
    },
    "ha_one_kind": {
        "zh": "Home Assistant 实体只有一个状态：每个实体填一个类型",
        "en": "a Home Assistant entity has one state: give one kind per entity",
    },
    "duplicate": {"zh": "与第 {line} 行重复", "en": "already on line {line}"},
    "no_site": {"zh": "没有这个站点（请先导入站点）", "en": "no such site (import sites first)"},
    "no_area": {"zh": "没有这个区域（请先导入区域）", "en": "no such area (import areas first)"},
    "no_parent": {
        "zh": "没有这个上级区域（请先定义上级）",
        "en": "no such area (define parents first)",
    },
    "no_person": {
        "zh": "没有这个人（请先导入人员）",
        "en": "no such person (import persons first)",
    },
    "site_unmatched": {
        "zh": "必填（没有唯一一个站点的区域与编码的行政区划对应）",
        "en": "required (no single site's area matches the code's division)",
    },
    "county_parent": {"zh": "区县在这里没有上级", "en": "a county has no parent here"},
    "needs_parent": {"zh": "{level}需要上级区域", "en": "a {level} needs its parent area"},
    "parent_level": {"zh": "{parent}不能包含{level}", "en": "a {parent} cannot contain a {level}"},
    "household_grid": {
        "zh": "第 {line} 行写的户 {household} 在网格 {grid}",
        "en": "household {household} is in {grid} on line {line}",
    },
    "household_address": {
        "zh": "第 {line} 行写的户 {household} 地址为 {address!r}",
        "en": "household {household} is at {address!r} on line {line}",
    },
    "guardian_twice": {
        "zh": "{person} 的这位监护人已在第 {line} 行",
        "en": "this guardian of {person} is already on line {line}",
    },
    "phone_owner": {
        "zh": "电话 {phone} 在第 {line} 行属于 {name}",
        "en": "phone {phone} belongs to {name} on line {line}",
    },
    "unknown_kind": {"zh": "没有这种名单；可用：{kinds}", "en": "unknown kind; use one of {kinds}"},
    "not_utf8": {
        "zh": "第 {byte} 字节不是有效的 UTF-8；如果文件来自中文版 Excel，请选 GBK 编码",
        "en": "not valid UTF-8 at byte {byte}; if it came from Excel in Chinese, try the GBK "
        "encoding",
    },
    "not_gbk": {
        "zh": "既不是 UTF-8 也不是 GBK（第 {byte} 字节有误）",
        "en": "neither UTF-8 nor GBK (bad byte at {byte})",
    },
    "too_many_cells": {
        "zh": "有 {cells} 个单元格，表头只有 {columns} 列",
        "en": "{cells} cells but the header has {columns} columns",
    },
    "empty_file": {"zh": "文件是空的（没有表头行）", "en": "the file is empty (no header row)"},
    "unknown_column": {"zh": "未知的列；可用：{known}", "en": "unknown column; known: {known}"},
    "column_twice": {"zh": "{name} 列出现了两次", "en": "column {name} appears twice"},
    "column_missing": {
        "zh": "缺少必需的列（或其中文表头 {zh}）",
        "en": "required column missing (or its header {zh})",
    },
    "nul_bytes": {
        "zh": "文件含有 NUL 字节，不是 CSV 文件",
        "en": "the file holds NUL bytes: it is not a CSV file",
    },
    "not_a_column": {"zh": "不是这个名单的列", "en": "not a column of this list"},
    "out_of_area": {"zh": "属于您辖区以外的区域", "en": "belongs to an area outside yours"},
    "site_out_of_area": {"zh": "该站点不服务您的辖区", "en": "a site not serving your area"},
    "database": {"zh": "数据库拒绝了这次写入：{detail}", "en": "the database refused it: {detail}"},
}
"""Every refusal by key, with `str.format` fields, in each language."""

WHERE: dict[Language, dict[str, str]] = {
    "zh": {
        "line": "第 {line} 行",
        "file": "文件",
        "and": "，",
        "column": "“{column}”列",
        "colon": "：",
        "got": "（填的是 {value!r}）",
    },
    "en": {
        "line": "line {line}",
        "file": "file",
        "and": ", ",
        "column": "column {column}",
        "colon": ": ",
        "got": " (got {value!r})",
    },
}
"""How a refusal names its row (line 0: the whole file), its column and the value given."""


def message(key: str, params: Mapping[str, Any], language: Language) -> str:
    """The refusal `key` in `language`, its fields filled in."""
    return MESSAGES[key][language].format(**params)


class Refusal(ValueError):
    """A value refused for a reason in the catalogue; `str()` is the English text."""

    def __init__(self, key: str, **params: Any) -> None:
        self.key, self.params = key, params
        super().__init__(message(key, params, "en"))
