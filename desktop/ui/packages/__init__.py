"""The 上报 feature's window side: the 上报 menu and package drops (actions), exporting and
importing packages, trusting a sender's key, the 收件看板, returning with comments, and the
conflicts dialog. The work itself is in desktop/services/packages."""
