"""The package file format (docs/architecture.md, "Packages"): nothing here touches a register.

- keys.py: fingerprints and public key files; signing.py: Ed25519; encryption.py: X25519 +
  HKDF-SHA256 + AES-256-GCM for the recipient and the sender.
- manifest.py: the members and the manifest, read strictly; payload.py: the encrypted payload
  of format version 2 (docs/packages.md); zipcheck.py: safe zip reading;
  records.py: record lines, digests, strict reading of received records.
- stats_check.py: a law society's statistics table in its package (stats/<code>.json), read
  strictly and checked against the package's records.
- writer.py: writing packages and return files; reader.py: every check of a package before
  anything is written; errors.py: the refusals, in Chinese.
- provenance.py: who may speak for which unit, at every depth of a package, and the one
  decision of what a register refuses (docs/architecture.md, "Provenance").
"""
