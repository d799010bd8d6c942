"""The 抽查 menu's dialogs: 抽取样本 (a number or a rate, an optional seed, the records a sample
is drawn from) and 抽查报告 (which sample, PDF or Excel). Both run their work as Operations with
the progress in the dialog and the status bar."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.services.spotcheck import (
    Drawn,
    draw_sample,
    population_summary,
    samples,
    write_report,
)
from desktop.ui.context import WindowContext
from desktop.ui.dialogs import fit_to_screen, guard_wheel
from desktop.ui.files import offer_folder, save_path
from desktop.ui.operations import Operation

XLSX = "Excel 工作簿 (*.xlsx)"
PDF = "PDF 文件 (*.pdf)"


def choices(parent: QWidget, *texts: str) -> list[QRadioButton]:
    """Radio buttons of one group, the first one checked."""
    group = QButtonGroup(parent)
    buttons = [QRadioButton(t) for t in texts]
    for b in buttons:
        group.addButton(b)
    buttons[0].setChecked(True)
    return buttons


def in_row(*widgets: QWidget, stretch: bool = False) -> QWidget:
    row = QWidget()
    line = QHBoxLayout(row)
    line.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        line.addWidget(w)
    if stretch:
        line.addStretch(1)
    return row


class _WorkDialog(QDialog):
    """A dialog with a progress bar and 取消/关闭 that runs one Operation at a time."""

    def __init__(self, ctx: WindowContext, title: str, name: str, ok: str) -> None:
        super().__init__(ctx.widget)
        self.ctx = ctx
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.layout_ = QVBoxLayout(self)
        self.form = QFormLayout()
        self.layout_.addLayout(self.form)
        self.bar = QProgressBar()
        self.bar.setVisible(False)
        self.layout_.addWidget(self.bar)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Close)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(ok)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        self.buttons.rejected.connect(self.reject)
        self.layout_.addWidget(self.buttons)

    def step(self, done: int, total: int, message: str) -> None:
        self.bar.setVisible(True)
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.bar.setFormat(message or "%p%")

    def busy(self, on: bool) -> None:
        self.ok.setEnabled(not on)
        if not on:
            self.bar.setVisible(False)


class SampleDialog(_WorkDialog):
    """抽取样本: 按条数 or 按比例, a seed (a new one when empty), then where to save the
    verification workbook."""

    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx, "抽取样本", "spotcheckSample", "抽取…")
        self.records, self.units = 0, 0
        self.about = QLabel("正在统计本级已接收的记录…")
        self.about.setWordWrap(True)
        self.form.addRow(self.about)
        self.by_rate, self.by_size = choices(self, "按比例", "按条数")
        self.size = QSpinBox()
        self.size.setRange(1, 1)
        self.size.setAccessibleName("样本量")
        self.rate = QLineEdit("5%")
        self.rate.setAccessibleName("抽样比例")
        guard_wheel(self.size)
        self.form.addRow("样本量", in_row(self.by_rate, self.rate, self.by_size, self.size))
        self.seed = QLineEdit()
        self.seed.setPlaceholderText("不填则自动生成；复核另一次抽样时，填其核验表上印的随机种子")
        self.seed.setAccessibleName("随机种子")
        self.form.addRow("随机种子", self.seed)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setObjectName("spotcheckSampleResult")
        self.form.addRow(self.result)
        self.ok.setEnabled(False)
        self.ok.clicked.connect(lambda: self.draw())
        fit_to_screen(self, (620, 260))
        register = ctx.register

        def count():
            yield from ()
            return population_summary(register)

        Operation(ctx, count, title="未能统计已接收的记录", progress=False).success(
            self.counted).run()

    def counted(self, found: tuple[int, int]) -> None:
        """Show what a sample is drawn from (counted on a worker: 200,000 records take a
        second)."""
        records, units = self.records, self.units = found
        self.about.setText(
            f"从本级已接收的 {records} 条记录（{units} 个单位）中按单位分层随机抽取：每个单位至少 1 条，"
            "其余按各单位记录数分配。同一随机种子和同一批已接收记录抽出同一样本，种子印在核验表和报告上。"
            if records else "本登记库还没有已接收的记录：请先导入并接收下级单位的数据包。")
        self.size.setRange(1, max(records, 1))
        self.size.setValue(min(max(units, 1), max(records, 1)))
        self.ok.setEnabled(records > 0)

    def draw(self, path: Path | None = None) -> None:
        if path is None:
            path = save_path(self.ctx, "spotcheck", "保存抽查核验表", "抽查核验表.xlsx", XLSX,
                             parent=self)
            if path is None:
                return
        size = self.size.value() if self.by_size.isChecked() else None
        rate = self.rate.text().strip() if self.by_rate.isChecked() else None
        seed = self.seed.text().strip() or None
        ctx, actor = self.ctx, self.ctx.actor
        self.busy(True)

        def done(drawn: Drawn) -> None:
            text = (f"已抽取样本 {drawn.sample_id}：从 {drawn.units} 个单位的 {drawn.population} 条"
                    f"已接收记录中抽取 {drawn.size} 条（{drawn.rule}）。\n随机种子：{drawn.seed}\n"
                    f"抽查核验表：{drawn.path}")
            self.result.setText(text)
            ctx.status(f"已抽取样本 {drawn.sample_id}（{drawn.size} 条），随机种子 {drawn.seed}")
            offer_folder(ctx, drawn.path)
            QMessageBox.information(self, "已抽取样本", text + "\n\n请核验人对照纸质档案填写黄色的四列，"
                                    "然后用“抽查 → 导入核验结果…”导入。")

        Operation(ctx, lambda: draw_sample(ctx.register, ctx.forms, path, size=size, rate=rate,
                                           seed=seed, actor=actor),
                  title="未能抽取样本", writes=True, exclusive="spotcheck").success(done) \
            .on_progress(self.step).finally_(lambda: self.busy(False)).run()


class ReportDialog(_WorkDialog):
    """抽查报告: which sample (the newest first), PDF or Excel."""

    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx, "抽查报告", "spotcheckReport", "生成…")
        self.sample = QComboBox()
        self.sample.setAccessibleName("样本")
        for s in samples(ctx.register):
            rule = f"（{s.rule}）" if s.rule.endswith("%") else ""
            self.sample.addItem(f"{s.id}　{s.created_at:%Y-%m-%d}　抽取 {s.size} 条{rule}，"
                                f"种子 {s.seed}", s.id)
        guard_wheel(self.sample)
        self.form.addRow("样本", self.sample)
        self.pdf, self.xlsx = choices(self, "PDF（打印、盖章）", "Excel")
        self.form.addRow("格式", in_row(self.pdf, self.xlsx, stretch=True))
        self.result = QLabel("" if self.sample.count() else "本登记库还没有抽取过样本：请先“抽取样本…”。")
        self.result.setWordWrap(True)
        self.result.setObjectName("spotcheckReportResult")
        self.form.addRow(self.result)
        self.ok.setEnabled(self.sample.count() > 0)
        self.ok.clicked.connect(lambda: self.write())
        fit_to_screen(self, (620, 220))

    def write(self, path: Path | None = None) -> None:
        sample_id = self.sample.currentData()
        if path is None:
            pdf = self.pdf.isChecked()
            path = save_path(self.ctx, "spotcheck", "保存抽查报告",
                             "抽查报告.pdf" if pdf else "抽查报告.xlsx", PDF if pdf else XLSX,
                             parent=self)
            if path is None:
                return
        ctx, actor = self.ctx, self.ctx.actor
        self.busy(True)

        def done(report) -> None:
            self.result.setText(f"{report.summary()}\n抽查报告：{path}")
            ctx.status(f"抽查报告已保存：{path}")
            offer_folder(ctx, path)

        Operation(ctx, lambda: write_report(ctx.register, ctx.forms, path, sample_id=sample_id,
                                            actor=actor),
                  title="未能生成抽查报告", writes=True, exclusive="spotcheck").success(done) \
            .on_progress(self.step).finally_(lambda: self.busy(False)).run()
