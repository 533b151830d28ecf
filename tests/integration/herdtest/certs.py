"""A throw-away certificate authority and a server certificate for 127.0.0.1/localhost,
made with the openssl command line, so the herd talks real TLS to the test upstream."""
import dataclasses
import pathlib
import secrets
import subprocess


@dataclasses.dataclass(frozen=True)
class TestPki:
    ca_file: pathlib.Path       # PEM: the CA certificate the herd is told to trust
    cert_file: pathlib.Path     # PEM: server certificate, signed by the CA
    key_file: pathlib.Path      # PEM: server private key


def _openssl(*args: str, cwd: pathlib.Path) -> None:
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, timeout=30)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")


def make_pki(directory: pathlib.Path) -> TestPki:
    directory.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=herd integration test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    _openssl("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=localhost", cwd=directory)
    (directory / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-set_serial", str(secrets.randbits(63)), "-days", "2",
             "-extfile", "server.ext", "-out", "server.pem", cwd=directory)
    return TestPki(ca_file=directory / "ca.pem", cert_file=directory / "server.pem",
                   key_file=directory / "server.key")
