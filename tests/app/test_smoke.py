"""`dengji --smoke-test` from the source tree, as a user (or `make bundle`) runs it."""

import os
import subprocess
import sys


def test_smoke_test_passes_from_the_source_tree(tmp_path):
    env = dict(os.environ, DENGJI_HOME=str(tmp_path / "home"))
    env.pop("DENGJI_PASSPHRASE", None)
    proc = subprocess.run([sys.executable, "-m", "desktop", "--smoke-test"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "自检通过" in proc.stdout
    assert "附件1 律师党员基本信息登记表" in proc.stdout
    # nothing was left in the user's data folder
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").rglob("*.dengji"))
