"""Every PDF the program prints, with the embedded CJK font: no SQL, no register.

fonts (the font, measuring and wrapping), page (footer, QR code, signature lines, stamp box),
qr (the page's QR code), content (what a record page shows and its print hash), record (a
record laid out like the paper form), table (landscape tables: 附件4–6, the 统计表), cover (the
package cover), cleanup (the 统计表 and 通报 of the member cleanup), handover (the 移交清单).
"""
