"""Signed packages up the review chain 律所 → 市 → 省 → 全国 (DESIGN.md §6), offline, as files.

- format/: the package file itself — keys, signing, encryption, the manifest, safe zip reading,
  record lines, the society's statistics table, writing packages and return files, and every
  check of a received package (format/__init__.py lists its modules).
- What a level does with packages and its register (these never commit; the use cases in
  desktop/services/packages own the transactions): trust.py (trusted keys), outbound.py (the own
  unit's package), merge.py and pipeline.py (merging received packages; sqlfast.py holds the
  per-package statements run by the driver), returns.py (return files and notes),
  conflicts.py (the same person from two senders), dashboard.py (expected and received units),
  handovers.py (the handovers a sender's audit chain reports), changes.py (what changed
  between a unit's packages: the change reports, and the summary a package carries upward).

No Qt here, and no printing: the window and the `dengji` command present the results.
"""
