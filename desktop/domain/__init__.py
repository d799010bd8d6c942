"""The domain: identifiers, code tables, rules and validation. No Qt, no SQL."""
