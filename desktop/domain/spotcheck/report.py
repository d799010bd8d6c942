"""What a spot-check report says per unit, as plain data for the PDF and the workbook: sampled,
verified, found false, the rate, and the accountable parties (追责): the unit, the key that
signed its package, the units whose packages carried it, and the 书记 and 联系人 of its 附件3."""

from __future__ import annotations

from dataclasses import dataclass

from desktop.domain.spotcheck.draw import METHOD

COLUMNS = ("单位代码", "单位名称", "抽查", "已核验", "属实", "不实", "无法核实", "不实率",
           "签名公钥指纹", "报送途径", "书记", "联系人")
TITLE = "抽查核验情况报告"


def method_text(sample_id: str, seed: str, method: str = METHOD) -> str:
    """The line every output of a sample prints: what redraws it."""
    return (f"样本编号 {sample_id}　随机种子 {seed}　抽样方法 {method}（按单位分层：每个单位至少 1 条，"
            "其余按各单位记录数以最大余数法分配；单位内按 HMAC-SHA256（种子，记录编号）排序取前若干条）")


def rate(false: int, verified: int) -> str:
    """不实率: found false among the verified, as a percentage with one decimal ("—": none
    verified yet)."""
    if verified <= 0:
        return "—"
    return f"{100 * false / verified:.1f}%"


@dataclass(frozen=True)
class UnitLine:
    unit_code: str
    unit_name: str
    sampled: int
    true: int
    false: int
    unverifiable: int
    signers: tuple[str, ...]  # fingerprints of the keys that signed the unit's packages
    route: str  # 直接报送, or the units whose packages carried it (市 → 省)
    secretary: str
    contact: str

    @property
    def verified(self) -> int:
        return self.true + self.false + self.unverifiable

    def cells(self) -> tuple[str, ...]:
        return (self.unit_code, self.unit_name, str(self.sampled), str(self.verified),
                str(self.true), str(self.false), str(self.unverifiable),
                rate(self.false, self.verified), "\n".join(self.signers) or "（未知）",
                self.route, self.secretary or "（无附件3记录）", self.contact or "（无附件3记录）")


@dataclass(frozen=True)
class SpotReport:
    """A sample's report: who drew it, from what, and one line per unit."""

    sample_id: str
    seed: str
    method: str
    rule: str  # 200 or 5%
    population: int
    drawn_at: str  # YYYY-MM-DD HH:MM (UTC)
    drawn_by: str
    unit_name: str  # the own unit
    unit_code: str
    lines: tuple[UnitLine, ...]

    @property
    def method_line(self) -> str:
        return method_text(self.sample_id, self.seed, self.method)

    def total_cells(self) -> tuple[str, ...]:
        n = [sum(getattr(x, a) for x in self.lines)
             for a in ("sampled", "verified", "true", "false", "unverifiable")]
        return ("合计", f"{len(self.lines)} 个单位", *(str(v) for v in n), rate(n[3], n[1]),
                "", "", "", "")

    def summary(self) -> str:
        """One line of the numbers (the status bar, the command's output)."""
        t = self.total_cells()
        return (f"样本 {self.sample_id}：{len(self.lines)} 个单位，抽查 {t[2]} 条，已核验 {t[3]} 条，"
                f"不实 {t[5]} 条，无法核实 {t[6]} 条，不实率 {t[7]}")
