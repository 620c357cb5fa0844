"""What tests/conftest.py changes for speed stays inside the tests: mdboard run as a
program of its own works as it would for a user."""

from __future__ import annotations

import subprocess
import sys


def test_passwords_are_hashed_at_full_cost_outside_the_tests():
    code = "from mdboard.serve import accounts\nprint(accounts.hash_password('店铺密码-2026'))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    stored = proc.stdout.strip()
    assert stored.startswith("scrypt$16384$8$1$"), stored
    from mdboard.serve import accounts

    # the cheaper hashing of this process checks a full-cost hash at the cost it names
    assert accounts.password_matches(stored, "店铺密码-2026")
    assert not accounts.password_matches(stored, "店铺密码-2025")
    assert accounts.hash_password("x" * 8).startswith("scrypt$1024$8$1$")
