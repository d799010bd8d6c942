"""The domain: plain functions and frozen dataclasses, no Qt, no SQL, no file reading, and no
import of any other desktop package.

- forms.py: what a form is (FormSet, FormSpec, FieldSpec, code tables, [print] and [summary]),
  built from forms/*.toml by desktop/formspec;
- values.py (typed text to stored values), identifiers.py (ID numbers, credit codes, licences),
  rules/ (the rule functions forms name), validation.py (running them), findings.py and
  messages.py (what a check says), context.py (what rules may look up), keys.py (unique keys),
  levels.py (the review chain's levels), summaries.py (附件4–6 counting), sources.py (a row read
  from a file), digest.py (a record's content digest, which packages and audit entries hold),
  states.py (a record's state codes and the words shown for them);
- society/: the law society's member cleanup — categories and decisions (cleanup.py), duplicate
  finding (dedupe.py), member numbers, the 统计表 (stats.py) and what the papers show (results.py).
"""
