"""The 打印 menu: previewing and printing a record, a whole form, the summaries 附件4–6 and, for
a 法学会, the 统计表 and the 通报 (actions.py); the preview dialog with its page and thumbnail
views (preview.py, view.py), rendering PDF pages (render.py), the print job on a worker (job.py)
and what may be printed (sources.py). The PDFs are made by services/printing."""
