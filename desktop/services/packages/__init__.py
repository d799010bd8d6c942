"""Packages (DESIGN.md §6): the own unit's signed, encrypted package and everything a receiving
level does with packages from below.

This package owns the use cases; the file format, signing and trust rules are desktop/exchange.

- export.py: check the own records and export the own unit's package;
- keys.py: show, export and trust public keys; the recipient of the own package;
- merge.py: verify and merge received packages and return files;
- review.py: accept and return, expected units, the dashboard, conflicts, return notes, the
  changes of units' details to confirm;
- records.py: what the review dialogs show of a received package's records;
- changes.py: change reports — a unit's package against the one it supersedes, the own
  records against the last sent package, the summary an export carries, the workbook;
- anchors.py: the audit anchors of the senders' chains (list; forget one, audited);
- files.py: the workbooks and PDFs a package carries; stats.py: the society's statistics table
  a package carries; io.py: reading and writing package files.

The window and the `dengji` command import the use cases from here; modules of this package
import each other directly. UI-free: long use cases are generators that yield Progress and own
their transaction(s).
"""

from desktop.services.packages.export import (
    BlockerRecord,
    ExportBlocked,
    ExportResult,
    blocker_records,
    check_own_records,
    drafts_beside,
    export_check,
    export_package,
    last_sent_package,
)
from desktop.services.packages.keys import (
    Recipient,
    choose_recipient,
    export_public_key,
    export_recipient,
    key_info_of_file,
    list_trusted,
    own_public_key,
    trust_key,
)
from desktop.services.packages.merge import MergeReport, merge_packages, verify_file
from desktop.services.packages.review import (
    accept_package,
    add_expected_unit,
    confirm_unit_change,
    dashboard,
    import_expected_units,
    list_conflicts,
    received_packages,
    record_notes,
    resolve_conflict,
    return_package,
    unit_changes,
)

__all__ = [
    "BlockerRecord", "ExportBlocked", "ExportResult", "MergeReport", "Recipient",
    "accept_package", "add_expected_unit", "blocker_records", "check_own_records",
    "choose_recipient", "confirm_unit_change", "dashboard", "drafts_beside", "export_check", "export_package",
    "export_public_key", "export_recipient", "import_expected_units", "last_sent_package",
    "key_info_of_file", "list_conflicts", "list_trusted", "merge_packages", "own_public_key",
    "received_packages", "record_notes", "resolve_conflict", "return_package", "trust_key",
    "unit_changes", "verify_file",
]
