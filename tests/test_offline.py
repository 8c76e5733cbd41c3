"""Offline by construction: indexing and ask() succeed while every non-loopback connection fails."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT

pytestmark = pytest.mark.slow

# Runs in a fresh interpreter so the guard is in place before any library is imported.
GUARD_SCRIPT = textwrap.dedent('''
    import ipaddress, json, os, socket, sys
    attempts = []

    def _loopback(host):
        if host in ("localhost", "", None):
            return True
        try:
            return ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            return False

    _connect = socket.socket.connect
    def guarded_connect(self, address):
        host = address[0] if isinstance(address, tuple) else None
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(host):
            attempts.append(f"connect {host}")
            raise OSError(101, "network unreachable (test guard)")
        return _connect(self, address)
    socket.socket.connect = guarded_connect

    _getaddrinfo = socket.getaddrinfo
    def guarded_getaddrinfo(host, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode()
        if not _loopback(host):
            attempts.append(f"resolve {host}")
            raise socket.gaierror(-3, "name resolution blocked (test guard)")
        return _getaddrinfo(host, *args, **kwargs)
    socket.getaddrinfo = guarded_getaddrinfo

    # Like a user's shell: nothing set but what the package sets itself.
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "ANONYMIZED_TELEMETRY"):
        os.environ.pop(key, None)

    from pathlib import Path
    from assistant import Assistant, load_settings
    settings = load_settings(store={"path": Path(sys.argv[1]), "collection": "offline-check"})
    engine = Assistant(settings)
    report = engine.index()
    answer = engine.ask("In which city in Poland did the Ukrainian delegation meet NATO representatives?")
    print(json.dumps({"attempts": attempts, "documents": report.documents, "answer": answer.text,
                      "cited": [c.source for c in answer.citations],
                      "hf_offline": os.environ.get("HF_HUB_OFFLINE")}))
''')


def test_index_and_ask_with_network_blocked(tmp_path: Path):
    result = subprocess.run([sys.executable, "-c", GUARD_SCRIPT, str(tmp_path / "store")], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["attempts"] == [], f"tried to reach the network: {outcome['attempts']}"
    assert outcome["hf_offline"] == "1"
    assert outcome["documents"] == 5 and "Bydgoszcz" in outcome["answer"] and outcome["cited"]
