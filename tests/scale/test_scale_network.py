"""Safe on a network and plugged into Dask's own deployments (issue 21, items 4 and 5): a
TLS-only cluster on loopback with certificates made here (openssl), the client's certificate
given through Dask's `distributed.comm.tls` settings; the scheduler's address read from a
scheduler file; and the two address options excluding each other."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from scale_helpers import FIXTURES, Cluster, audit_cli, strip_run

DEMO = FIXTURES / "demo"


def _certificates(folder: Path) -> dict[str, Path]:
    """A throw-away CA and one certificate it signed for 127.0.0.1 (scheduler, workers and
    client share it here; a deployment gives each its own)."""
    folder.mkdir()
    ca, key, csr, cert = (folder / n for n in ("ca.pem", "node.key", "node.csr", "node.pem"))
    ext = folder / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")

    def ossl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=120)

    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(folder / "ca.key"),
         "-out", str(ca), "-days", "1", "-subj", "/CN=auditor test CA")  # fmt: skip
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
         "-subj", "/CN=127.0.0.1")  # fmt: skip
    ossl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(folder / "ca.key"),
         "-CAcreateserial", "-out", str(cert), "-days", "1", "-extfile", str(ext))  # fmt: skip
    return {"ca": ca, "cert": cert, "key": key}


@pytest.fixture(scope="module")
def local_demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("local-demo") / "report.json"
    done = audit_cli(DEMO, out, "--workers", "1")
    assert done.returncode == 0, done.stderr
    return out.read_text()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_tls_cluster(tmp_path: Path, local_demo: str) -> None:
    from distributed.security import Security

    pem = _certificates(tmp_path / "tls")
    tls = ["--tls-ca-file", str(pem["ca"]), "--tls-cert", str(pem["cert"])]
    tls += ["--tls-key", str(pem["key"])]
    cluster = Cluster(tmp_path / "cluster")
    cluster.folder.mkdir()
    try:
        cluster.start_scheduler("--protocol", "tls", *tls, scheme="tls")
        cluster.start_worker(None, *tls, scheme="tls")
        cluster.wait(
            1,
            security=Security(
                tls_ca_file=str(pem["ca"]),
                tls_client_cert=str(pem["cert"]),
                tls_client_key=str(pem["key"]),
                require_encryption=True,
            ),
        )
        assert cluster.address.startswith("tls://127.0.0.1:")
        config = {
            "DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION": "True",
            "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": str(pem["ca"]),
            "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": str(pem["cert"]),
            "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": str(pem["key"]),
        }
        out = tmp_path / "report.json"
        done = audit_cli(DEMO, out, "--scheduler", cluster.address, env=config)
        assert done.returncode == 0, done.stderr + cluster.log_text()
        assert strip_run(out.read_text()) == strip_run(local_demo)
        # without the client certificate the TLS-only scheduler cannot be used: one line, exit 2
        out.unlink()
        done = audit_cli(DEMO, out, "--scheduler", cluster.address, "--scheduler-timeout", "5")
        assert done.returncode == 2
        assert f"cannot reach the Dask scheduler at {cluster.address}" in done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        assert not out.exists()
    finally:
        cluster.stop()


def test_scheduler_file(tmp_path: Path, local_demo: str) -> None:
    """`dask scheduler --scheduler-file` writes the file; workers and the audit read it."""
    sched_file = tmp_path / "scheduler.json"
    cluster = Cluster(tmp_path / "cluster")
    cluster.folder.mkdir()
    try:
        cluster.start_scheduler("--scheduler-file", str(sched_file))
        cluster.start_worker()
        cluster.wait(1)
        out = tmp_path / "report.json"
        done = audit_cli(DEMO, out, "--scheduler-file", str(sched_file))
        assert done.returncode == 0, done.stderr + cluster.log_text()
        assert strip_run(out.read_text()) == strip_run(local_demo)
        assert f'"scheduler": "{cluster.address}"' in out.read_text()
    finally:
        cluster.stop()


def test_scheduler_file_problems(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    done = audit_cli(
        DEMO, out, "--scheduler", "local", "--scheduler-file", str(tmp_path / "s.json")
    )
    assert done.returncode == 2 and "--scheduler and --scheduler-file exclude each other" in (
        done.stderr
    )
    done = audit_cli(
        DEMO, out, "--scheduler-file", str(tmp_path / "missing.json"), "--scheduler-timeout", "3"
    )
    assert done.returncode == 2, done.stderr
    assert "cannot reach the Dask scheduler at (scheduler file" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()
