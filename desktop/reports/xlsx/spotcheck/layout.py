"""What a verification workbook holds: its sheets' and columns' names, the rows of a record
sheet, and the plain data a sample's workbook is written from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

HELP, IDENTITY = "说明", "抽查标识"
NUMBER, UNIT, UNIT_CODE = "序号", "单位名称", "单位代码"
RESULT, NOTE, VERIFIER, VERIFIED_ON = "核验结果", "说明", "核验人", "核验日期"
QR, CODE, RECORD = "记录二维码", "记录码", "记录编号"
INPUTS = (RESULT, NOTE, VERIFIER, VERIFIED_ON)
LEAD = (NUMBER, UNIT, UNIT_CODE, *INPUTS, QR)
TAIL = (CODE, RECORD)
#: the identity sheet's keys, in its column A
KEYS = ("样本编号", "登记库单位代码", "登记库编号", "随机种子", "抽样方法", "记录数")
TITLE_ROW, SEED_ROW, HEADER_ROW = 0, 1, 2  # 0-based rows of a record sheet
ROW_HEIGHT = 48  # points: the QR code fits the row


@dataclass(frozen=True)
class Identity:
    """What names a sample (written on the hidden sheet, compared when it comes back)."""

    sample_id: str
    register_code: str
    register_id: str
    seed: str
    method: str
    records: int

    def values(self) -> tuple[str, ...]:
        return (self.sample_id, self.register_code, self.register_id, self.seed, self.method,
                str(self.records))


@dataclass(frozen=True)
class SampleRow:
    position: int
    unit_name: str
    unit_code: str
    texts: tuple[str, ...]  # the form's fields as printed (masked)
    code: str  # the record page's code text, DJ1:R:…
    record_id: str


@dataclass(frozen=True)
class SampleSheet:
    name: str  # the tab's name, e.g. 附件1
    title: str  # 附件1 律师党员基本信息登记表
    labels: tuple[str, ...]  # the fields' labels
    rows: Sequence[SampleRow]


@dataclass(frozen=True)
class SampleBook:
    identity: Identity
    seed_line: str  # printed on every sheet: 样本编号 … 随机种子 … 抽样方法 …
    help_lines: tuple[str, ...]
    sheets: Sequence[SampleSheet] = field(default_factory=tuple)


