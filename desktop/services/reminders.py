"""Reminders the window gives when a register is opened and a clerk may silence for good
(不再提醒): kept in the register's ``meta`` (``remind.<name>`` = ``off``), so they follow the
register to another computer or clerk, not the computer's settings. Silencing is audited."""

from __future__ import annotations

from desktop.storage import Meta, Register, append_audit

#: the offer of a recovery key to a register that has none or has not confirmed its sheet
RECOVERY_OFFER = "recovery_offer"
REMINDERS = frozenset({RECOVERY_OFFER})


def _key(name: str) -> str:
    if name not in REMINDERS:
        raise ValueError(f"unknown reminder {name!r}")
    return f"remind.{name}"


def is_silenced(register: Register, name: str) -> bool:
    """Whether 不再提醒 was chosen for the reminder `name` in this register."""
    key = _key(name)
    with register.session() as session:
        fact = session.get(Meta, key)
        return fact is not None and fact.value == "off"


def silence(register: Register, name: str, actor: str) -> None:
    """不再提醒: the reminder `name` is not given again for this register."""
    key = _key(name)
    with register.session() as session:
        fact = session.get(Meta, key)
        if fact is not None and fact.value == "off":
            return
        if fact is None:
            session.add(Meta(key=key, value="off"))
        else:
            fact.value = "off"
            session.add(fact)
        append_audit(session, actor, "remind.off", name, {})
        session.commit()
