"""Reading and writing CSV bytes: UTF-8 (with or without BOM) or GBK, as Chinese spreadsheets
export them."""

from typing import Literal

from records.refusals import Refusal

Encoding = Literal["auto", "utf-8", "utf-8-sig", "gbk"]
ENCODINGS: tuple[str, ...] = ("auto", "utf-8", "utf-8-sig", "gbk")


class EncodingError(Refusal):
    """The bytes are not text in the given (or any supported) encoding."""


def decode(data: bytes, encoding: Encoding = "auto") -> tuple[str, str]:
    """The text and the encoding it was read with. `auto` takes a UTF-8 BOM, then valid UTF-8,
    then GBK (read as GB18030, its superset, so rare characters survive too)."""
    if encoding == "gbk":
        return _gbk(data), "gbk"
    if encoding in ("utf-8", "utf-8-sig"):
        try:
            return data.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError as exc:
            raise EncodingError("not_utf8", byte=exc.start) from None
    if data.startswith(b"\xef\xbb\xbf"):
        return decode(data, "utf-8")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return _gbk(data), "gbk"


def _gbk(data: bytes) -> str:
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise EncodingError("not_gbk", byte=exc.start) from None


def encode(text: str, encoding: Encoding = "utf-8-sig") -> bytes:
    """Bytes of `text`. `utf-8-sig` adds the BOM Excel needs to open UTF-8 correctly; `gbk`
    writes GB18030 (identical to GBK for every GBK character)."""
    if encoding == "gbk":
        return text.encode("gb18030")
    if encoding == "auto":
        encoding = "utf-8-sig"
    return text.encode(encoding)
