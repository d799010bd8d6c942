"""Signed packages up the review chain 律所 → 市 → 省 → 全国 (DESIGN.md §6), offline, as files.

- keys.py: fingerprints and public key files; signing.py: Ed25519; encryption.py: X25519 +
  HKDF-SHA256 + AES-256-GCM for the recipient and the sender.
- manifest.py: the format (members, manifest, strict reading); zipcheck.py: safe zip reading;
  records.py: record lines, digests, strict reading of received records.
- writer.py: writing packages and return files; reader.py: every check of a package.
- trust.py, outbound.py, merge.py, pipeline.py, returns.py, conflicts.py, dashboard.py: what
  the services in desktop/services/packages.py do with a register (they never commit).

No Qt here, and no printing: the window and the `dengji` command present the results.
"""
