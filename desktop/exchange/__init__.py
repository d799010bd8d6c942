"""Signed packages up the review chain 律所 → 市 → 省 → 全国 (DESIGN.md §6), offline, as files.

- keys.py: fingerprints and public key files; signing.py: Ed25519; encryption.py: X25519 +
  HKDF-SHA256 + AES-256-GCM for the recipient and the sender.
- manifest.py: the format (members, manifest, strict reading); zipcheck.py: safe zip reading;
  records.py: record lines, digests, strict reading of received records.
- writer.py: writing packages and return files; reader.py: every check of a package.
- stats_check.py: a law society's statistics table in its package (stats/<code>.json), read
  strictly and checked against the package's records.
- trust.py, outbound.py, merge.py, pipeline.py, returns.py, conflicts.py, dashboard.py: what
  the services in desktop/services/packages.py (and keys.py, package_merge.py,
  package_review.py, package_stats.py, re-exported there) do with a register (they never
  commit); sqlfast.py: the per-package statements of a merge, run by the driver.

No Qt here, and no printing: the window and the `dengji` command present the results.
"""
